package consul

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// formedCluster starts a cluster of n servers that form through Serf and
// bootstrap_expect, and returns it with its servers, the leader first.
func formedCluster(t *testing.T, n int) (*testCluster, []*Server) {
	t.Helper()
	c := newTestCluster(t, n, n)
	var names []string
	for _, cfg := range c.configs {
		names = append(names, cfg.NodeName)
	}
	leader := c.waitForStableLeader(names...)
	servers := []*Server{leader}
	for _, s := range c.running() {
		if s != leader {
			servers = append(servers, s)
		}
	}
	return c, servers
}

// localGet reads key from s's own state, returning errors for retries.
func localGet(s *Server, key string) (*structs.DirEntry, error) {
	var out structs.IndexedDirEntries
	args := structs.KeyRequest{Key: key, QueryOptions: structs.QueryOptions{AllowStale: true}}
	if err := s.RPC("KVS.Get", &args, &out); err != nil {
		return nil, err
	}
	if len(out.Entries) == 0 {
		return nil, nil
	}
	return out.Entries[0], nil
}

// hasValue is waitFor's check that s holds key=value locally.
func hasValue(s *Server, key, value string) func() error {
	return func() error {
		e, err := localGet(s, key)
		if err != nil {
			return err
		}
		if e == nil || string(e.Value) != value {
			return fmt.Errorf("%s: %s = %+v, want %q", s.config.NodeName, key, e, value)
		}
		return nil
	}
}

func TestClusterForwardsWritesAndReads(t *testing.T) {
	_, servers := formedCluster(t, 3)
	for i, s := range servers {
		kvPut(t, s, fmt.Sprintf("via/%d", i), fmt.Sprint(i))
	}
	for _, s := range servers {
		for i := range servers {
			// A default read on a follower is answered by the leader.
			if e := kvGet(t, s, fmt.Sprintf("via/%d", i)); e == nil || string(e.Value) != fmt.Sprint(i) {
				t.Fatalf("%s: via/%d = %+v", s.config.NodeName, i, e)
			}
			testutil.Retry(t, 15*time.Second, "the write reaches every server", hasValue(s, fmt.Sprintf("via/%d", i), fmt.Sprint(i)))
		}
	}
	var out structs.IndexedDirEntries
	args := structs.KeyRequest{Key: "via/0", QueryOptions: structs.QueryOptions{AllowStale: true}}
	if err := servers[2].RPC("KVS.Get", &args, &out); err != nil || !out.KnownLeader {
		t.Fatalf("stale read on a follower: %v, KnownLeader %v", err, out.KnownLeader)
	}
	// Errors keep their kind across the hop.
	var ok bool
	bad := structs.KVSRequest{Op: structs.KVSet}
	if err := servers[1].RPC("KVS.Apply", &bad, &ok); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("forwarded bad request: %v", err)
	}
}

