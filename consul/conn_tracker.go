package consul

import (
	"net"
	"sync"
)

// connTracker remembers the inbound connections that are open, so that
// shutdown can close them: a peer's pooled connection would otherwise keep
// a serving goroutine alive forever.
type connTracker struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

// trackedConn is an accepted connection that leaves the tracker when it
// is closed, by whichever protocol owns it then (Raft included).
type trackedConn struct {
	net.Conn
	tracker *connTracker
	once    sync.Once
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.tracker.mu.Lock()
		delete(c.tracker.conns, c)
		c.tracker.mu.Unlock()
	})
	return c.Conn.Close()
}

// track wraps c so that it is remembered until closed.
func (t *connTracker) track(c net.Conn) net.Conn {
	tc := &trackedConn{Conn: c, tracker: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conns == nil {
		t.conns = make(map[*trackedConn]struct{})
	}
	t.conns[tc] = struct{}{}
	return tc
}

// closeAll closes every open tracked connection.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	open := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		open = append(open, c)
	}
	t.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}
