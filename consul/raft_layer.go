package consul

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// rpcType is the first byte of a connection to the RPC port; it picks the
// protocol, as in Consul.
type rpcType byte

// RPC protocol bytes, Consul's values.
const (
	rpcConsul      rpcType = 0x00
	rpcRaft        rpcType = 0x01
	rpcMultiplexV2 rpcType = 0x04
	rpcSnapshot    rpcType = 0x05
)

// raftLayer is raft's StreamLayer on the shared RPC port: the listener
// hands it connections that started with rpcRaft, and it dials others
// with that byte first.
type raftLayer struct {
	addr    net.Addr
	connCh  chan net.Conn
	conns   *connSet
	closeMu sync.Mutex
	closed  chan struct{}
}

var _ raft.StreamLayer = (*raftLayer)(nil)

func newRaftLayer(addr net.Addr) *raftLayer {
	return &raftLayer{addr: addr, connCh: make(chan net.Conn), conns: newConnSet(), closed: make(chan struct{})}
}

// handoff gives an accepted Raft connection to raft, or closes it if the
// layer is closed. The server tracks accepted connections already.
func (l *raftLayer) handoff(c net.Conn) {
	select {
	case l.connCh <- c:
	case <-l.closed:
		c.Close()
	}
}

// Accept waits for the next Raft connection.
func (l *raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.connCh:
		return c, nil
	case <-l.closed:
		return nil, errors.New("raft layer closed")
	}
}

// Close stops Accept and closes the Raft connections in both directions;
// the shared listener itself is closed by its owner.
func (l *raftLayer) Close() error {
	l.conns.closeAll()
	l.closeMu.Lock()
	defer l.closeMu.Unlock()
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

// Addr is the advertised address.
func (l *raftLayer) Addr() net.Addr {
	return l.addr
}

// Dial connects to another server's RPC port and selects Raft.
func (l *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(address), timeout)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{byte(rpcRaft)}); err != nil {
		c.Close()
		return nil, err
	}
	return l.conns.track(c), nil
}
