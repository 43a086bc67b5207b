package agent

import (
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-connlimit"
)

// tooManyConnsWriteWait bounds how long the 429 to a client past its
// limit may take to write: the hook runs on the accept loop, which a
// client that does not read must not hold up. Consul waits as long.
const tooManyConnsWriteWait = 10 * time.Millisecond

// httpConnLimit is the HTTP server's ConnState hook that lets one client
// IP hold at most max connections (limits.http_max_conns_per_client; 0
// means no limit). A connection past it is answered 429 Too Many
// Requests and closed before any request is read, as Consul does.
func httpConnLimit(max int) func(net.Conn, http.ConnState) {
	l := connlimit.NewLimiter(connlimit.Config{MaxConnsPerClientIP: max})
	return l.HTTPConnStateFuncWithDefault429Handler(tooManyConnsWriteWait)
}
