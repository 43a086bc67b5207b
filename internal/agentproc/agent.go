// Package agentproc runs the consul binary as processes of their own, for
// the end-to-end tests (e2e/) and the load tools (bench/): `consul agent`
// on free loopback ports, with what the kernel says of its memory and
// its disk writes, and any other command beside it. It knows nothing of
// testing.T; a caller turns its errors into failures.
package agentproc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// leaderTimeout bounds the wait for a new agent to have a leader.
const leaderTimeout = 30 * time.Second

// Agent is `consul agent` running as a process of its own.
type Agent struct {
	*Process
	// HTTPAddr is the host:port of the agent's HTTP API.
	HTTPAddr string
	// DataDir is the agent's data directory, empty with -dev.
	DataDir string
	// transport is shared by every client of the agent, so that polling
	// reuses connections: each client with a pool of its own would leave
	// an idle connection behind, and 127.0.0.1, where every client comes
	// from, may hold only limits.http_max_conns_per_client. The kernel
	// closes them when the agent ends.
	transport *http.Transport
}

// Start starts bin as Args(node, dataDir, extra...) says and waits until
// the agent has a leader. If it gets none, Start stops it and its error
// holds the agent's output.
func Start(bin, node, dataDir string, extra ...string) (*Agent, error) {
	args, httpPort, err := Args(node, dataDir, extra...)
	if err != nil {
		return nil, err
	}
	a, err := Spawn(exec.Command(bin, args...), httpPort, dataDir)
	if err != nil {
		return nil, err
	}
	if err := a.WaitForLeader(); err != nil {
		a.Stop()
		return nil, err
	}
	return a, nil
}

// Args are the arguments of `consul agent` for a server named node that
// bootstraps a cluster of its own, with its data in dataDir (empty: -dev,
// in memory), on free loopback ports, followed by extra; and the HTTP
// port they choose.
func Args(node, dataDir string, extra ...string) ([]string, int, error) {
	httpPort, err := FreePort()
	if err != nil {
		return nil, 0, err
	}
	serverPort, err := FreePort()
	if err != nil {
		return nil, 0, err
	}
	// Serf's ports are the kernel's choice: agents that run side by side
	// must not share the default ones.
	args := []string{"agent", "-node", node, "-http-port", strconv.Itoa(httpPort), "-server-port", strconv.Itoa(serverPort),
		"-serf-lan-port", "0", "-serf-wan-port", "0"}
	if dataDir == "" {
		args = append(args, "-dev")
	} else {
		args = append(args, "-server", "-bootstrap", "-data-dir", dataDir, "-bind", "127.0.0.1", "-client", "127.0.0.1")
	}
	return append(args, extra...), httpPort, nil
}

// Spawn starts cmd, an agent whose HTTP API is to listen on httpPort of
// 127.0.0.1 and whose data is in dataDir, as StartProcess does; it does
// not wait for anything. cmd may run the agent in some way of its own
// (in a namespace of its own, say).
func Spawn(cmd *exec.Cmd, httpPort int, dataDir string) (*Agent, error) {
	p, err := StartProcess(cmd)
	if err != nil {
		return nil, err
	}
	return &Agent{Process: p, HTTPAddr: "127.0.0.1:" + strconv.Itoa(httpPort), DataDir: dataDir,
		transport: api.DefaultConfig().Transport}, nil
}

// WaitForLeader waits until the agent has a leader and serves reads, for
// at most leaderTimeout. Its error holds the agent's output.
func (a *Agent) WaitForLeader() error {
	c, err := api.NewClient(a.APIConfig())
	if err != nil {
		return err
	}
	err = testutil.Wait(leaderTimeout, func() error {
		select {
		case <-a.Exited():
			// Nothing to wait for; told below.
			return nil
		default:
		}
		return serving(c)
	})
	select {
	case <-a.Exited():
		return fmt.Errorf("the agent exited (%v) before it had a leader:\n%s", a.State(), a.Output())
	default:
	}
	if err != nil {
		return fmt.Errorf("no leader within %v: %v\nthe agent's output:\n%s", leaderTimeout, err, a.Output())
	}
	return nil
}

// serving tells why the agent c talks to does not serve yet, if it does
// not.
func serving(c *api.Client) error {
	leader, err := c.Status().Leader()
	if err != nil {
		return err
	}
	if leader == "" {
		return errors.New("no leader")
	}
	// The leader also has to have applied everything before it serves;
	// with ACLs on and default deny, a refusal shows it serves too.
	if _, _, err := c.KV().Get("agentproc-probe", nil); err != nil && !strings.Contains(err.Error(), "403") {
		return err
	}
	return nil
}

// APIConfig is the configuration of an official API client for the
// agent, with the agent's shared transport; the caller may add a token.
func (a *Agent) APIConfig() *api.Config {
	return &api.Config{Address: a.HTTPAddr, Transport: a.transport}
}

// URL is the URL of path on the agent's HTTP API.
func (a *Agent) URL(path string) string {
	return "http://" + a.HTTPAddr + path
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
