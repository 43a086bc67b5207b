package consul

import (
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Server is a running server: the RPC listener, Raft and the FSM.
type Server struct {
	config *Config
	logger hclog.Logger

	fsm        *fsm
	raft       *raft.Raft
	raftStores *raftStores
	raftLayer  *raftLayer
	raftTrans  *raft.NetworkTransport

	rpcListener net.Listener
	rpcServer   *rpc.Server
	// inbound are the open connections accepted on the RPC port.
	inbound connTracker
	// pool holds the connections to other servers, for forwarding.
	pool *connPool

	// readyForReads is true on a leader whose FSM has applied every entry
	// committed before its term.
	readyForReads atomic.Bool

	// shutdownCh is closed when shutdown begins; blocking queries watch it.
	shutdownCh   chan struct{}
	wg           sync.WaitGroup
	shutdownOnce sync.Once
	shutdownErr  error
}

// NewServer starts a server: it binds the RPC port, opens Raft's stores
// and starts Raft. On error everything opened so far is closed again.
func NewServer(config *Config, logger hclog.Logger) (*Server, error) {
	if config.NodeName == "" {
		return nil, errors.New("server: node name is required")
	}
	if config.DataDir == "" && !config.DevMode {
		return nil, errors.New("server: a data dir is required outside dev mode")
	}
	f, err := newFSM(logger.Named("fsm"))
	if err != nil {
		return nil, err
	}
	s := &Server{config: config, logger: logger, fsm: f, rpcServer: rpc.NewServer(), shutdownCh: make(chan struct{})}
	s.pool = newConnPool(yamuxConfig(s))
	if err := s.registerEndpoints(); err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP("tcp", config.RPCAddr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on RPC address: %w", err)
	}
	s.removeStaleRestoreFiles()
	s.rpcListener = ln
	s.raftLayer = newRaftLayer(advertiseAddr(config.RPCAdvertise, ln.Addr().(*net.TCPAddr)))
	s.wg.Add(1)
	go s.serveRPC()
	if err := s.setupRaft(); err != nil {
		s.Shutdown()
		return nil, err
	}
	return s, nil
}

// advertiseAddr is the address Raft peers dial: the configured one, or
// the bound one with an unspecified IP replaced by loopback.
func advertiseAddr(configured, bound *net.TCPAddr) *net.TCPAddr {
	if configured != nil {
		return configured
	}
	a := *bound
	if a.IP.IsUnspecified() {
		a.IP = net.IPv4(127, 0, 0, 1)
	}
	return &a
}

// RPCAddr is the address the RPC listener is bound to.
func (s *Server) RPCAddr() net.Addr {
	return s.rpcListener.Addr()
}

// IsLeader tells whether this server is the Raft leader and has applied
// everything committed before its term, so it may serve reads and writes.
func (s *Server) IsLeader() bool {
	return s.raft.State() == raft.Leader && s.readyForReads.Load()
}

// Shutdown stops Raft, closes its stores and the RPC listener, and waits
// for every connection goroutine to end. It is safe to call twice.
func (s *Server) Shutdown() error {
	s.shutdownOnce.Do(func() {
		close(s.shutdownCh)
		var errs []error
		if s.raft != nil {
			errs = append(errs, s.raft.Shutdown().Error())
		}
		if s.raftTrans != nil {
			errs = append(errs, s.raftTrans.Close())
		}
		if s.raftLayer != nil {
			s.raftLayer.Close()
		}
		if s.raftStores != nil {
			errs = append(errs, s.raftStores.Close())
		}
		if s.rpcListener != nil {
			s.rpcListener.Close()
		}
		s.inbound.closeAll()
		s.pool.Shutdown()
		s.wg.Wait()
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}
