// Package config loads the agent's configuration from defaults, config
// files (JSON or HCL, Consul's key names) and command-line flags, in that
// order of precedence (flags win).
package config

import (
	"time"

	"github.com/consulcompat/consul/structs"
)

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
	// ACL is the access control configuration (the acl block).
	ACL ACLConfig
	// SessionTTLMin is the shortest TTL a session may have
	// (session_ttl_min, a config file key only, as in Consul); 10s by
	// default.
	SessionTTLMin time.Duration
	// Limits bound what one client may hold and what a restore may
	// expand to (the limits block).
	Limits Limits
	// EnableDebug serves Go's profiler under /debug/pprof/ when ACLs are
	// off (enable_debug, a config file key only, as in Consul); off by
	// default. With ACLs on, a token with operator:read reaches the
	// profiler whatever this says, as in Consul.
	EnableDebug bool
	// RaftSnapshotThreshold is how many log entries Raft appends between
	// two snapshots of its own (raft_snapshot_threshold, a config file
	// key only, as in Consul); 0 means Consul's 16384.
	RaftSnapshotThreshold int
	// RaftSnapshotInterval is how often Raft checks whether the threshold
	// is reached, at a random point of each interval
	// (raft_snapshot_interval, a config file key only, as in Consul); 0
	// means Consul's 30s.
	RaftSnapshotInterval time.Duration
	// RaftTrailingLogs is how many log entries Raft keeps behind a
	// snapshot, for followers that lag (raft_trailing_logs, a config file
	// key only, as in Consul); 0 means Consul's 10240.
	RaftTrailingLogs int

	// Services are the services the agent registers at start (the service
	// and services keys), with their checks.
	Services []*structs.ServiceDefinition
	// Checks are the checks the agent registers at start, on the node or
	// on one of Services (the check and checks keys).
	Checks []*structs.CheckDefinition

	// AEInterval is the period of anti-entropy's full sync of the local
	// services and checks to the catalog; 0 means Consul's 60s. No key
	// or flag sets it, as in Consul; tests shorten it.
	AEInterval time.Duration
	// CheckReapInterval is how often the agent looks for services to
	// deregister after a check was critical for longer than its
	// deregister_critical_service_after; 0 means Consul's 30s. Not
	// settable from files or flags, as in Consul.
	CheckReapInterval time.Duration
	// CheckDeregisterIntervalMin is the least deregister_critical_service_after
	// honoured; 0 means Consul's 1m. Not settable from files or flags.
	CheckDeregisterIntervalMin time.Duration
}

// Ports are the agent's listening ports; 0 picks a free port (tests).
type Ports struct {
	HTTP    int
	Server  int
	SerfLAN int
	SerfWAN int
}

// ACL policy values, as Consul spells them.
const (
	// ACLPolicyAllow lets through what no rule decides (default_policy)
	// or everything while the servers cannot be reached (down_policy).
	ACLPolicyAllow = "allow"
	// ACLPolicyDeny refuses what no rule decides, or everything while the
	// servers cannot be reached.
	ACLPolicyDeny = "deny"
	// ACLDownPolicyExtendCache keeps using cached tokens and policies,
	// however old, while the servers cannot be reached; unknown tokens are
	// denied. Consul's default down policy.
	ACLDownPolicyExtendCache = "extend-cache"
	// ACLDownPolicyAsyncCache is extend-cache, but an expired entry is
	// served at once while it is refreshed in the background.
	ACLDownPolicyAsyncCache = "async-cache"
)

// ACLConfig is the acl block of a config file. No command-line flag sets
// any of it, as in Consul.
type ACLConfig struct {
	// Enabled turns ACL enforcement on (acl.enabled); off by default.
	Enabled bool
	// DefaultPolicy decides a request that no rule of its token matches:
	// "allow" (the default) or "deny" (acl.default_policy, formerly
	// acl_default_policy).
	DefaultPolicy string
	// DownPolicy says what to do with a token when the servers cannot be
	// reached to resolve it: "allow", "deny", "extend-cache" (the default)
	// or "async-cache" (acl.down_policy, formerly acl_down_policy).
	DownPolicy string
	// EnableTokenPersistence keeps the agent tokens set through the API
	// (/v1/agent/token/...) across restarts, in the data directory
	// (acl.enable_token_persistence).
	EnableTokenPersistence bool
	// Tokens are the tokens the agent is configured with (acl.tokens).
	Tokens ACLTokens
}

// ACLTokens are the secret IDs of the tokens set in the acl.tokens block.
type ACLTokens struct {
	// InitialManagement is created as a management token when the
	// cluster's ACLs are bootstrapped, so that operators know its secret
	// in advance (acl.tokens.initial_management; formerly
	// acl.tokens.master and the top-level acl_master_token).
	InitialManagement string
	// Agent is used for the agent's own requests, such as registering its
	// node (acl.tokens.agent; formerly acl_agent_token). Default is used
	// when it is empty.
	Agent string
	// Default is used for requests that carry no token (acl.tokens.default;
	// formerly acl_token). The anonymous token is used when it is empty.
	Default string
}
