// Package agent runs the server in-process and serves the HTTP API in
// front of it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/agent/local"
	"github.com/consulcompat/consul/consul"
	"github.com/hashicorp/go-hclog"
)

// Version is the Consul version this agent answers as; clients and the
// CLI read it from /v1/agent/self.
const Version = "1.16.4"

// Agent is a running server agent: the server and its HTTP API.
type Agent struct {
	cfg    *config.Config
	logger hclog.Logger

	server     *consul.Server
	httpLn     net.Listener
	httpServer *http.Server
	httpDone   chan struct{}

	// local is the agent's own services and checks.
	local *local.Agent

	// retryJoin runs -retry-join (retry_join.go); closing retryStop ends
	// it, and retryDone is closed when it has ended.
	retryStop     chan struct{}
	retryStopOnce sync.Once
	retryDone     chan struct{}

	// stopCh tells the process why the agent stopped by itself.
	stopCh    chan error
	stopOnce  sync.Once
	leaveOnce sync.Once
	leaveErr  error
}

// New checks cfg and returns an agent that is not started yet.
func New(cfg *config.Config, logger hclog.Logger) (*Agent, error) {
	if !cfg.Server {
		return nil, errors.New("agent: only server mode exists; pass -server")
	}
	return &Agent{cfg: cfg, logger: logger, stopCh: make(chan error, 1)}, nil
}

// serverConfig turns the agent's configuration into the server's.
func (a *Agent) serverConfig() (*consul.Config, error) {
	c := consul.DefaultConfig()
	c.NodeName = a.cfg.NodeName
	c.Datacenter = a.cfg.Datacenter
	c.DataDir = a.cfg.DataDir
	c.DevMode = a.cfg.DevMode
	// As in Consul, expecting one server is bootstrapping.
	c.Bootstrap = a.cfg.Bootstrap || a.cfg.BootstrapExpect == 1
	if a.cfg.BootstrapExpect > 1 {
		c.BootstrapExpect = a.cfg.BootstrapExpect
	}
	c.Build = Version
	addr, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(a.cfg.BindAddr, strconv.Itoa(a.cfg.Ports.Server)))
	if err != nil {
		return nil, fmt.Errorf("agent: bind address: %w", err)
	}
	c.RPCAddr = addr
	c.SerfLANConfig.MemberlistConfig.BindAddr = a.cfg.BindAddr
	c.SerfLANConfig.MemberlistConfig.BindPort = a.cfg.Ports.SerfLAN
	if a.cfg.AdvertiseAddr != "" {
		c.Advertise = net.ParseIP(a.cfg.AdvertiseAddr)
	}
	c.ACLsEnabled = a.cfg.ACL.Enabled
	c.ACLDefaultAllow = a.cfg.ACL.DefaultPolicy != config.ACLPolicyDeny
	c.ACLInitialManagementToken = a.cfg.ACL.Tokens.InitialManagement
	c.ACLDefaultToken = a.cfg.ACL.Tokens.Default
	c.RPCMaxConnsPerClient = a.cfg.Limits.RPCMaxConnsPerClient
	c.RPCHandshakeTimeout = a.cfg.Limits.RPCHandshakeTimeout
	c.RestoreMaxStateBytes = int64(a.cfg.Limits.RestoreMaxStateBytes)
	c.RestoreUploadGrace = a.cfg.Limits.RestoreUploadGrace
	c.RestoreUploadMinRate = int64(a.cfg.Limits.RestoreUploadMinRate)
	if a.cfg.SessionTTLMin > 0 {
		c.SessionTTLMin = a.cfg.SessionTTLMin
	}
	if a.cfg.RaftSnapshotInterval > 0 {
		c.RaftConfig.SnapshotInterval = a.cfg.RaftSnapshotInterval
	}
	if a.cfg.RaftSnapshotThreshold > 0 {
		c.RaftConfig.SnapshotThreshold = uint64(a.cfg.RaftSnapshotThreshold)
	}
	if a.cfg.RaftTrailingLogs > 0 {
		c.RaftConfig.TrailingLogs = uint64(a.cfg.RaftTrailingLogs)
	}
	return c, nil
}

