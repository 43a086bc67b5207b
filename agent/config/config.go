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
	// BindAddr is the address for cluster traffic: server RPC, Raft and
	// Serf LAN (-bind, bind_addr).
	BindAddr string
	// AdvertiseAddr is the address other servers reach this one at, for
	// RPC, Raft and Serf (-advertise, advertise_addr); empty means the bind
	// address, or 127.0.0.1 when that is 0.0.0.0.
	AdvertiseAddr string
	// StartJoin are Serf addresses to join at start; failing to join any
	// is fatal (-join, start_join).
	StartJoin []string
	// RetryJoin are Serf addresses to join at start, trying again every
	// RetryInterval until one answers (-retry-join, retry_join).
	RetryJoin []string
	// RetryInterval is the wait between two rounds of RetryJoin
	// (-retry-interval, retry_interval); 30s by default.
	RetryInterval time.Duration
	// RetryMax is how many rounds of RetryJoin to try before the agent
	// gives up and stops; 0 tries for ever (-retry-max, retry_max).
	RetryMax int
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
