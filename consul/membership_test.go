package consul

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/serf/serf"
)

// testCluster is n servers in-process, each with bootstrap_expect=n, real
// Serf on loopback and real Raft on boltdb in temp dirs, joined to each
// other. Servers may be stopped and started again on the same ports and
// data dirs.
type testCluster struct {
	t       *testing.T
	configs []*Config
	servers []*Server // nil while stopped
}

// newTestCluster starts n servers with bootstrap_expect=expect, joins each
// to the first, and stops them all when the test ends. It checks, once
// they are stopped, that no goroutine of theirs is left.
func newTestCluster(t *testing.T, n, expect int) *testCluster {
	t.Helper()
	testutil.CheckLeaks(t)
	c := &testCluster{t: t}
	for i := 0; i < n; i++ {
		c.configs = append(c.configs, clusterConfig(t, fmt.Sprintf("s%d", i+1), expect))
		c.servers = append(c.servers, nil)
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.servers {
			c.stop(i)
		}
	})
	for i := 1; i < n; i++ {
		c.join(i, 0)
	}
	return c
}

// clusterConfig is a server of a cluster of expect servers.
func clusterConfig(t *testing.T, name string, expect int) *Config {
	t.Helper()
	c := DefaultConfig()
	c.NodeName = name
	c.DataDir = t.TempDir()
	c.BootstrapExpect = expect
	c.Build = "test"
	c.RPCAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}
	testSerfConfig(c)
	c.RaftConfig.HeartbeatTimeout = 100 * time.Millisecond
	c.RaftConfig.ElectionTimeout = 100 * time.Millisecond
	c.RaftConfig.LeaderLeaseTimeout = 100 * time.Millisecond
	c.ReconcileInterval = time.Second
	c.RPCHoldTimeout = 5 * time.Second
	return c
}

// start starts server i. After its first start, its config holds the
// ports it bound, so that a restart binds the same ones, as a real
// server's configured ports would.
func (c *testCluster) start(i int) *Server {
	c.t.Helper()
	cfg := c.configs[i]
	w := &testWriter{t: c.t}
	c.t.Cleanup(w.stop)
	logger := hclog.New(&hclog.LoggerOptions{Name: cfg.NodeName, Level: hclog.Info, Output: w})
	s, err := NewServer(cfg, logger)
	if err != nil {
		c.t.Fatalf("start %s: %v", cfg.NodeName, err)
	}
	cfg.RPCAddr = s.RPCAddr().(*net.TCPAddr)
	cfg.SerfLANConfig.MemberlistConfig.BindPort = int(s.LocalMember().Port)
	c.servers[i] = s
	return s
}

// stop shuts server i down without leaving.
func (c *testCluster) stop(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		c.servers[i] = nil
	}
}

// join makes server i join server j's Serf.
func (c *testCluster) join(i, j int) {
	c.t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", c.servers[j].LocalMember().Port)
	if _, err := c.servers[i].JoinLAN([]string{addr}); err != nil {
		c.t.Fatalf("join %s to %s: %v", c.configs[i].NodeName, addr, err)
	}
}