// saveOn takes an archive through server s and returns its state dump.
func saveOn(t *testing.T, s *Server) (*raft.SnapshotMeta, []byte) {
	t.Helper()
	archive, _ := save(t, s, false)
	meta, rc, err := snapshot.Read(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	state, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return meta, state
}

func TestClusterSnapshotThroughFollower(t *testing.T) {
	c, servers := formedCluster(t, 3)
	leader, follower, other := servers[0], servers[1], servers[2]
	for i := 0; i < 50; i++ {
		kvPut(t, follower, fmt.Sprintf("k/%d", i), "before")
	}
	m1, s1 := saveOn(t, follower)
	m2, s2 := saveOn(t, leader)
	if m1.Index != m2.Index || !bytes.Equal(s1, s2) {
		t.Fatalf("follower's save (index %d, %d bytes) differs from the leader's (index %d, %d bytes)", m1.Index, len(s1), m2.Index, len(s2))
	}
	archive, _ := save(t, follower, false)

	// A server down during the restore catches up when it comes back.
	down := c.indexOf(other)
	c.stop(down)
	for i := 0; i < 50; i++ {
		kvPut(t, leader, fmt.Sprintf("k/%d", i), "after")
	}
	if err := restore(follower, archive); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Server{leader, follower} {
		testutil.Retry(t, 15*time.Second, "the write reaches the live servers", hasValue(s, "k/7", "before"))
	}
	back := c.start(down)
	testutil.Retry(t, 15*time.Second, "the restarted server catches up", hasValue(back, "k/7", "before"))
	testutil.Retry(t, 15*time.Second, "the restarted server catches up", hasValue(back, "k/49", "before"))
}

func TestClusterSurvivesLeaderLoss(t *testing.T) {
	_, servers := formedCluster(t, 3)
	kvPut(t, servers[1], "before", "loss")
	if err := servers[0].Shutdown(); err != nil {
		t.Fatal(err)
	}
	// Writes through a survivor wait out the election and succeed.
	kvPut(t, servers[2], "after", "loss")
	for _, s := range servers[1:] {
		testutil.Retry(t, 15*time.Second, "the write before the loss reaches the survivors", hasValue(s, "before", "loss"))
		testutil.Retry(t, 15*time.Second, "the write after the loss reaches the survivors", hasValue(s, "after", "loss"))
	}
}

func TestSnapshotStreamCutIsAnError(t *testing.T) {
	// An archive stream without its end frame must fail, however cleanly
	// the connection closed.
	var buf bytes.Buffer
	fw := &frameWriter{w: &buf}
	fw.Write([]byte("partial archive"))
	r := &frameReader{r: bytes.NewReader(buf.Bytes())}
	if _, err := io.ReadAll(r); !errors.Is(err, errStreamCut) {
		t.Fatalf("cut stream: %v", err)
	}
	fw.Close()
	r = &frameReader{r: bytes.NewReader(buf.Bytes())}
	if got, err := io.ReadAll(r); err != nil || string(got) != "partial archive" {
		t.Fatalf("whole stream: %q %v", got, err)
	}
}

func TestOperatorRaftConfigurationAndRemovePeer(t *testing.T) {
	_, servers := formedCluster(t, 3)
	var conf structs.RaftConfigurationResponse
	if err := servers[2].RPC("Operator.RaftGetConfiguration", &structs.DCSpecificRequest{}, &conf); err != nil {
		t.Fatal(err)
	}
	leaders := 0
	for _, s := range conf.Servers {
		if s.Leader {
			leaders++
		}
		if !s.Voter {
			t.Fatalf("%s is not a voter", s.ID)
		}
	}
	if len(conf.Servers) != 3 || leaders != 1 || conf.Index == 0 {
		t.Fatalf("configuration %+v", conf)
	}
	var none struct{}
	for _, bad := range []structs.RaftRemovePeerRequest{{}, {ID: "a", Address: "b"}, {ID: "no-such-server"}} {
		if err := servers[1].RPC("Operator.RaftRemovePeer", &bad, &none); !errors.Is(err, structs.ErrBadRequest) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	gone := servers[2]
	gone.Shutdown()
	args := structs.RaftRemovePeerRequest{Address: gone.RPCAddr().String()}
	if err := servers[1].RPC("Operator.RaftRemovePeer", &args, &none); err != nil {
		t.Fatal(err)
	}
	testutil.Retry(t, 15*time.Second, "the removed peer leaves the configuration", func() error {
		if err := servers[0].RPC("Operator.RaftGetConfiguration", &structs.DCSpecificRequest{}, &conf); err != nil {
			return err
		}
		if len(conf.Servers) != 2 {
			return fmt.Errorf("%d servers after remove", len(conf.Servers))
		}
		return nil
	})
}

// TestClusterRestoreLimitThroughFollower: a restore sent to a follower is
// refused by the leader's limit, its default here, before the leader
// reads the rest of the upload; the follower passes on the refusal and
// its reason, and the leader stays.
func TestClusterRestoreLimitThroughFollower(t *testing.T) {
	// Larger than the socket buffers between the servers, so that the
	// leader answers while the follower still sends. Made before the
	// cluster starts: building it takes the CPU that, on a loaded
	// machine, the servers' 100 ms heartbeats need.
	bomb := snapshottest.NewBomb(t, 40000, 1<<10, false)
	archive := bomb.Archive(t, snapshot.MaxStateSize)
	_, servers := formedCluster(t, 3)
	leader, follower := servers[0], servers[1]
	if limit, _ := leader.restoreLimit(); limit >= snapshot.MaxStateSize {
		t.Skipf("the default limit, %d bytes, is not below the format's ceiling", limit)
	}
	err := restore(follower, archive)
	if !errors.Is(err, snapshot.ErrTooLarge) || !strings.Contains(err.Error(), "over the limit") ||
		!strings.Contains(err.Error(), "a twentieth of this server's memory") {
		t.Fatalf("restore of a %d-byte archive declaring %d bytes: %v", len(archive), snapshot.MaxStateSize, err)
	}
	if !leader.IsLeader() {
		t.Fatal("the leader lost leadership")
	}
}
