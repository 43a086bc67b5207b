package consul

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/memberlist"
	"go.uber.org/goleak"
)

// testConfig is a single bootstrapped server on a random loopback port,
// with its data in a fresh temp dir and Raft timeouts short enough that
// it elects itself at once.
func testConfig(t *testing.T) *Config {
	t.Helper()
	c := DefaultConfig()
	c.NodeName = "test-node"
	c.DataDir = t.TempDir()
	c.Bootstrap = true
	c.RPCAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}
	testSerfConfig(c)
	c.RaftConfig.HeartbeatTimeout = 50 * time.Millisecond
	c.RaftConfig.ElectionTimeout = 50 * time.Millisecond
	c.RaftConfig.LeaderLeaseTimeout = 50 * time.Millisecond
	return c
}

// testSerfConfig makes Serf listen on a random loopback port with
// memberlist's timings for a local network, which detect failures and
// spread news in well under a second.
func testSerfConfig(c *Config) {
	ml := memberlist.DefaultLocalConfig()
	ml.BindAddr = "127.0.0.1"
	ml.BindPort = 0
	c.SerfLANConfig.MemberlistConfig = ml
	c.SerfLANConfig.LeavePropagateDelay = 100 * time.Millisecond
}

// benchServer is testServer for benchmarks.
func benchServer(b *testing.B) *Server {
	b.Helper()
	c := DefaultConfig()
	c.NodeName = "bench-node"
	c.DataDir = b.TempDir()
	c.Bootstrap = true
	c.RPCAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}
	testSerfConfig(c)
	s, err := NewServer(c, hclog.NewNullLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown() })
	if err := s.waitForLeadership(); err != nil {
		b.Fatal(err)
	}
	return s
}

// testServer starts a server from c (testConfig when nil), waits until it
// leads, and stops it when the test ends, checking then that no goroutine
// of its is left.
func testServer(t *testing.T, c *Config) *Server {
	t.Helper()
	checkLeaks(t)
	if c == nil {
		c = testConfig(t)
	}
	w := &testWriter{t: t}
	// Registered first, so it runs last: nothing logs through t after the
	// test ends, even from a goroutine Raft has not stopped yet.
	t.Cleanup(w.stop)
	s, err := NewServer(c, hclogFor(t, w))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })
	if err := s.waitForLeadership(); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkLeaks fails the test if goroutines that were not there when it
// started are still there after its cleanups ran. Registered first, so it
// runs last. It waits up to 3 s, longer than goleak's own half second:
// memberlist's Shutdown does not wait for a probe in flight, which ends
// at its deadline, a probe interval (1 s here) later.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			// A Raft future pending when Raft shuts down may never be
			// answered; the goroutine waiting on it is Raft's (raftWait).
			err := goleak.Find(before, goleak.IgnoreAnyFunction("github.com/consulcompat/consul/consul.(*Server).raftWait.func1"))
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// waitFor polls cond until it returns nil, failing the test with its last
// error after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// hclogFor is a logger for t's servers, at warn level, into w.
func hclogFor(t *testing.T, w *testWriter) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: w})
}

// testWriter sends logs to t.Log, so they show only for failing tests.
type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
