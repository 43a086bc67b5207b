package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-msgpack/v2/codec"
)

// The flood comes from 127.0.0.2 and 127.0.0.3 (Linux routes all of
// 127/8 to lo); the test's management calls and the CLI come from
// 127.0.0.1, so the limits, which count per IP, tell them apart.
var (
	floodIP = net.IPv4(127, 0, 0, 2)
	slowIP  = net.IPv4(127, 0, 0, 3)
	localIP = net.IPv4(127, 0, 0, 1)
)

const limitsRoot = "7e7e7e7e-1111-4222-8333-944444444444"

// limitedAgent is an agent process with ACLs on, default deny, and the
// given limits block; it knows its ports.
type limitedAgent struct {
	*agentProc
	httpPort, serverPort int
}

func startLimitedAgent(t *testing.T, limits string) *limitedAgent {
	t.Helper()
	a := &limitedAgent{httpPort: freePort(t), serverPort: freePort(t)}
	cfg := serverConfigFile(t, t.TempDir(), "limits", a.httpPort, a.serverPort, `
acl {
  enabled = true
  default_policy = "deny"
  tokens { initial_management = "`+limitsRoot+`" }
}
limits {
`+limits+`
}
`)
	a.agentProc = startFromConfig(t, cfg, a.httpPort)
	return a
}

// rootClient is an API client with the management token, from 127.0.0.1.
func (a *limitedAgent) rootClient() *api.Client {
	cfg := a.APIConfig()
	cfg.Token = limitsRoot
	c, err := api.NewClient(cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// dialFrom opens a TCP connection from ip to port on 127.0.0.1, closed
// when the test ends.
func dialFrom(t *testing.T, ip net.IP, port int) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// httpConn is a keep-alive HTTP/1.1 connection spoken by hand, so the
// test knows exactly which connection each request used.
type httpConn struct {
	net.Conn
	r *bufio.Reader
}

func dialHTTP(t *testing.T, ip net.IP, port int) *httpConn {
	t.Helper()
	c := dialFrom(t, ip, port)
	return &httpConn{Conn: c, r: bufio.NewReader(c)}
}

// get sends an anonymous GET for path and reads the answer.
func (c *httpConn) get(path string) (*http.Response, error) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: consul\r\n\r\n", path); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// waitClosed reads from c until the peer closes it or within passes; it
// reports how long that took after since. Bytes read (such as a 429
// answer) are returned too.
func waitClosed(c net.Conn, r io.Reader, since time.Time, within time.Duration) (time.Duration, []byte, error) {
	c.SetReadDeadline(time.Now().Add(within))
	got, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		return 0, got, fmt.Errorf("not closed by the server: %w", err)
	}
	return time.Since(since), got, nil
}

// isReset tells whether err is a connection reset: the server closing a
// connection with unread bytes in it resets it rather than sending EOF.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset by peer")
}

