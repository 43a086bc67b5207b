package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// clusterNode is the fixed identity of one server of a process cluster:
// its ports and data dir survive a restart.
type clusterNode struct {
	name                           string
	httpPort, serverPort, serfPort int
	dataDir                        string
	proc                           *agentProc
}

// args are the flags of the node: three servers that find each other with
// -retry-join and bootstrap once all three are there.
func (n *clusterNode) args(all []*clusterNode) []string {
	args := []string{"agent", "-server", "-bootstrap-expect=3", "-node", n.name,
		"-data-dir", n.dataDir, "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", itoa(n.httpPort), "-server-port", itoa(n.serverPort), "-serf-lan-port", itoa(n.serfPort),
		"-retry-interval", "1s", "-log-level", "info"}
	for _, o := range all {
		if o != n {
			args = append(args, "-retry-join", fmt.Sprintf("127.0.0.1:%d", o.serfPort))
		}
	}
	return args
}

func (n *clusterNode) start(t *testing.T, all []*clusterNode) {
	n.proc = spawn(t, n.args(all), n.httpPort, n.dataDir)
}

// startCluster starts three server processes and waits until every one
// knows the same leader and three voters.
func startCluster(t *testing.T) []*clusterNode {
	t.Helper()
	var nodes []*clusterNode
	for i := 0; i < 3; i++ {
		nodes = append(nodes, &clusterNode{name: fmt.Sprintf("node%d", i), httpPort: freePort(t),
			serverPort: freePort(t), serfPort: freePort(t), dataDir: filepath.Join(t.TempDir(), "data")})
	}
	for _, n := range nodes {
		n.start(t, nodes)
	}
	waitForOneLeader(t, nodes)
	return nodes
}

// waitForOneLeader waits until every running node reports the same leader
// and three peers, and can serve a read; it returns the leader's node.
func waitForOneLeader(t *testing.T, nodes []*clusterNode) *clusterNode {
	t.Helper()
	var leader *clusterNode
	testutil.Retry(t, 30*time.Second, "one leader that every node knows", func() error {
		var err error
		leader, err = agreedLeader(nodes)
		return err
	})
	return leader
}

// agreedLeader is the node that every running node reports as leader,
// with three peers, while serving a read.
func agreedLeader(nodes []*clusterNode) (*clusterNode, error) {
	var addr string
	for _, n := range nodes {
		select {
		case <-n.proc.Exited():
			continue
		default:
		}
		c := n.proc.client()
		l, err := c.Status().Leader()
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", n.name, err)
		case l == "":
			return nil, fmt.Errorf("%s knows no leader", n.name)
		case addr != "" && l != addr:
			return nil, fmt.Errorf("%s says %s leads, another node %s", n.name, l, addr)
		}
		addr = l
		peers, err := c.Status().Peers()
		if err != nil || len(peers) != 3 {
			return nil, fmt.Errorf("%s: peers %v %v", n.name, peers, err)
		}
		if _, _, err := c.KV().Get("probe", nil); err != nil {
			return nil, fmt.Errorf("%s: read: %w", n.name, err)
		}
	}
	for _, n := range nodes {
		if addr == fmt.Sprintf("127.0.0.1:%d", n.serverPort) {
			return n, nil
		}
	}
	return nil, fmt.Errorf("the leader %q is none of the running nodes", addr)
}

func followersOf(nodes []*clusterNode, leader *clusterNode) []*clusterNode {
	var out []*clusterNode
	for _, n := range nodes {
		if n != leader {
			out = append(out, n)
		}
	}
	return out
}

// waitForValue waits until c holds key=value in a stale read.
func waitForValue(t *testing.T, c *api.Client, key, value string) {
	t.Helper()
	testutil.Retry(t, 20*time.Second, fmt.Sprintf("%s = %q", key, value), func() error {
		p, _, err := c.KV().Get(key, &api.QueryOptions{AllowStale: true})
		if err == nil && (p == nil || string(p.Value) != value) {
			err = fmt.Errorf("%s is %v", key, p)
		}
		return err
	})
}

func TestClusterFormsAndServesEverywhere(t *testing.T) {
	nodes := startCluster(t)
	leader := waitForOneLeader(t, nodes)
	for i, n := range nodes {
		if _, err := n.proc.client().KV().Put(&api.KVPair{Key: fmt.Sprintf("w/%d", i), Value: []byte(n.name)}, nil); err != nil {
			t.Fatalf("write through %s: %v", n.name, err)
		}
	}
	for _, n := range nodes {
		for i, w := range nodes {
			p, _, err := n.proc.client().KV().Get(fmt.Sprintf("w/%d", i), nil)
			if err != nil || p == nil || string(p.Value) != w.name {
				t.Fatalf("read w/%d through %s: %v %v", i, n.name, p, err)
			}
		}
	}
	for _, f := range followersOf(nodes, leader) {
		p, meta, err := f.proc.client().KV().Get("w/0", &api.QueryOptions{AllowStale: true})
		if err != nil || p == nil || !meta.KnownLeader {
			t.Fatalf("stale read on %s: %v %v %+v", f.name, p, err, meta)
		}
		out, code := f.proc.runCLI("operator", "raft", "list-peers")
		if code != 0 || strings.Count(out, "127.0.0.1:") != 3 || !strings.Contains(out, "leader") {
			t.Fatalf("list-peers on %s: %s", f.name, out)
		}
	}
}

