package config

import (
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
)

// Limits is the limits block: what one client may hold of the agent's
// connections, and how large a state a snapshot restore may bring.
type Limits struct {
	// HTTPMaxConnsPerClient is how many HTTP connections one client IP
	// may hold open at once; past it, a new connection is answered 429
	// and closed (limits.http_max_conns_per_client, Consul's key and
	// default: 200). 0 means no limit.
	HTTPMaxConnsPerClient int
	// HTTPIdleTimeout is how long an idle keep-alive HTTP connection is
	// kept before the agent closes it (limits.http_idle_timeout, this
	// agent's key); 90 s by default, as long as the official client keeps
	// its own idle connections.
	HTTPIdleTimeout time.Duration
	// HTTPReadHeaderTimeout is how long a client has to send a request's
	// headers (limits.http_read_header_timeout, this agent's key); 10 s
	// by default.
	HTTPReadHeaderTimeout time.Duration
	// RPCMaxConnsPerClient is how many connections one IP may hold open
	// on the server (RPC and Raft) port (limits.rpc_max_conns_per_client,
	// Consul's key and default: 100). 0 means no limit.
	RPCMaxConnsPerClient int
	// RPCHandshakeTimeout is how long a new connection on the server port
	// has to send its first byte, which picks its protocol
	// (limits.rpc_handshake_timeout, Consul's key and default: 5 s).
	RPCHandshakeTimeout time.Duration
	// RestoreMaxStateBytes is the largest state.bin, in bytes, that a
	// snapshot restore may declare, and so expand to
	// (limits.restore_max_state_bytes, this agent's key); 0 means a
	// twentieth of the memory the server may use (the machine's, or its
	// cgroup's limit if lower).
	RestoreMaxStateBytes int
	// RestoreUploadGrace and RestoreUploadMinRate bound how long a
	// snapshot restore's upload may take: it must end within the grace,
	// plus its declared state.bin size at the rate, in bytes a second
	// (limits.restore_upload_grace and limits.restore_upload_min_rate,
	// this agent's keys; 30 s and 1 MiB/s by default).
	RestoreUploadGrace   time.Duration
	RestoreUploadMinRate int
}

// defaultLimits are the limits before any file or flag.
func defaultLimits() Limits {
	return Limits{
		HTTPMaxConnsPerClient: 200,
		HTTPIdleTimeout:       90 * time.Second,
		HTTPReadHeaderTimeout: 10 * time.Second,
		RPCMaxConnsPerClient:  100,
		RPCHandshakeTimeout:   5 * time.Second,
		RestoreUploadGrace:    30 * time.Second,
		RestoreUploadMinRate:  1 << 20,
	}
}

// limits applies a limits block.
func (d *fileDecoder) limits(l *Limits, item *ast.ObjectItem, rest []string) error {
	return d.block("limits", item, rest, func(key string, rest []string, item *ast.ObjectItem) error {
		path := "limits." + key
		var dst interface{}
		switch key {
		case "http_max_conns_per_client":
			dst = &l.HTTPMaxConnsPerClient
		case "http_idle_timeout":
			dst = &l.HTTPIdleTimeout
		case "http_read_header_timeout":
			dst = &l.HTTPReadHeaderTimeout
		case "rpc_max_conns_per_client":
			dst = &l.RPCMaxConnsPerClient
		case "rpc_handshake_timeout":
			dst = &l.RPCHandshakeTimeout
		case "restore_max_state_bytes":
			dst = &l.RestoreMaxStateBytes
		case "restore_upload_grace":
			dst = &l.RestoreUploadGrace
		case "restore_upload_min_rate":
			dst = &l.RestoreUploadMinRate
		default:
			// Consul's other limits (rpc_rate, kv_max_value_size, ...) are
			// refused rather than ignored: a file that sets them expects a
			// behaviour this agent does not have.
			return d.errorf(item.Pos(), "unknown key %q", path)
		}
		return d.set(dst, path, rest, item)
	})
}

// validateLimits adds an error for each limit out of range.
func validateLimits(l *Limits, add func(format string, args ...interface{})) {
	for _, n := range []struct {
		key string
		v   int
	}{
		{"limits.http_max_conns_per_client", l.HTTPMaxConnsPerClient},
		{"limits.rpc_max_conns_per_client", l.RPCMaxConnsPerClient},
		{"limits.restore_max_state_bytes", l.RestoreMaxStateBytes},
		{"limits.restore_upload_min_rate", l.RestoreUploadMinRate},
	} {
		if n.v < 0 {
			add("%s must not be negative, got %d", n.key, n.v)
		}
	}
	for _, t := range []struct {
		key string
		v   time.Duration
	}{
		{"limits.http_idle_timeout", l.HTTPIdleTimeout},
		{"limits.http_read_header_timeout", l.HTTPReadHeaderTimeout},
		{"limits.rpc_handshake_timeout", l.RPCHandshakeTimeout},
		{"limits.restore_upload_grace", l.RestoreUploadGrace},
	} {
		if t.v <= 0 {
			add("%s must be positive, got %v", t.key, t.v)
		}
	}
}
