// Package consul is the server: Raft, the FSM over the state store, the
// RPC endpoints, the leader's duties and cluster membership (Serf LAN).
package consul

import (
	"net"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/serf/serf"
)

// Config is what a server needs to start.
type Config struct {
	// NodeName names this server; it is also its Raft server ID and its
	// Serf member name.
	NodeName string
	// Datacenter is the local datacenter.
	Datacenter string
	// DataDir holds raft/raft.db, raft's snapshots and serf/local.snapshot.
	// Unused in DevMode.
	DataDir string
	// DevMode keeps Raft's log and snapshots in memory, and Serf keeps no
	// snapshot.
	DevMode bool
	// Bootstrap makes this server a cluster of one if Raft has no state yet.
	Bootstrap bool
	// BootstrapExpect, when above 1, makes a server with no Raft state wait
	// until it sees that many servers of its datacenter (itself included)
	// in Serf, all expecting the same number, and then bootstrap Raft with
	// them. 0 (and 1, which the agent turns into Bootstrap) leaves it off.
	BootstrapExpect int
	// RPCAddr is where the RPC listener (and Raft) binds; port 0 picks one.
	RPCAddr *net.TCPAddr
	// Advertise is the IP other servers reach this one at, for RPC and
	// Raft (with the RPC port) and for Serf (with the Serf port). When nil,
	// the bound IP is used, or 127.0.0.1 when that is unspecified.
	Advertise net.IP
	// SerfLANConfig configures Serf LAN. Its MemberlistConfig's BindAddr
	// and BindPort say where Serf listens (port 0 picks one); NodeName,
	// Tags, EventCh, SnapshotPath, Merge, the loggers and the advertised
	// address are set by the server.
	SerfLANConfig *serf.Config
	// Build is the version this server reports in its "build" Serf tag.
	Build string
	// RaftConfig tunes Raft; NodeName becomes its LocalID.
	RaftConfig *raft.Config
	// RPCHoldTimeout bounds how long a request waits for a leader.
	RPCHoldTimeout time.Duration
	// ReconcileInterval is how often the leader compares Serf's servers
	// with the Raft configuration even when no member event arrived.
	ReconcileInterval time.Duration

	// TombstoneTTL is how long the tombstone of a deleted key is kept, so
	// that blocking prefix reads never see their index go back while a
	// client could still wait on it; TombstoneGranularity is how often the
	// leader looks. Consul's defaults: 15 min and 30 s.
	TombstoneTTL         time.Duration
	TombstoneGranularity time.Duration

	// SessionTTLMin is the shortest TTL a session may ask for; Consul's
	// default is 10 s (structs.SessionTTLMin).
	SessionTTLMin time.Duration

	// ACLsEnabled turns ACL enforcement on; off, every request may do
	// everything, as in Consul.
	ACLsEnabled bool
	// ACLDefaultAllow is default_policy = "allow": what no rule decides is
	// allowed. With "deny" it is refused.
	ACLDefaultAllow bool
	// ACLInitialManagementToken, if set, is made a management token by the
	// first leader (acl.tokens.initial_management).
	ACLInitialManagementToken string
	// ACLDefaultToken is used for requests that carry no token
	// (acl.tokens.default); empty means the anonymous token.
	ACLDefaultToken string

	// RPCMaxConnsPerClient is how many connections one IP may hold open
	// on the RPC port (limits.rpc_max_conns_per_client); 0 means no limit.
	RPCMaxConnsPerClient int
	// RPCHandshakeTimeout is how long a new connection on the RPC port
	// has to send the byte that picks its protocol
	// (limits.rpc_handshake_timeout).
	RPCHandshakeTimeout time.Duration
	// RestoreMaxStateBytes is the largest state.bin a restore may
	// declare in meta.json (limits.restore_max_state_bytes), which is as
	// far as its archive may expand: past it the upload is refused before
	// any of state.bin is read. 0 means a twentieth of the memory this
	// server may use: the machine's, or its cgroup's limit if lower.
	// snapshot.MaxStateSize (16 GiB) bounds it in any case.
	RestoreMaxStateBytes int64
	// RestoreUploadGrace and RestoreUploadMinRate bound how long a
	// restore upload may take: grace, plus its declared state size at the
	// rate, in bytes a second (limits.restore_upload_grace,
	// limits.restore_upload_min_rate). A grace of 0 sets no bound.
	RestoreUploadGrace   time.Duration
	RestoreUploadMinRate int64
}

// DefaultConfig returns Consul's defaults for a server.
func DefaultConfig() *Config {
	rc := raft.DefaultConfig()
	// Consul's values: compact after 16384 entries, checked every 30 s.
	rc.SnapshotThreshold = 16384
	rc.SnapshotInterval = 30 * time.Second
	sc := serf.DefaultConfig()
	sc.MemberlistConfig = memberlist.DefaultLANConfig()
	sc.MemberlistConfig.BindAddr = "127.0.0.1"
	sc.MemberlistConfig.BindPort = 8301
	// Consul's value: a failed server is reaped after 72 hours.
	sc.ReconnectTimeout = 72 * time.Hour
	return &Config{
		Datacenter:        "dc1",
		RPCAddr:           &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8300},
		SerfLANConfig:     sc,
		RaftConfig:        rc,
		RPCHoldTimeout:    7 * time.Second,
		ReconcileInterval: 60 * time.Second,
		ACLDefaultAllow:   true,
		// Consul's values.
		TombstoneTTL:         15 * time.Minute,
		TombstoneGranularity: 30 * time.Second,
		SessionTTLMin:        structs.SessionTTLMin,
		RPCMaxConnsPerClient: 100,
		RPCHandshakeTimeout:  5 * time.Second,
		RestoreUploadGrace:   30 * time.Second,
		RestoreUploadMinRate: 1 << 20,
	}
}
