// Package agent runs the server in-process and serves the HTTP API in
// front of it.
package agent

import (
	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/go-hclog"
)

// Agent is a running server agent: the server and its HTTP API.
type Agent struct {
	cfg    *config.Config
	logger hclog.Logger
}

// New checks cfg and returns an agent that is not started yet.
func New(cfg *config.Config, logger hclog.Logger) (*Agent, error) {
	return &Agent{cfg: cfg, logger: logger}, nil
}

// Start starts the server and the HTTP listener; it returns once both are
// listening.
func (a *Agent) Start() error {
	panic("not implemented")
}

// HTTPAddr is the address the HTTP API listens on, once started.
func (a *Agent) HTTPAddr() string {
	panic("not implemented")
}

// Shutdown stops the HTTP API and the server, and closes Raft's stores.
func (a *Agent) Shutdown() error {
	panic("not implemented")
}