// TestHTTPConnLimitAndTimeouts floods an agent with ACLs on and default
// deny from one IP with idle keep-alive connections (each made one
// anonymous request) and bare TCP connections: the agent holds no more
// than http_max_conns_per_client of them, answers those past it 429 and
// closes them, serves the operator from 127.0.0.1 meanwhile, closes idle
// connections after http_idle_timeout and silent or slow ones after
// http_read_header_timeout, and then takes new connections again.
func TestHTTPConnLimitAndTimeouts(t *testing.T) {
	const limit, idle, header = 20, 4 * time.Second, 6 * time.Second
	a := startLimitedAgent(t, fmt.Sprintf("http_max_conns_per_client = %d\nhttp_idle_timeout = %q\nhttp_read_header_timeout = %q",
		limit, idle.String(), header.String()))
	root := a.rootClient()
	baseFDs := fdCount(t, a.PID())

	// A client that sends its headers slower than the read-header timeout,
	// from another IP so that it takes none of the flood's slots.
	slow := dialFrom(t, slowIP, a.httpPort)
	slowStart := time.Now()
	var slowWriter sync.WaitGroup
	slowWriter.Add(1)
	go func() {
		defer slowWriter.Done()
		if _, err := io.WriteString(slow, "GET /v1/status/leader HTTP/1.1\r\nHost: consul\r\n"); err != nil {
			return
		}
		for i := 0; ; i++ {
			time.Sleep(500 * time.Millisecond)
			if _, err := fmt.Fprintf(slow, "X-Slow-%d: 1\r\n", i); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { slow.Close(); slowWriter.Wait() })

	// Half the slots go to connections that never send a byte, half to
	// keep-alive connections left idle after one request. The bare ones
	// are dialled first: once the last keep-alive one is answered, the
	// agent has accepted every one before it.
	floodStart := time.Now()
	var bare []net.Conn
	for i := 0; i < limit/2; i++ {
		bare = append(bare, dialFrom(t, floodIP, a.httpPort))
	}
	var kept []*httpConn
	var answered []time.Time
	for i := 0; i < limit/2; i++ {
		c := dialHTTP(t, floodIP, a.httpPort)
		resp, err := c.get("/v1/kv/secret")
		if err != nil {
			t.Fatalf("keep-alive connection %d: %v", i, err)
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("keep-alive connection %d: anonymous read answered %d, want 403", i, resp.StatusCode)
		}
		kept, answered = append(kept, c), append(answered, time.Now())
	}

	// Past the limit: 429 and closed, before any request is read.
	for i := 0; i < 30; i++ {
		c := dialHTTP(t, floodIP, a.httpPort)
		resp, err := http.ReadResponse(c.r, nil)
		if err != nil {
			t.Fatalf("connection %d past the limit: no answer: %v", limit+i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("connection %d past the limit: %d %s, want 429", limit+i, resp.StatusCode, body)
		}
		if _, _, err := waitClosed(c, c.r, time.Now(), 2*time.Second); err != nil {
			t.Fatalf("connection %d past the limit: %v", limit+i, err)
		}
	}
	if n := connsFrom(t, a.PID(), a.httpPort, floodIP); n != limit {
		t.Fatalf("the agent holds %d connections from %v, want its limit %d", n, floodIP, limit)
	}
	if fds := fdCount(t, a.PID()); fds > baseFDs+limit+5 {
		t.Fatalf("the agent has %d fds open, %d before the flood of %d slots", fds, baseFDs, limit)
	}

	// The operator is served from 127.0.0.1 while the flood holds its slots.
	start := time.Now()
	if _, err := root.KV().Put(&api.KVPair{Key: "during/flood", Value: []byte("ok")}, nil); err != nil {
		t.Fatalf("management write during the flood: %v", err)
	}
	if _, err := root.Operator().RaftGetConfiguration(nil); err != nil {
		t.Fatalf("management read during the flood: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("management requests during the flood took %v", took)
	}
	if out, code := a.runCLI("kv", "get", "-token", limitsRoot, "during/flood"); code != 0 || strings.TrimSpace(out) != "ok" {
		t.Fatalf("the CLI during the flood: %d %s", code, out)
	}
	if time.Since(floodStart) > idle-time.Second {
		t.Fatalf("the checks above took %v, too near the idle timeout %v to prove anything", time.Since(floodStart), idle)
	}

	// Idle keep-alive connections close after the idle timeout, silent
	// ones and the slow client after the read-header timeout.
	for i, c := range kept {
		took, _, err := waitClosed(c, c.r, answered[i], idle+5*time.Second)
		if err != nil {
			t.Fatalf("idle keep-alive connection %d: %v", i, err)
		}
		if took < idle-500*time.Millisecond || took > idle+3*time.Second {
			t.Fatalf("idle keep-alive connection %d closed %v after its request, want about %v", i, took, idle)
		}
	}
	for i, c := range bare {
		took, got, err := waitClosed(c, c, floodStart, header+5*time.Second)
		if err != nil {
			t.Fatalf("silent connection %d: %v", i, err)
		}
		if took < header-500*time.Millisecond || len(got) != 0 {
			t.Fatalf("silent connection %d closed after %v with %q, want about %v and nothing", i, took, got, header)
		}
	}
	took, _, err := waitClosed(slow, slow, slowStart, header+5*time.Second)
	if err != nil {
		t.Fatalf("slow client: %v", err)
	}
	if took < header-500*time.Millisecond || took > header+3*time.Second {
		t.Fatalf("slow client cut off after %v, want about %v", took, header)
	}

	// The slots are free again, whoever closed the connections.
	for round := 0; round < 2; round++ {
		testutil.Retry(t, 5*time.Second, "the flood's HTTP connections are closed", func() error {
			if n := connsFrom(t, a.PID(), a.httpPort, floodIP); n != 0 {
				return fmt.Errorf("round %d: %d connections from %v still open", round, n, floodIP)
			}
			return nil
		})
		var again []*httpConn
		for i := 0; i < limit; i++ {
			c := dialHTTP(t, floodIP, a.httpPort)
			if resp, err := c.get("/v1/kv/secret"); err != nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("round %d, connection %d after the flood: %v %v", round, i, resp, err)
			}
			again = append(again, c)
		}
		for _, c := range again {
			c.Close()
		}
	}
}

// rpcConn opens a msgpack-RPC connection from ip, as another server
// would: the protocol byte, then net/rpc calls.
func rpcConn(t *testing.T, ip net.IP, port int) *rpc.Client {
	t.Helper()
	c := dialFrom(t, ip, port)
	if _, err := c.Write([]byte{0x00}); err != nil {
		t.Fatal(err)
	}
	return rpc.NewClientWithCodec(codec.MsgpackSpecRpc.ClientCodec(c, structs.MsgpackHandle))
}

// leaderOver asks the server over client who leads.
func leaderOver(client *rpc.Client) (string, error) {
	var leader string
	err := client.Call("Status.Leader", &structs.DCSpecificRequest{Datacenter: "dc1"}, &leader)
	return leader, err
}

// TestRPCConnLimitAndHandshakeTimeout: the server port closes a
// connection that sends no protocol byte after rpc_handshake_timeout,
// holds at most rpc_max_conns_per_client connections from one IP and
// closes those past it at once, logging that once rather than per
// connection, and goes on serving: RPC from another IP, its own
// leadership, KV writes.
func TestRPCConnLimitAndHandshakeTimeout(t *testing.T) {
	const limit, handshake = 5, 3 * time.Second
	a := startLimitedAgent(t, fmt.Sprintf("rpc_max_conns_per_client = %d\nrpc_handshake_timeout = %q", limit, handshake.String()))

	silent := dialFrom(t, floodIP, a.serverPort)
	took, _, err := waitClosed(silent, silent, time.Now(), handshake+5*time.Second)
	if err != nil {
		t.Fatalf("silent connection: %v", err)
	}
	if took < handshake-500*time.Millisecond {
		t.Fatalf("silent connection closed after %v, before the handshake timeout %v", took, handshake)
	}

	var held []*rpc.Client
	for i := 0; i < limit; i++ {
		c := rpcConn(t, floodIP, a.serverPort)
		if leader, err := leaderOver(c); err != nil || leader == "" {
			t.Fatalf("RPC connection %d within the limit: %q %v", i, leader, err)
		}
		held = append(held, c)
	}
	for i := 0; i < 20; i++ {
		c := dialFrom(t, floodIP, a.serverPort)
		c.Write([]byte{0x00})
		// Closed at once, not at the handshake timeout.
		if _, _, err := waitClosed(c, c, time.Now(), handshake/2); err != nil {
			t.Fatalf("RPC connection %d past the limit: %v", limit+i, err)
		}
	}
	if n := connsFrom(t, a.PID(), a.serverPort, floodIP); n != limit {
		t.Fatalf("the server holds %d connections from %v, want its limit %d", n, floodIP, limit)
	}
	testutil.Retry(t, 2*time.Second, "one log line about the refused connections", func() error {
		if n := strings.Count(a.Output(), "refusing connections past limits.rpc_max_conns_per_client"); n != 1 {
			return fmt.Errorf("%d log lines about 20 refused connections, want 1:\n%s", n, a.Output())
		}
		return nil
	})

	local := rpcConn(t, localIP, a.serverPort)
	if leader, err := leaderOver(local); err != nil || leader != fmt.Sprintf("127.0.0.1:%d", a.serverPort) {
		t.Fatalf("RPC from %v while %v is at its limit: %q %v", localIP, floodIP, leader, err)
	}
	if _, err := a.rootClient().KV().Put(&api.KVPair{Key: "rpc/flood", Value: []byte("ok")}, nil); err != nil {
		t.Fatalf("KV write while %v is at its limit: %v", floodIP, err)
	}

	// Closed connections free their slots.
	for _, c := range held {
		c.Close()
	}
	testutil.Retry(t, 5*time.Second, "the flood's RPC connections are closed", func() error {
		if n := connsFrom(t, a.PID(), a.serverPort, floodIP); n != 0 {
			return fmt.Errorf("%d connections from %v still open", n, floodIP)
		}
		return nil
	})
	for i := 0; i < limit; i++ {
		c := rpcConn(t, floodIP, a.serverPort)
		if _, err := leaderOver(c); err != nil {
			t.Fatalf("RPC connection %d after the flood: %v", i, err)
		}
		c.Close()
	}
}