// Start starts the server and the HTTP listener, joins the addresses of
// -join (failing if none answers), and starts -retry-join in the
// background; it returns once the server and the HTTP API are listening.
func (a *Agent) Start() error {
	sc, err := a.serverConfig()
	if err != nil {
		return err
	}
	srv, err := consul.NewServer(sc, a.logger.Named("server"))
	if err != nil {
		return err
	}
	if len(a.cfg.StartJoin) > 0 {
		n, err := srv.JoinLAN(a.cfg.StartJoin)
		if err != nil {
			srv.Shutdown()
			return fmt.Errorf("agent: -join %v: %w", a.cfg.StartJoin, err)
		}
		a.logger.Info("joined cluster", "contacted", n)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.ClientAddr, strconv.Itoa(a.cfg.Ports.HTTP)))
	if err != nil {
		srv.Shutdown()
		return fmt.Errorf("agent: listen on HTTP address: %w", err)
	}
	a.server, a.httpLn = srv, ln
	if err := a.startLocal(); err != nil {
		ln.Close()
		srv.Shutdown()
		return err
	}
	// No ReadTimeout or WriteTimeout: a blocking query waits up to 10
	// minutes and a snapshot streams for as long as it takes. The idle
	// timeout applies only between requests.
	a.httpServer = &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: a.cfg.Limits.HTTPReadHeaderTimeout,
		IdleTimeout:       a.cfg.Limits.HTTPIdleTimeout,
		ConnState:         httpConnLimit(a.cfg.Limits.HTTPMaxConnsPerClient),
		ErrorLog:          a.logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	a.httpDone = make(chan struct{})
	go func() {
		defer close(a.httpDone)
		if err := a.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server", "error", err)
		}
	}()
	a.retryStop, a.retryDone = make(chan struct{}), make(chan struct{})
	if len(a.cfg.RetryJoin) > 0 {
		go a.retryJoin()
	} else {
		close(a.retryDone)
	}
	a.logger.Info("agent started", "node", a.cfg.NodeName, "datacenter", a.cfg.Datacenter,
		"http", ln.Addr().String(), "rpc", srv.RPCAddr().String(),
		"serf_lan", net.JoinHostPort(srv.LocalMember().Addr.String(), strconv.Itoa(int(srv.LocalMember().Port))))
	return nil
}

// startLocal registers the services and checks of the config files and
// starts anti-entropy and the reaper. The node is registered with the
// ID and address the leader gives it from Serf.
func (a *Agent) startLocal() error {
	m := a.server.LocalMember()
	node := local.SyncNode{Name: a.cfg.NodeName, ID: m.Tags["id"], Address: m.Addr.String(), Datacenter: a.cfg.Datacenter}
	a.local = local.New(a.cfg, a.server, node, a.logger.Named("local"))
	return a.local.Start(a.cfg.Services, a.cfg.Checks)
}

// StopCh delivers, once, why the agent stopped by itself, so that the
// process ends: nil after a graceful leave (PUT /v1/agent/leave), or the
// error that ended -retry-join. Nothing is sent otherwise.
func (a *Agent) StopCh() <-chan error {
	return a.stopCh
}

// stopped reports that the agent stopped by itself; only the first
// reason is kept.
func (a *Agent) stopped(reason error) {
	a.stopOnce.Do(func() { a.stopCh <- reason })
}

// Leave leaves the cluster gracefully (see consul.Server.Leave), then
// stops the server; the HTTP API goes on answering until Shutdown. It
// reports on StopCh so that the process ends. Calls after the first
// return the first one's result.
func (a *Agent) Leave() error {
	a.leaveOnce.Do(func() {
		a.logger.Info("leaving the cluster gracefully")
		// Once left, the node must not come back into the catalog.
		a.local.Stop()
		if err := a.server.Leave(); err != nil {
			a.leaveErr = err
			return
		}
		a.stopRetryJoin()
		a.leaveErr = a.server.Shutdown()
		a.stopped(nil)
	})
	return a.leaveErr
}

// HTTPAddr is the address the HTTP API listens on, once started.
func (a *Agent) HTTPAddr() string {
	return a.httpLn.Addr().String()
}

// httpShutdownGrace is how long requests in flight may finish.
const httpShutdownGrace = 2 * time.Second

// Shutdown stops -retry-join, the HTTP API and the server (without
// leaving the cluster: see Leave), and closes Raft's stores.
func (a *Agent) Shutdown() error {
	if a.httpServer == nil {
		return nil
	}
	a.stopRetryJoin()
	// Anti-entropy is told first, so that it starts nothing new on a
	// server going away; the server then cuts short a request of its
	// waiting for a leader.
	a.local.SignalStop()
	// The server goes first: that wakes blocking queries, so the HTTP
	// requests in flight end promptly.
	err := a.server.Shutdown()
	a.local.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownGrace)
	defer cancel()
	if a.httpServer.Shutdown(ctx) != nil {
		a.httpServer.Close()
	}
	<-a.httpDone
	return err
}
