package consul

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/yamux"
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
		c, ok := s.inboundLimit.admit(c)
		if !ok {
			continue
		}
		c = s.inbound.track(c)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.routeConn(c)
		}()
	}
}

// routeConn reads the protocol byte and serves the connection with it.
func (s *Server) routeConn(c net.Conn) {
	// A peer that connects and says nothing must not hold a goroutine
	// and a slot of its IP's limit.
	if s.config.RPCHandshakeTimeout > 0 {
		c.SetReadDeadline(time.Now().Add(s.config.RPCHandshakeTimeout))
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	switch rpcType(b[0]) {
	case rpcConsul:
		s.serveMsgpackRPC(c)
	case rpcRaft:
		s.raftLayer.handoff(c)
	case rpcMultiplexV2:
		s.serveMultiplex(c)
	case rpcSnapshot:
		s.serveSnapshotStream(c)
	default:
		s.logger.Warn("rpc: unsupported protocol byte", "byte", b[0], "from", c.RemoteAddr())
		c.Close()
	}
}

// serveMsgpackRPC serves net/rpc calls in msgpack until the peer hangs up.
func (s *Server) serveMsgpackRPC(c io.ReadWriteCloser) {
	s.rpcServer.ServeCodec(codec.MsgpackSpecRpc.ServerCodec(c, structs.MsgpackHandle))
}

// serveMultiplex accepts yamux streams, each one an RPC connection, as the
// connection pool of another server opens them.
func (s *Server) serveMultiplex(c net.Conn) {
	sess, err := yamux.Server(c, yamuxConfig(s))
	if err != nil {
		c.Close()
		return
	}
	defer sess.Close()
	for {
		stream, err := sess.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveMsgpackRPC(stream)
		}()
	}
}
