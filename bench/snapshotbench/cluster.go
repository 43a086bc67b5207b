package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// The marker: the archive holds markerKey = markerInArchive, and before
// each restore into the cluster it came from every server holds
// markerChanged instead (a fresh cluster holds no marker at all), so
// that a server that serves markerInArchive again serves the restored
// state.
const (
	markerKey       = "snapshotbench/marker"
	markerInArchive = "in the archive"
	markerChanged   = "changed after the save"
)

const (
	// pollInterval is the time between two reads of the marker on one
	// server.
	pollInterval = 5 * time.Millisecond
	// serveTimeout bounds the wait for every server to serve a value of
	// the marker.
	serveTimeout = 10 * time.Minute
	// agreeTimeout bounds the wait for the servers of a new cluster to
	// agree on a leader, once each knows one.
	agreeTimeout = 30 * time.Second
)

// benchCluster times restores into a cluster of cfg.servers servers,
// through its leader: into the cluster the archive was saved from, and
// into a freshly started cluster for each round, as a disaster recovery
// does.
func benchCluster(cfg config) {
	c, stop := startCluster(cfg.bin, "bench", cfg.servers)
	loadTime := loadKeys(c.leader.URL(""), cfg)
	c.put(markerInArchive)
	var archive bytes.Buffer
	saveSnapshot(c.leader.URL(""), &archive)
	put, served := restoreRounds(cfg.rounds, func() (phaseResult, phaseResult) {
		c.put(markerChanged)
		c.servedAfter(time.Now(), markerChanged)
		return c.restore(archive.Bytes())
	})
	// The fresh clusters have the machine to themselves.
	stop()
	var freshPut, freshServed phaseResult
	if cfg.fresh {
		freshPut, freshServed = restoreRounds(cfg.rounds, func() (phaseResult, phaseResult) {
			f, stop := startCluster(cfg.bin, "fresh", cfg.servers)
			defer stop()
			return f.restore(archive.Bytes())
		})
	}
	shaMBps := sha256Throughput(256 << 20)

	rate := func(r phaseResult) string {
		return fmt.Sprintf("%.1f MB/s (%s)", mbps(archive.Len(), r.elapsed), r.elapsed.Round(time.Millisecond))
	}
	ratios := func(put, served phaseResult) string {
		return fmt.Sprintf("%.3f for the PUT, %.3f until all serve",
			mbps(archive.Len(), put.elapsed)/shaMBps, mbps(archive.Len(), served.elapsed)/shaMBps)
	}
	fmt.Printf("servers                   %d processes on loopback, keys loaded and restored through the leader\n", cfg.servers)
	printLoad(cfg, loadTime, archive.Len())
	fmt.Printf("rounds                    %d (medians)\n", cfg.rounds)
	fmt.Printf("restore, the PUT          %s\n", rate(put))
	fmt.Printf("restore, until all serve  %s\n", rate(served))
	if cfg.fresh {
		fmt.Printf("fresh cluster, the PUT    %s\n", rate(freshPut))
		fmt.Printf("fresh, until all serve    %s\n", rate(freshServed))
	}
	fmt.Printf("Go SHA-256                %.0f MB/s\n", shaMBps)
	fmt.Printf("restore / SHA-256         %s\n", ratios(put, served))
	if cfg.fresh {
		fmt.Printf("fresh / SHA-256           %s\n", ratios(freshPut, freshServed))
	}
}

// restoreRounds runs round rounds times and returns the medians of the
// times it returns: a restore's PUT, and the time until all serve.
func restoreRounds(rounds int, round func() (put, served phaseResult)) (put, served phaseResult) {
	var puts, serves []phaseResult
	for i := 0; i < rounds; i++ {
		p, s := round()
		puts, serves = append(puts, p), append(serves, s)
	}
	return summary(puts), summary(serves)
}

// cluster is a cluster of server processes.
type cluster struct {
	servers []*server
	leader  *server
}

// server is one server process of a cluster.
type server struct {
	*agentproc.Agent
	client *api.Client
	// rpcAddr is the address of its server RPC port, by which
	// /v1/status/leader names a leader.
	rpcAddr string
}