// running returns the servers that are up.
func (c *testCluster) running() []*Server {
	var out []*Server
	for _, s := range c.servers {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// waitForStableLeader waits until exactly one running server leads, every
// running server knows it, and every running server's Raft configuration
// holds exactly the voters named. It returns the leader.
func (c *testCluster) waitForStableLeader(voters ...string) *Server {
	c.t.Helper()
	sort.Strings(voters)
	want := strings.Join(voters, ",")
	var leader *Server
	testutil.Retry(c.t, 15*time.Second, "one leader that every server knows, with voters "+want, func() error {
		leader = nil
		for _, s := range c.running() {
			if s.IsLeader() {
				if leader != nil {
					return fmt.Errorf("two leaders: %s and %s", leader.config.NodeName, s.config.NodeName)
				}
				leader = s
			}
		}
		if leader == nil {
			return fmt.Errorf("no leader")
		}
		for _, s := range c.running() {
			_, id := s.raft.LeaderWithID()
			if string(id) != leader.config.NodeName {
				return fmt.Errorf("%s sees leader %q, not %s", s.config.NodeName, id, leader.config.NodeName)
			}
			if got := raftVoterNames(s); got != want {
				return fmt.Errorf("%s has voters %s, want %s", s.config.NodeName, got, want)
			}
		}
		return nil
	})
	return leader
}

// raftVoterNames lists the voters of s's latest Raft configuration.
func raftVoterNames(s *Server) string {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return "error: " + f.Error().Error()
	}
	var ids []string
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			ids = append(ids, string(srv.ID))
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// staleGet reads a key from s's own state, leader or not.
func staleGet(t *testing.T, s *Server, key string) *structs.DirEntry {
	t.Helper()
	var out structs.IndexedDirEntries
	args := structs.KeyRequest{Key: key, QueryOptions: structs.QueryOptions{AllowStale: true}}
	if err := s.RPC("KVS.Get", &args, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Entries) == 0 {
		return nil
	}
	return out.Entries[0]
}

func TestClusterOfThreeFormsOneRaftCluster(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	leader := c.waitForStableLeader("s1", "s2", "s3")

	kvPut(t, leader, "k", "v")
	for _, s := range c.running() {
		testutil.Retry(t, 5*time.Second, "the write reaches every server", func() error {
			if e := staleGet(t, s, "k"); e == nil || string(e.Value) != "v" {
				return fmt.Errorf("%s has %+v", s.config.NodeName, e)
			}
			return nil
		})
		// Each server knows the others as live servers, by RPC address.
		for _, other := range c.running() {
			addr, ok := s.servers.rpcAddr(other.config.NodeName)
			if !ok || addr != other.RPCAddr().String() {
				t.Errorf("%s: server %s at %q (%v), want %s", s.config.NodeName, other.config.NodeName, addr, ok, other.RPCAddr())
			}
		}
	}

	tags := leader.LocalMember().Tags
	for k, want := range map[string]string{
		"role": "consul", "dc": "dc1", "expect": "3", "id": leader.config.NodeName,
		"port": fmt.Sprint(leader.RPCAddr().(*net.TCPAddr).Port), "vsn": "2", "raft_vsn": "3", "build": "test",
	} {
		if tags[k] != want {
			t.Errorf("tag %s = %q, want %q (all: %v)", k, tags[k], want, tags)
		}
	}
}

func TestClusterFollowerLeaves(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	leader := c.waitForStableLeader("s1", "s2", "s3")
	i := c.indexOfFollower(leader)
	name := c.configs[i].NodeName

	if err := c.servers[i].Leave(); err != nil {
		t.Fatal(err)
	}
	c.stop(i)
	var rest []string
	for _, s := range c.running() {
		rest = append(rest, s.config.NodeName)
	}
	leader = c.waitForStableLeader(rest...)
	kvPut(t, leader, "after", "leave")
	testutil.Retry(t, 5*time.Second, "the leader sees the server left", func() error {
		for _, m := range leader.LANMembers() {
			if m.Name == name && m.Status != serf.StatusLeft {
				return fmt.Errorf("%s is %s", name, m.Status)
			}
		}
		return nil
	})
}

func TestClusterLeaderLeaves(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	leader := c.waitForStableLeader("s1", "s2", "s3")
	i := c.indexOf(leader)

	if err := leader.Leave(); err != nil {
		t.Fatal(err)
	}
	c.stop(i)
	var rest []string
	for _, s := range c.running() {
		rest = append(rest, s.config.NodeName)
	}
	next := c.waitForStableLeader(rest...)
	kvPut(t, next, "after", "leave")
}

func TestClusterLeaderRestartsAndCatchesUp(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	leader := c.waitForStableLeader("s1", "s2", "s3")
	kvPut(t, leader, "before", "1")
	i := c.indexOf(leader)
	c.stop(i)

	// Shut down, not left: the other two elect a leader among themselves
	// and the old one stays a voter.
	next := c.waitForStableLeader("s1", "s2", "s3")
	kvPut(t, next, "while-down", "2")
	index := next.raft.AppliedIndex()

	// It rejoins Serf by itself, from its snapshot of the members.
	back := c.start(i)
	c.waitForStableLeader("s1", "s2", "s3")
	testutil.Retry(t, 10*time.Second, "the restarted server catches up", func() error {
		if got := back.raft.AppliedIndex(); got < index {
			return fmt.Errorf("applied index %d, want at least %d", got, index)
		}
		if e := staleGet(t, back, "while-down"); e == nil || string(e.Value) != "2" {
			return fmt.Errorf("while-down = %+v", e)
		}
		return nil
	})
	testutil.Retry(t, 10*time.Second, "every server sees the restarted one alive", func() error {
		for _, s := range c.running() {
			if _, ok := s.servers.rpcAddr(back.config.NodeName); !ok {
				return fmt.Errorf("%s does not see %s alive", s.config.NodeName, back.config.NodeName)
			}
		}
		return nil
	})
}

func TestTwoOfThreeExpectedDoNotBootstrap(t *testing.T) {
	c := newTestCluster(t, 2, 3)
	testutil.Retry(t, 5*time.Second, "the two servers see each other", func() error {
		for _, s := range c.running() {
			if n := len(s.servers.list()); n != 2 {
				return fmt.Errorf("%s sees %d servers", s.config.NodeName, n)
			}
		}
		return nil
	})
	// Long enough for several rounds of the bootstrap check.
	deadline := time.Now().Add(3 * bootstrapRetry)
	for time.Now().Before(deadline) {
		for _, s := range c.running() {
			if v := raftVoterNames(s); v != "" || s.raft.State() == raft.Leader {
				t.Fatalf("%s bootstrapped: voters %q, state %s", s.config.NodeName, v, s.raft.State())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLateServerJoinsExistingClusterInsteadOfBootstrapping(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	c.waitForStableLeader("s1", "s2", "s3")

	// A fourth fresh server expecting 3 sees 4 servers; the others have
	// Raft state, so it must not bootstrap a cluster of its own, and the
	// leader adds it.
	c.configs = append(c.configs, clusterConfig(t, "s0", 3))
	c.servers = append(c.servers, nil)
	c.start(3)
	c.join(3, 0)
	c.waitForStableLeader("s0", "s1", "s2", "s3")
}

func (c *testCluster) indexOf(s *Server) int {
	for i, x := range c.servers {
		if x == s {
			return i
		}
	}
	c.t.Fatalf("%s is not in the cluster", s.config.NodeName)
	return -1
}

func (c *testCluster) indexOfFollower(leader *Server) int {
	for i, x := range c.servers {
		if x != nil && x != leader {
			return i
		}
	}
	c.t.Fatal("no follower")
	return -1
}

func TestJoinRefusesAnotherDatacenter(t *testing.T) {
	a := testServer(t, nil)
	cb := testConfig(t)
	cb.NodeName = "other-dc"
	cb.Datacenter = "dc2"
	b := testServer(t, cb)
	addr := fmt.Sprintf("127.0.0.1:%d", a.LocalMember().Port)
	if n, err := b.JoinLAN([]string{addr}); err == nil {
		t.Fatalf("joined %d across datacenters", n)
	}
	if n := len(a.LANMembers()); n != 1 {
		t.Fatalf("dc1 server has %d members: %+v", n, a.LANMembers())
	}
}

func TestParseServer(t *testing.T) {
	base := func(tags map[string]string) serf.Member {
		return serf.Member{Name: "n1", Addr: net.IPv4(10, 0, 0, 1), Tags: tags, Status: serf.StatusAlive}
	}
	cases := []struct {
		name string
		tags map[string]string
		want *serverInfo
	}{
		{"client", map[string]string{"role": "node", "dc": "dc1"}, nil},
		{"no port", map[string]string{"role": "consul", "dc": "dc1"}, nil},
		{"bad expect", map[string]string{"role": "consul", "dc": "dc1", "port": "8300", "expect": "x"}, nil},
		{"plain", map[string]string{"role": "consul", "dc": "dc1", "port": "8300", "id": "n1"},
			&serverInfo{Name: "n1", ID: "n1", Datacenter: "dc1", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 8300}}},
		{"expect and bootstrap, no id", map[string]string{"role": "consul", "dc": "dc2", "port": "9300", "expect": "3", "bootstrap": "1"},
			&serverInfo{Name: "n1", ID: "n1", Datacenter: "dc2", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9300}, Expect: 3, Bootstrap: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseServer(base(tc.tags))
			if tc.want == nil {
				if ok {
					t.Fatalf("parsed %+v, want not a server", got)
				}
				return
			}
			if !ok {
				t.Fatal("not parsed")
			}
			tc.want.Status = serf.StatusAlive
			if fmt.Sprint(*got) != fmt.Sprint(*tc.want) {
				t.Fatalf("got %+v, want %+v", *got, *tc.want)
			}
		})
	}
}

func TestClusterFailedServerStaysVoterUntilReaped(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	leader := c.waitForStableLeader("s1", "s2", "s3")
	i := c.indexOfFollower(leader)
	name := c.configs[i].NodeName
	c.stop(i)

	var failed serf.Member
	testutil.Retry(t, 10*time.Second, "the leader sees the stopped server failed", func() error {
		for _, m := range leader.LANMembers() {
			if m.Name == name {
				failed = m
				if m.Status == serf.StatusFailed {
					return nil
				}
				return fmt.Errorf("%s is %s", name, m.Status)
			}
		}
		return fmt.Errorf("%s unknown", name)
	})
	// The failure was an event, so the leader reconciled: still a voter.
	leader.triggerReconcile()
	c.waitForStableLeader("s1", "s2", "s3")

	// Serf reaps a failed member after ReconnectTimeout (72 h); the event
	// is simulated here. Then the leader removes it from Raft.
	info, ok := parseServer(failed)
	if !ok {
		t.Fatalf("not a server: %+v", failed)
	}
	leader.noteReaped(info)
	leader.triggerReconcile()
	var rest []string
	for _, s := range c.running() {
		rest = append(rest, s.config.NodeName)
	}
	c.waitForStableLeader(rest...)
}

// TestLeaderKeepsServersInCatalog: every server is a catalog node with a
// passing serfHealth check and the consul service; one that leaves is
// deregistered; a node with serfHealth that Serf does not know (as a
// restore from another cluster brings) is removed, external nodes stay.
func TestLeaderKeepsServersInCatalog(t *testing.T) {
	c := newTestCluster(t, 3, 3)
	leader := c.waitForStableLeader("s1", "s2", "s3")
	testutil.Retry(t, 15*time.Second, "the catalog holds the three servers, passing", func() error {
		_, csn, err := leader.fsm.State().CheckServiceNodes(nil, structs.ConsulServiceID)
		if err != nil {
			return err
		}
		if len(csn) != 3 {
			return fmt.Errorf("%d consul instances", len(csn))
		}
		for _, n := range csn {
			if len(n.Checks) != 1 || n.Checks[0].CheckID != structs.SerfCheckID || n.Checks[0].Status != structs.HealthPassing {
				return fmt.Errorf("%s checks %+v", n.Node.Node, n.Checks)
			}
		}
		return nil
	})

	// A stranger with serfHealth, and an external node without it.
	for _, req := range []*structs.RegisterRequest{
		{Node: "stranger", Address: "10.9.9.9", Check: &structs.HealthCheck{CheckID: structs.SerfCheckID, Status: structs.HealthPassing}},
		{Node: "external", Address: "10.9.9.8", Service: &structs.NodeService{Service: "db"}},
	} {
		// On a loaded machine leadership may move; the registration may
		// then fail with "No cluster leader" and is retried, as a client
		// would.
		testutil.Retry(t, 15*time.Second, "the registration succeeds", func() error {
			var out struct{}
			return leader.RPC("Catalog.Register", req, &out)
		})
	}
	leader = c.waitForStableLeader("s1", "s2", "s3")
	follower := c.servers[c.indexOfFollower(leader)]
	name := follower.config.NodeName
	if err := follower.Leave(); err != nil {
		t.Fatal(err)
	}
	leader.triggerReconcile()
	testutil.Retry(t, 15*time.Second, "the reconciled catalog", func() error {
		_, nodes, err := leader.fsm.State().Nodes(nil)
		if err != nil {
			return err
		}
		var names []string
		for _, n := range nodes {
			names = append(names, n.Node)
		}
		got := strings.Join(names, ",")
		want := "external"
		for _, s := range []string{"s1", "s2", "s3"} {
			if s != name {
				want += "," + s
			}
		}
		if got != want {
			return fmt.Errorf("catalog nodes %s, want %s", got, want)
		}
		return nil
	})
}
