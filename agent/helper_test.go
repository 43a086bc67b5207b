package agent

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// rootSecret is the initial management token of an agent started
// withACLs.
const rootSecret = "11111111-2222-3333-4444-555555555555"

// agentSetup is what testAgent starts, as its options leave it.
type agentSetup struct {
	cfg *config.Config
	// token is the client's ACL token.
	token string
	// waitLeader: wait until the agent leads its own cluster.
	waitLeader bool
	// checkLeaks: fail the test if goroutines outlive the agent.
	checkLeaks bool
}

// agentOption changes what testAgent starts.
type agentOption func(*agentSetup)

// withConfig changes the agent's configuration.
func withConfig(mutate func(*config.Config)) agentOption {
	return func(s *agentSetup) { mutate(s.cfg) }
}

// withACLs turns ACLs on, default deny, with rootSecret as the initial
// management token; the client holds that token, and testAgent waits
// until the agent resolves it.
func withACLs() agentOption {
	return func(s *agentSetup) {
		s.cfg.ACL.Enabled = true
		s.cfg.ACL.DefaultPolicy = config.ACLPolicyDeny
		s.cfg.ACL.Tokens.InitialManagement = rootSecret
		s.token = rootSecret
	}
}

// withLocal is for tests of the agent's own services and checks:
// anti-entropy and the reaper run quickly, and no goroutine may outlive
// the agent.
func withLocal() agentOption {
	return func(s *agentSetup) {
		s.cfg.AEInterval = 200 * time.Millisecond
		s.cfg.CheckReapInterval = 50 * time.Millisecond
		s.cfg.CheckDeregisterIntervalMin = time.Millisecond
		s.checkLeaks = true
	}
}

// joining makes the agent a server named name that neither bootstraps
// nor expects others, as one that joins a cluster; it retries joins
// every 50 ms, and testAgent does not wait for a leader.
func joining(name string) agentOption {
	return func(s *agentSetup) {
		s.cfg.NodeName = name
		s.cfg.Bootstrap = false
		s.cfg.RetryInterval = 50 * time.Millisecond
		s.waitLeader = false
	}
}

// newAgentSetup is a bootstrapping server agent named agent-test in dc1,
// on random loopback ports with its data in a temp dir, changed by opts.
func newAgentSetup(t *testing.T, opts []agentOption) *agentSetup {
	s := &agentSetup{
		cfg: &config.Config{
			NodeName:   "agent-test",
			Datacenter: "dc1",
			DataDir:    t.TempDir(),
			Server:     true,
			Bootstrap:  true,
			BindAddr:   "127.0.0.1",
			ClientAddr: "127.0.0.1",
			LogLevel:   "warn",
		},
		waitLeader: true,
	}
	for _, o := range opts {
		o(s)
	}
	if s.checkLeaks {
		testutil.CheckLeaks(t)
	}
	return s
}

// testAgent starts an agent, by default a server that bootstraps a
// cluster of its own, and waits for it to lead; opts change that. The
// agent shuts down when the test ends, which fails if Shutdown does.
// testAgent returns the agent and an official API client for it.
func testAgent(t *testing.T, opts ...agentOption) (*Agent, *api.Client) {
	t.Helper()
	s := newAgentSetup(t, opts)
	a, err := New(s.cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	client := clientWithToken(t, a, s.token)
	if s.waitLeader {
		testutil.Until(t, 10*time.Second, "the agent leads", func() bool {
			leader, err := client.Status().Leader()
			return err == nil && leader != ""
		})
	}
	if s.token != "" {
		testutil.Until(t, 10*time.Second, "the agent resolves the client's token", func() bool {
			_, _, err := client.ACL().TokenReadSelf(nil)
			return err == nil
		})
	}
	return a, client
}

// testAgentStartErr is testAgent for an agent that must not start: it
// returns Start's error, and fails the test if there is none.
func testAgentStartErr(t *testing.T, opts ...agentOption) error {
	t.Helper()
	s := newAgentSetup(t, opts)
	a, err := New(s.cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start()
	if err == nil {
		a.Shutdown()
		t.Fatal("the agent started")
	}
	return err
}

// clientWithToken is an official API client for a that sends secret.
func clientWithToken(t *testing.T, a *Agent, secret string) *api.Client {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: a.HTTPAddr(), Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testLogger discards what an agent logs below errors.
func testLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: io.Discard})
}

// httpResult is an HTTP answer as doHTTP reads it.
type httpResult struct {
	status int
	body   []byte
	header http.Header
	// filtered is X-Consul-Results-Filtered-By-ACLs.
	filtered bool
}

// doHTTP sends a request with the token secret (none if empty) and reads
// the whole answer.
func doHTTP(t *testing.T, method, url, secret string, body []byte) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("X-Consul-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, b, resp.Header, resp.Header.Get("X-Consul-Results-Filtered-By-ACLs") == "true"}
}
