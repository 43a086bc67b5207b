package agent

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// serfAddr is the address to join a's Serf at.
func serfAddr(a *Agent) string {
	m := a.server.LocalMember()
	return net.JoinHostPort(m.Addr.String(), fmt.Sprint(m.Port))
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func memberStatus(t *testing.T, c *api.Client, name string) int {
	t.Helper()
	members, err := c.Agent().Members(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Name == name {
			return m.Status
		}
	}
	return 0
}

func TestMembersJoinLeaveWithAPIClient(t *testing.T) {
	a, ca := testAgent(t)

	members, err := ca.Agent().MembersOpts(api.MembersOpts{Segment: api.AllSegments})
	if err != nil || len(members) != 1 {
		t.Fatalf("members %v %v", members, err)
	}
	m := members[0]
	if m.Name != "agent-test" || m.Addr != "127.0.0.1" || int(m.Port) != int(a.server.LocalMember().Port) ||
		m.Status != 1 || !m.IsConsulServer() || m.Tags["dc"] != "dc1" || m.Tags["build"] != Version ||
		m.Tags["bootstrap"] != "1" || m.Tags["port"] != fmt.Sprint(a.server.RPCAddr().(*net.TCPAddr).Port) ||
		m.ProtocolCur == 0 || m.DelegateCur == 0 {
		t.Fatalf("member %+v", m)
	}
	self, err := ca.Agent().Self()
	if err != nil || self["Member"]["Name"] != "agent-test" || self["Member"]["Status"] != float64(1) {
		t.Fatalf("self member %v %v", self["Member"], err)
	}

	// A second server, neither bootstrapping nor expecting, joins through
	// the API; the leader makes it a Raft voter.
	b, cb := testAgent(t, joining("second"))
	if err := cb.Agent().Join(serfAddr(a), false); err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "the second server is a voter and sees the first alive", func() bool {
		peers, err := ca.Status().Peers()
		return err == nil && len(peers) == 2 && memberStatus(t, cb, "agent-test") == 1
	})
	if _, err := ca.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}

	// It leaves: the leader removes it from Raft, Serf shows it left, and
	// the agent asks the process to stop.
	if err := cb.Agent().Leave(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.StopCh():
		if err != nil {
			t.Fatalf("stop reason %v, want nil after a leave", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no stop after leave")
	}
	peers, err := ca.Status().Peers()
	if err != nil || len(peers) != 1 {
		t.Fatalf("peers after leave %v %v", peers, err)
	}
	testutil.Until(t, 10*time.Second, "the second server shown as left", func() bool { return memberStatus(t, ca, "second") == 3 })
	if _, err := ca.KV().Put(&api.KVPair{Key: "k", Value: []byte("v2")}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMembershipHTTPErrors(t *testing.T) {
	a, c := testAgent(t)
	base := "http://" + a.HTTPAddr()
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1/agent/members?wan=1", 400, "WAN"},
		{"GET", "/v1/agent/members?segment=alpha", 400, "segments"},
		{"PUT", "/v1/agent/join/", 400, "Missing address"},
		{"PUT", "/v1/agent/join/" + deadAddr(t), 500, "connection refused"},
		{"PUT", "/v1/agent/join/127.0.0.1:1?wan=1", 400, "WAN"},
		{"GET", "/v1/agent/join/127.0.0.1", 405, ""},
		{"GET", "/v1/agent/leave", 405, ""},
		{"PUT", "/v1/agent/members", 405, ""},
	}
	for _, tc := range cases {
		r := doHTTP(t, tc.method, base+tc.path, "", nil)
		if r.status != tc.status || !strings.Contains(string(r.body), tc.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, r.status, r.body, tc.status, tc.body)
		}
	}
	// The agent is still a cluster of one, and running.
	if peers, err := c.Status().Peers(); err != nil || len(peers) != 1 {
		t.Fatalf("peers %v %v", peers, err)
	}
}

func TestStartJoin(t *testing.T) {
	a, ca := testAgent(t)

	testAgent(t, joining("joiner"), withConfig(func(c *config.Config) {
		c.StartJoin = []string{deadAddr(t), serfAddr(a)}
	}))
	testutil.Until(t, 10*time.Second, "the joiner is a voter", func() bool {
		peers, err := ca.Status().Peers()
		return err == nil && len(peers) == 2
	})

	// Reaching none is fatal, and leaves nothing listening.
	err := testAgentStartErr(t, joining("lonely"), withConfig(func(c *config.Config) {
		c.StartJoin = []string{deadAddr(t)}
	}))
	if !strings.Contains(err.Error(), "-join") {
		t.Fatalf("start with an unreachable -join: %v", err)
	}
}

func TestRetryJoin(t *testing.T) {
	a, ca := testAgent(t)

	// Joins once an address answers; a dead one beside it does not matter.
	testAgent(t, joining("retrier"), withConfig(func(c *config.Config) {
		c.RetryJoin = []string{deadAddr(t), serfAddr(a)}
	}))
	testutil.Until(t, 10*time.Second, "the retrier is a voter", func() bool {
		peers, err := ca.Status().Peers()
		return err == nil && len(peers) == 2
	})

	// Gives up after -retry-max rounds, and says so on StopCh.
	b, _ := testAgent(t, joining("giver-up"), withConfig(func(c *config.Config) {
		c.RetryJoin = []string{deadAddr(t)}
		c.RetryMax = 2
	}))
	select {
	case err := <-b.StopCh():
		if err == nil || !strings.Contains(err.Error(), "2 attempts") {
			t.Fatalf("stop reason %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("retry-join did not give up")
	}
}

func TestBootstrapExpectAgents(t *testing.T) {
	// Three agents expecting three, each retry-joining the first: one
	// cluster with three voters.
	var first *Agent
	var clients []*api.Client
	for i := 0; i < 3; i++ {
		a, c := testAgent(t, joining(fmt.Sprintf("e%d", i)), withConfig(func(c *config.Config) {
			c.BootstrapExpect = 3
			if first != nil {
				c.RetryJoin = []string{serfAddr(first)}
			}
		}))
		if first == nil {
			first = a
		}
		clients = append(clients, c)
	}
	for _, c := range clients {
		testutil.Until(t, 10*time.Second, "a leader and three voters", func() bool {
			leader, err := c.Status().Leader()
			peers, err2 := c.Status().Peers()
			return err == nil && err2 == nil && leader != "" && len(peers) == 3
		})
	}
}
