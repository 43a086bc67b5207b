// Package config loads the agent's configuration from defaults, config
// files (JSON or HCL, Consul's key names) and command-line flags, in that
// order of precedence (flags win).
package config

import "time"

// Config is the agent's whole configuration after loading.
type Config struct {
	// NodeName is the node's name (-node, node_name); the hostname by default.
	NodeName string
	// Datacenter is the datacenter name (-datacenter, datacenter); "dc1" by default.
	Datacenter string
	// DataDir holds Raft's log and snapshots (-data-dir, data_dir); required
	// unless DevMode.
	DataDir string
	// Server runs the agent as a server (-server, server). Only server mode
	// exists so far.
	Server bool
	// Bootstrap makes this server elect itself (-bootstrap, bootstrap).
	Bootstrap bool
	// BootstrapExpect is the number of servers to wait for before the first
	// election (-bootstrap-expect, bootstrap_expect).
	BootstrapExpect int
	// BindAddr is the address for cluster traffic (-bind, bind_addr).
	BindAddr string
	// ClientAddr is the address the HTTP API listens on (-client, client_addr).
	ClientAddr string
	// Ports are the listening ports (-http-port, -server-port, ports { ... }).
	Ports Ports
	// DevMode keeps Raft in memory and bootstraps on 127.0.0.1 (-dev).
	DevMode bool
	// LogLevel is trace, debug, info, warn or error (-log-level, log_level).
	LogLevel string
	// ReconcileInterval and other timings stay at their defaults for now.
	RaftSnapshotInterval  time.Duration
	RaftSnapshotThreshold uint64
}

// Ports are the agent's listening ports; 0 picks a free port (tests).
type Ports struct {
	HTTP    int
	Server  int
	SerfLAN int
	SerfWAN int
}
