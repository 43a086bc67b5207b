package consul

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/memberlist"
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
	testutil.CheckLeaks(t)
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
