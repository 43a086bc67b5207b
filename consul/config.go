// Package consul is the server: Raft, the FSM over the state store, the
// RPC endpoints and the leader's duties.
package consul

import (
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Config is what a server needs to start.
type Config struct {
	// NodeName names this server; it is also its Raft server ID.
	NodeName string
	// Datacenter is the local datacenter.
	Datacenter string
	// DataDir holds raft/raft.db and raft's snapshots. Unused in DevMode.
	DataDir string
	// DevMode keeps Raft's log and snapshots in memory.
	DevMode bool
	// Bootstrap makes this server a cluster of one if Raft has no state yet.
	Bootstrap bool
	// RPCAddr is where the RPC listener (and Raft) binds; port 0 picks one.
	RPCAddr *net.TCPAddr
	// RPCAdvertise is the address other servers reach this one at; when
	// nil, the bound address is used (127.0.0.1 if that is unspecified).
	RPCAdvertise *net.TCPAddr
	// RaftConfig tunes Raft; NodeName becomes its LocalID.
	RaftConfig *raft.Config
	// RPCHoldTimeout bounds how long a request waits for a leader.
	RPCHoldTimeout time.Duration
}

// DefaultConfig returns Consul's defaults for a server.
func DefaultConfig() *Config {
	rc := raft.DefaultConfig()
	// Consul's values: compact after 16384 entries, checked every 30 s.
	rc.SnapshotThreshold = 16384
	rc.SnapshotInterval = 30 * time.Second
	return &Config{
		Datacenter:     "dc1",
		RPCAddr:        &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8300},
		RaftConfig:     rc,
		RPCHoldTimeout: 7 * time.Second,
	}
}
