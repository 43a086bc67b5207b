package consul

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/yamux"
)

// dialTimeout bounds a connection attempt to another server.
const dialTimeout = 5 * time.Second

// connPool keeps one multiplexed connection per server and opens a stream
// on it for each call, so calls to one server share a TCP connection.
type connPool struct {
	mu       sync.Mutex
	sessions map[string]*yamux.Session
	config   *yamux.Config
	closed   bool
}

func newConnPool(config *yamux.Config) *connPool {
	return &connPool{sessions: make(map[string]*yamux.Session), config: config}
}

// yamuxConfig is the multiplexer's configuration, logging through the
// server's logger.
func yamuxConfig(s *Server) *yamux.Config {
	c := yamux.DefaultConfig()
	c.LogOutput = nil
	c.Logger = s.logger.Named("yamux").StandardLogger(nil)
	return c
}

// session returns the open session to addr, dialling one if needed.
func (p *connPool) session(addr string) (*yamux.Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("connection pool is shut down")
	}
	if sess, ok := p.sessions[addr]; ok && !sess.IsClosed() {
		return sess, nil
	}
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte{byte(rpcMultiplexV2)}); err != nil {
		conn.Close()
		return nil, err
	}
	sess, err := yamux.Client(conn, p.config)
	if err != nil {
		conn.Close()
		return nil, err
	}
	p.sessions[addr] = sess
	return sess, nil
}

// errNotSent marks a call that failed before the request left, so it is
// safe to try again elsewhere or later.
var errNotSent = errors.New("rpc request not sent")

// RPC calls method on the server at addr. An error the remote endpoint
// returned comes back with its sentinel restored (errors.Is works).
func (p *connPool) RPC(addr, method string, args, reply interface{}) error {
	sess, err := p.session(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", errNotSent, err)
	}
	stream, err := sess.Open()
	if err != nil {
		sess.Close()
		return fmt.Errorf("%w: %v", errNotSent, err)
	}
	client := rpc.NewClientWithCodec(codec.MsgpackSpecRpc.ClientCodec(stream, structs.MsgpackHandle))
	defer client.Close()
	err = client.Call(method, args, reply)
	var serverErr rpc.ServerError
	if errors.As(err, &serverErr) {
		return structs.ErrorFromRPC(string(serverErr))
	}
	if err != nil {
		// The connection failed mid-call; drop it so the next call redials.
		sess.Close()
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, rpc.ErrShutdown) || errors.Is(err, io.EOF) {
			return fmt.Errorf("rpc to %s: connection lost: %w", addr, err)
		}
	}
	return err
}

// Shutdown closes every session.
func (p *connPool) Shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, sess := range p.sessions {
		sess.Close()
		delete(p.sessions, addr)
	}
}
