package consul

import (
	"errors"
	"io"
	"net"
	"time"
)

// serveRPC accepts connections on the RPC port until the listener closes
// and routes each by its first byte.
func (s *Server) serveRPC() {
	defer s.wg.Done()
	for {
		c, err := s.rpcListener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.logger.Error("rpc accept", "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.routeConn(c)
		}()
	}
}

// routeConn reads the protocol byte and hands the connection on. Only Raft
// is spoken so far; server-to-server RPC arrives with clustering.
func (s *Server) routeConn(c net.Conn) {
	// A peer that connects and says nothing must not hold a goroutine.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	switch rpcType(b[0]) {
	case rpcRaft:
		s.raftLayer.handoff(c)
	default:
		s.logger.Warn("rpc: unsupported protocol byte", "byte", b[0], "from", c.RemoteAddr())
		c.Close()
	}
}
