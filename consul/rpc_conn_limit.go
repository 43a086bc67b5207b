package consul

import (
	"net"
	"time"

	"github.com/hashicorp/go-connlimit"
	"github.com/hashicorp/go-hclog"
)

// refusalLogInterval is the least time between two log lines about
// refused RPC connections: a flood is reported, not echoed.
const refusalLogInterval = 10 * time.Second

// rpcConnLimit bounds how many connections one IP may hold open on the
// RPC port (limits.rpc_max_conns_per_client). Servers count too: on one
// machine every server's Raft and forwarding connections come from the
// same IP.
type rpcConnLimit struct {
	limiter *connlimit.Limiter
	logger  hclog.Logger
	log     logThrottle
}

// newRPCConnLimit limits each IP to max connections; 0 means no limit.
func newRPCConnLimit(max int, logger hclog.Logger) *rpcConnLimit {
	return &rpcConnLimit{
		limiter: connlimit.NewLimiter(connlimit.Config{MaxConnsPerClientIP: max}),
		logger:  logger,
		log:     logThrottle{every: refusalLogInterval},
	}
}

// admit returns c wrapped so that closing it frees its IP's slot, or
// closes c and returns false when its IP holds the limit already.
func (l *rpcConnLimit) admit(c net.Conn) (net.Conn, bool) {
	free, err := l.limiter.Accept(c)
	if err != nil {
		c.Close()
		l.refused(c.RemoteAddr())
		return nil, false
	}
	return connlimit.Wrap(c, free), true
}

// refused logs a refusal, or counts it for the next line when one was
// logged less than refusalLogInterval ago.
func (l *rpcConnLimit) refused(from net.Addr) {
	l.log.event(func(refused int) {
		l.logger.Error("rpc: refusing connections past limits.rpc_max_conns_per_client",
			"from", from, "limit", l.limiter.Config().MaxConnsPerClientIP,
			"refused_since_last_report", refused)
	})
}
