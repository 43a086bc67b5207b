package consul

import (
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/consulcompat/consul/consul/fsm"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/serf/serf"
)

// Server is a running server: the RPC listener, Raft and the FSM, and
// Serf LAN, through which servers find each other.
type Server struct {
	config *Config
	logger hclog.Logger

	fsm        *fsm.FSM
	raft       *raft.Raft
	raftStores *raftStores
	raftLayer  *raftLayer
	raftTrans  *raft.NetworkTransport

	rpcListener net.Listener
	rpcServer   *rpc.Server
	// inbound are the open connections accepted on the RPC port, and
	// inboundLimit bounds how many one IP may hold (rpc_conn_limit.go).
	inbound      *connSet
	inboundLimit *rpcConnLimit
	// pool holds the connections to other servers, for forwarding.
	pool *connPool

	// Membership (serf.go): Serf LAN, its events, and the live servers of
	// this datacenter it reports.
	serfLAN     *serf.Serf
	serfEventCh chan serf.Event
	servers     *serverLookup
	// bootstrapCh wakes the bootstrap_expect check (bootstrap_expect.go);
	// bootstrapLast is the check's last log line, kept by its goroutine.
	bootstrapCh   chan struct{}
	bootstrapLast string
	// reconcileCh wakes the leader's reconciliation of Serf with Raft,
	// and reaped holds the servers Serf forgot (leader_members.go).
	reconcileCh chan struct{}
	reapedMu    sync.Mutex
	reaped      map[string]*serverInfo

	// disk refuses writes while Raft's disk is full (disk_guard.go).
	disk *diskGuard

	// staging holds the state dumps of restores (restore_staging.go).
	staging *restoreStaging

	// restoreMu lets one snapshot restore run at a time
	// (snapshot_endpoint.go).
	restoreMu sync.Mutex

	// aclCache holds resolved tokens (acl.go).
	aclCache aclCache

	// sessionTimers expire TTL sessions on the leader (session_ttl.go).
	sessionTimers sessionTimers

	// readyForReads is true on a leader whose FSM has applied every entry
	// committed before its term.
	readyForReads atomic.Bool

	// shutdownCh is closed when shutdown begins; blocking queries watch it.
	shutdownCh   chan struct{}
	wg           sync.WaitGroup
	shutdownOnce sync.Once
	shutdownErr  error
}

// NewServer starts a server: it binds the RPC port, opens Raft's stores,
// starts Raft, then Serf LAN. On error everything opened so far is closed
// again.
func NewServer(config *Config, logger hclog.Logger) (*Server, error) {
	if config.NodeName == "" {
		return nil, errors.New("server: node name is required")
	}
	if config.DataDir == "" && !config.DevMode {
		return nil, errors.New("server: a data dir is required outside dev mode")
	}
	if config.TombstoneTTL <= 0 || config.TombstoneGranularity <= 0 {
		return nil, errors.New("server: the tombstone TTL and granularity must be positive")
	}
	s := &Server{
		config:      config,
		logger:      logger,
		rpcServer:   rpc.NewServer(),
		serfEventCh: make(chan serf.Event, serfEventBuffer),
		servers:     newServerLookup(),
		bootstrapCh: make(chan struct{}, 1),
		reconcileCh: make(chan struct{}, 1),
		reaped:      make(map[string]*serverInfo),
		shutdownCh:  make(chan struct{}),
	}
	dir, err := stagingDir(config)
	if err != nil {
		return nil, err
	}
	if s.staging, err = newRestoreStaging(s, dir, logger); err != nil {
		return nil, err
	}
	if s.fsm, err = fsm.New(logger.Named("fsm"), s.staging); err != nil {
		return nil, err
	}
	s.disk = newDiskGuard(raftDir(config), logger)
	s.pool = newConnPool(yamuxConfig(s))
	s.inbound = newConnSet()
	s.inboundLimit = newRPCConnLimit(config.RPCMaxConnsPerClient, logger)
	if err := s.registerEndpoints(); err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP("tcp", config.RPCAddr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on RPC address: %w", err)
	}
	s.rpcListener = ln
	bound := ln.Addr().(*net.TCPAddr)
	s.raftLayer = newRaftLayer(advertiseAddr(config.Advertise, bound))
	if err := s.setupRaft(); err != nil {
		s.Shutdown()
		return nil, err
	}
	// Accept only now: peers that know this address may call at once, and
	// every endpoint needs Raft. Until then connections wait in the backlog.
	s.wg.Add(1)
	go s.serveRPC()
	if err := s.setupSerf(bound.Port); err != nil {
		s.Shutdown()
		return nil, err
	}
	s.wg.Add(3)
	go s.lanEventHandler()
	go s.reconcileLoop()
	go s.tombstoneGCLoop()
	if config.BootstrapExpect > 0 && !config.Bootstrap {
		s.wg.Add(1)
		go s.bootstrapLoop()
	}
	return s, nil
}

// registerEndpoints registers the RPC endpoints under Consul's names
// ("KVS.Apply", "Txn.Read", ...), the names remote servers will call too.
func (s *Server) registerEndpoints() error {
	for name, rcvr := range map[string]interface{}{
		"KVS":           &KVS{srv: s},
		"Txn":           &Txn{srv: s},
		"Status":        &Status{srv: s},
		"Operator":      &Operator{srv: s},
		"ACL":           &ACL{srv: s},
		"Catalog":       &Catalog{srv: s},
		"Health":        &Health{srv: s},
		"Session":       &Session{srv: s},
		"PreparedQuery": &PreparedQuery{srv: s},
	} {
		if err := s.rpcServer.RegisterName(name, rcvr); err != nil {
			return fmt.Errorf("server: register %s: %w", name, err)
		}
	}
	return nil
}

// stagingDir is where restores stage their state dumps:
// <data-dir>/restore, or a temp dir in dev mode, which keeps nothing.
func stagingDir(c *Config) (string, error) {
	if !c.DevMode {
		return filepath.Join(c.DataDir, "restore"), nil
	}
	dir, err := os.MkdirTemp("", "consul-dev-restore-")
	if err != nil {
		return "", fmt.Errorf("server: staging dir: %w", err)
	}
	return dir, nil
}

// advertiseAddr is the address other servers reach a bound listener at:
// the configured IP, or else the bound one with an unspecified IP
// replaced by loopback; with the bound port either way. RPC (and Raft)
// and Serf all advertise through it.
func advertiseAddr(configured net.IP, bound *net.TCPAddr) *net.TCPAddr {
	a := *bound
	switch {
	case configured != nil:
		a.IP = configured
	case a.IP.IsUnspecified():
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

// Shutdown stops Serf (without leaving: see Leave) and Raft, closes
// Raft's stores and the RPC listener, and waits for every goroutine of
// the server to end. It is safe to call twice.
func (s *Server) Shutdown() error {
	s.shutdownOnce.Do(func() {
		close(s.shutdownCh)
		s.sessionTimers.stopAll()
		var errs []error
		if s.serfLAN != nil {
			errs = append(errs, s.serfLAN.Shutdown())
		}
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
		if s.config.DevMode && s.staging != nil {
			// -dev keeps nothing: its staging directory was a temp dir.
			os.RemoveAll(s.staging.store.Dir())
		}
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}