// startCluster starts n servers named name0, name1, ..., on free
// loopback ports with their data in new temp dirs, that find each other
// with -retry-join and bootstrap once all n are there, as e2e's
// clusterNode does; it waits until every server serves reads and knows
// the same leader and n voters. stop stops them and removes their dirs.
func startCluster(bin, name string, n int) (c *cluster, stop func()) {
	c = &cluster{}
	stop = func() {
		for _, s := range c.servers {
			s.Stop()
			os.RemoveAll(s.DataDir)
		}
	}
	httpPorts, rpcPorts, serfPorts := freePorts(n), freePorts(n), freePorts(n)
	for i := 0; i < n; i++ {
		dir, err := os.MkdirTemp("", "snapshotbench-"+name+"-")
		check(err)
		args := []string{"agent", "-server", "-bootstrap-expect", strconv.Itoa(n), "-node", name + strconv.Itoa(i),
			"-data-dir", dir, "-bind", "127.0.0.1", "-client", "127.0.0.1",
			"-http-port", strconv.Itoa(httpPorts[i]), "-server-port", strconv.Itoa(rpcPorts[i]),
			"-serf-lan-port", strconv.Itoa(serfPorts[i]), "-serf-wan-port", "0",
			"-retry-interval", "1s", "-log-level", "warn"}
		for j, port := range serfPorts {
			if j != i {
				args = append(args, "-retry-join", "127.0.0.1:"+strconv.Itoa(port))
			}
		}
		a, err := agentproc.Spawn(exec.Command(bin, args...), httpPorts[i], dir)
		if err != nil {
			os.RemoveAll(dir)
			stop()
			log.Fatal(err)
		}
		client, err := api.NewClient(a.APIConfig())
		check(err)
		c.servers = append(c.servers, &server{Agent: a, client: client, rpcAddr: "127.0.0.1:" + strconv.Itoa(rpcPorts[i])})
	}
	for _, s := range c.servers {
		if err := s.WaitForLeader(); err != nil {
			c.fail(stop, fmt.Errorf("%s: %w", s.rpcAddr, err))
		}
	}
	if err := testutil.Wait(agreeTimeout, c.findLeader); err != nil {
		c.fail(stop, fmt.Errorf("no leader that all %d servers know within %v: %v", n, agreeTimeout, err))
	}
	return c, stop
}

// fail stops the cluster and ends the tool with err and what every
// server has said: a cluster that does not form may be any server's
// fault.
func (c *cluster) fail(stop func(), err error) {
	var out strings.Builder
	for _, s := range c.servers {
		fmt.Fprintf(&out, "\n%s:\n%s", s.rpcAddr, s.Output())
	}
	stop()
	log.Fatalf("%v\nthe servers' output:%s", err, out.String())
}

// freePorts asks the kernel for n free loopback ports.
func freePorts(n int) []int {
	ports := make([]int, n)
	for i := range ports {
		port, err := agentproc.FreePort()
		check(err)
		ports[i] = port
	}
	return ports
}

// findLeader sets c.leader to the server that every server names as
// leader, with as many voters as c has servers; it tells why there is
// none yet, if there is none.
func (c *cluster) findLeader() error {
	var addr string
	for _, s := range c.servers {
		l, err := s.client.Status().Leader()
		if err != nil {
			return err
		}
		if addr != "" && l != addr {
			return fmt.Errorf("%s and %s are both named leader", addr, l)
		}
		addr = l
		peers, err := s.client.Status().Peers()
		if err != nil {
			return err
		}
		if len(peers) != len(c.servers) {
			return fmt.Errorf("%s knows %d voters", s.rpcAddr, len(peers))
		}
	}
	for _, s := range c.servers {
		if s.rpcAddr == addr {
			c.leader = s
			return nil
		}
	}
	return fmt.Errorf("the leader %q is none of the servers", addr)
}

// put sets the marker to value through the leader.
func (c *cluster) put(value string) {
	_, err := c.leader.client.KV().Put(&api.KVPair{Key: markerKey, Value: []byte(value)}, nil)
	check(err)
}

// restore restores archive through the leader. put is the PUT's own
// time; served is the time from the PUT's start until every server
// serves the archive's marker.
func (c *cluster) restore(archive []byte) (put, served phaseResult) {
	start := time.Now()
	done := make(chan time.Duration)
	go func() { done <- c.servedAfter(start, markerInArchive) }()
	put = restoreSnapshot(c.leader.URL(""), archive)
	return put, phaseResult{elapsed: <-done}
}

// servedAfter polls every server at once until each serves the marker
// as value, and returns the time from start until the last one did.
func (c *cluster) servedAfter(start time.Time, value string) time.Duration {
	after := make([]time.Duration, len(c.servers))
	var wg sync.WaitGroup
	for i, s := range c.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after[i] = s.servedAfter(start, value)
		}()
	}
	wg.Wait()
	return slices.Max(after)
}

// servedAfter reads the marker every pollInterval, a stale read that the
// server answers from its own state, until it is value; it returns the
// time from start until then.
func (s *server) servedAfter(start time.Time, value string) time.Duration {
	for {
		p, _, err := s.client.KV().Get(markerKey, &api.QueryOptions{AllowStale: true})
		if err == nil && p != nil && string(p.Value) == value {
			return time.Since(start)
		}
		if time.Since(start) > serveTimeout {
			log.Fatalf("%s does not serve %s = %q %v after the start: %v %v\n%s", s.rpcAddr, markerKey, value, serveTimeout, p, err, s.Output())
		}
		time.Sleep(pollInterval)
	}
}
