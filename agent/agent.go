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
	"time"

	"github.com/consulcompat/consul/agent/config"
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
}

// New checks cfg and returns an agent that is not started yet.
func New(cfg *config.Config, logger hclog.Logger) (*Agent, error) {
	if !cfg.Server {
		return nil, errors.New("agent: only server mode exists; pass -server")
	}
	if cfg.BootstrapExpect > 1 {
		return nil, fmt.Errorf("agent: bootstrap_expect=%d needs clustering, which this server does not do yet; use -bootstrap", cfg.BootstrapExpect)
	}
	return &Agent{cfg: cfg, logger: logger}, nil
}

// serverConfig turns the agent's configuration into the server's.
func (a *Agent) serverConfig() (*consul.Config, error) {
	c := consul.DefaultConfig()
	c.NodeName = a.cfg.NodeName
	c.Datacenter = a.cfg.Datacenter
	c.DataDir = a.cfg.DataDir
	c.DevMode = a.cfg.DevMode
	c.Bootstrap = a.cfg.Bootstrap || a.cfg.BootstrapExpect == 1
	addr, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(a.cfg.BindAddr, strconv.Itoa(a.cfg.Ports.Server)))
	if err != nil {
		return nil, fmt.Errorf("agent: bind address: %w", err)
	}
	c.RPCAddr = addr
	if a.cfg.RaftSnapshotInterval > 0 {
		c.RaftConfig.SnapshotInterval = a.cfg.RaftSnapshotInterval
	}
	if a.cfg.RaftSnapshotThreshold > 0 {
		c.RaftConfig.SnapshotThreshold = a.cfg.RaftSnapshotThreshold
	}
	return c, nil
}

// Start starts the server and the HTTP listener; it returns once both are
// listening.
func (a *Agent) Start() error {
	sc, err := a.serverConfig()
	if err != nil {
		return err
	}
	srv, err := consul.NewServer(sc, a.logger.Named("server"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.ClientAddr, strconv.Itoa(a.cfg.Ports.HTTP)))
	if err != nil {
		srv.Shutdown()
		return fmt.Errorf("agent: listen on HTTP address: %w", err)
	}
	a.server, a.httpLn = srv, ln
	a.httpServer = &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          a.logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	a.httpDone = make(chan struct{})
	go func() {
		defer close(a.httpDone)
		if err := a.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server", "error", err)
		}
	}()
	a.logger.Info("agent started", "node", a.cfg.NodeName, "datacenter", a.cfg.Datacenter,
		"http", ln.Addr().String(), "rpc", srv.RPCAddr().String())
	return nil
}

// HTTPAddr is the address the HTTP API listens on, once started.
func (a *Agent) HTTPAddr() string {
	return a.httpLn.Addr().String()
}

// httpShutdownGrace is how long requests in flight may finish.
const httpShutdownGrace = 2 * time.Second

// Shutdown stops the HTTP API and the server, and closes Raft's stores.
func (a *Agent) Shutdown() error {
	if a.httpServer == nil {
		return nil
	}
	// The server goes first: that wakes blocking queries, so the HTTP
	// requests in flight end promptly.
	err := a.server.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownGrace)
	defer cancel()
	if a.httpServer.Shutdown(ctx) != nil {
		a.httpServer.Close()
	}
	<-a.httpDone
	return err
}