// TestClusterLeaderKilled: kill -9 the leader while writers run; a new
// leader takes over, no acknowledged write is lost, and the old leader
// rejoins and catches up when restarted.
func TestClusterLeaderKilled(t *testing.T) {
	nodes := startCluster(t)
	leader := waitForOneLeader(t, nodes)
	survivors := followersOf(nodes, leader)

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w, n := range survivors {
		wg.Add(1)
		go func(w int, c *api.Client) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("acked/%d/%d", w, i)
				if _, err := c.KV().Put(&api.KVPair{Key: key, Value: []byte("v")}, nil); err == nil {
					mu.Lock()
					acked[key] = true
					mu.Unlock()
				}
			}
		}(w, n.proc.client())
	}
	time.Sleep(500 * time.Millisecond)
	killedAt := time.Now()
	leader.proc.Kill()
	newLeader := waitForOneLeader(t, survivors)
	if newLeader == leader {
		t.Fatal("the killed node is still reported leader")
	}
	t.Logf("new leader %s after %s", newLeader.name, time.Since(killedAt).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes were acknowledged", len(acked))
	}

	leader.start(t, nodes)
	waitForOneLeader(t, nodes)
	for _, n := range nodes {
		var pairs api.KVPairs
		testutil.Retry(t, 20*time.Second, n.name+" holds as many writes as were acknowledged", func() error {
			var err error
			pairs, _, err = n.proc.client().KV().List("acked/", &api.QueryOptions{AllowStale: true})
			if err == nil && len(pairs) < len(acked) {
				err = fmt.Errorf("%d of %d", len(pairs), len(acked))
			}
			return err
		})
		have := map[string]bool{}
		for _, p := range pairs {
			have[p.Key] = true
		}
		for k := range acked {
			if !have[k] {
				t.Fatalf("%s lost acknowledged write %s", n.name, k)
			}
		}
	}
}

// TestClusterSnapshotThroughFollower: a save through a follower equals one
// through the leader at the same index; a restore through a follower
// reaches all three, including one that was down during it.
func TestClusterSnapshotThroughFollower(t *testing.T) {
	nodes := startCluster(t)
	leader := waitForOneLeader(t, nodes)
	followers := followersOf(nodes, leader)
	lc, fc := leader.proc.client(), followers[0].proc.client()
	for i := 0; i < 100; i++ {
		if _, err := fc.KV().Put(&api.KVPair{Key: fmt.Sprintf("snap/%03d", i), Value: []byte("saved")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	fromFollower, fIdx := saveArchive(t, fc)
	fromLeader, lIdx := saveArchive(t, lc)
	if fIdx != lIdx || !bytes.Equal(stateOf(t, fromFollower), stateOf(t, fromLeader)) {
		t.Fatalf("follower's archive (index %d) differs from the leader's (index %d)", fIdx, lIdx)
	}

	down := followers[1]
	down.proc.Stop()
	for i := 0; i < 100; i++ {
		if _, err := lc.KV().Put(&api.KVPair{Key: fmt.Sprintf("snap/%03d", i), Value: []byte("overwritten")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := fc.Snapshot().Restore(nil, bytes.NewReader(fromFollower)); err != nil {
		t.Fatal(err)
	}
	waitForValue(t, lc, "snap/050", "saved")
	waitForValue(t, fc, "snap/050", "saved")
	down.start(t, nodes)
	waitForValue(t, down.proc.client(), "snap/050", "saved")
	waitForValue(t, down.proc.client(), "snap/099", "saved")
}

// TestSaveThroughFollowerBreaksWhenLeaderKilled: a save streams from the
// leader through a follower; when the leader is killed (SIGKILL) midway,
// the follower breaks the client's connection instead of ending the body
// cleanly, so the client sees an error and never a short archive that
// looks complete.
func TestSaveThroughFollowerBreaksWhenLeaderKilled(t *testing.T) {
	nodes := startCluster(t)
	leader := waitForOneLeader(t, nodes)
	follower := followersOf(nodes, leader)[0]
	lc := leader.proc.client()
	// 16 MB of random values: far more than the buffers between the
	// leader and a client that reads slowly.
	value := make([]byte, 2048)
	for batch := 0; batch < 128; batch++ {
		var ops api.TxnOps
		for i := 0; i < 64; i++ {
			rand.Read(value)
			ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: fmt.Sprintf("big/%03d/%02d", batch, i), Value: bytes.Clone(value)}})
		}
		if ok, resp, _, err := lc.Txn().Txn(ops, nil); err != nil || !ok {
			t.Fatalf("load: %v %v", err, resp)
		}
	}

	resp, err := http.Get(follower.proc.URL("/v1/snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	var got int64
	buf := make([]byte, 64<<10)
	for got < 1<<20 {
		n, err := resp.Body.Read(buf)
		got += int64(n)
		if err != nil {
			t.Fatalf("save failed before the leader was killed: %v", err)
		}
	}
	leader.proc.Kill()
	n, err := io.Copy(io.Discard, resp.Body)
	got += n
	if err == nil {
		t.Fatalf("the body ended cleanly after %d bytes although the leader died mid-save", got)
	}
	if resp.Trailer.Get("X-Consul-Snapshot-Sha256") != "" {
		t.Fatal("a broken save carries the archive's sum")
	}
	t.Logf("client saw %d bytes, then: %v", got, err)
}

func saveArchive(t *testing.T, c *api.Client) ([]byte, uint64) {
	t.Helper()
	body, meta, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	archive, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return archive, meta.LastIndex
}
