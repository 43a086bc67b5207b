package consul

import (
	"net"
	"sync"
)

// connSet tracks open connections so that shutdown can close them: Raft's
// transport closes neither the connections it accepted nor those it
// pooled, and their goroutines would otherwise wait on peers forever.
type connSet struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newConnSet() *connSet {
	return &connSet{conns: make(map[*trackedConn]struct{})}
}

// track returns c wrapped so that it leaves the set when closed. After
// closeAll, it closes c at once.
func (s *connSet) track(c net.Conn) net.Conn {
	t := &trackedConn{Conn: c, set: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return t
	}
	s.conns[t] = struct{}{}
	return t
}

// closeAll closes every tracked connection and any tracked later.
func (s *connSet) closeAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns = make(map[*trackedConn]struct{})
	s.closed = true
	s.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// trackedConn is a connection in a connSet.
type trackedConn struct {
	net.Conn
	set *connSet
}

// Close closes the connection and removes it from its set.
func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.conns, c)
	c.set.mu.Unlock()
	return c.Conn.Close()
}
