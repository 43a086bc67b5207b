package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent"
	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// rootSecret is the initial management token of the agents with ACLs on.
const rootSecret = "11111111-2222-4333-8444-555555555555"

// testAgent is a real agent, in-process, for the CLI under test to talk
// to.
type testAgent struct {
	*agent.Agent
	// url is the agent's HTTP API, for -http-addr and CONSUL_HTTP_ADDR.
	url string
	// client is an API client for setting up and checking the agent's
	// state; with ACLs on, it holds rootSecret.
	client *api.Client
	// dataDir is the agent's data directory.
	dataDir string
	// acl tells whether ACLs are on.
	acl bool
}

// aclOn turns ACLs on, default deny, with rootSecret as the initial
// management token.
func aclOn(c *config.Config) {
	aclUnbootstrapped(c)
	c.ACL.Tokens.InitialManagement = rootSecret
}

// aclUnbootstrapped turns ACLs on, default deny, without a management
// token: one is made by `consul acl bootstrap`.
func aclUnbootstrapped(c *config.Config) {
	c.ACL.Enabled = true
	c.ACL.DefaultPolicy = config.ACLPolicyDeny
}

// newTestAgent starts an agent of the test's own, configured as
// startAgent says and changed by mutate (nil for no change), and shuts it
// down when the test ends. Most tests share one instead (see
// sharedAgent); this is for those that change what others rely on.
func newTestAgent(t *testing.T, mutate func(*config.Config)) *testAgent {
	t.Helper()
	a, err := startAgent(t.TempDir(), mutate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// startAgent starts a bootstrapped server agent on random loopback ports
// with its data in dataDir, changed by mutate, and waits until it has a
// leader and, with ACLs on, its built-in tokens.
func startAgent(dataDir string, mutate func(*config.Config)) (*testAgent, error) {
	cfg := &config.Config{
		NodeName:   "cli-test",
		Datacenter: "dc1",
		DataDir:    dataDir,
		Server:     true,
		Bootstrap:  true,
		BindAddr:   "127.0.0.1",
		ClientAddr: "127.0.0.1",
		LogLevel:   "warn",
	}
	if mutate != nil {
		mutate(cfg)
	}
	a, err := agent.New(cfg, hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard}))
	if err != nil {
		return nil, err
	}
	if err := a.Start(); err != nil {
		return nil, err
	}
	ta := &testAgent{Agent: a, url: "http://" + a.HTTPAddr(), dataDir: dataDir, acl: cfg.ACL.Enabled}
	ta.client, err = api.NewClient(&api.Config{Address: ta.url, Token: cfg.ACL.Tokens.InitialManagement})
	if err == nil {
		err = testutil.Wait(10*time.Second, func() error {
			leader, err := ta.client.Status().Leader()
			if err == nil && leader == "" {
				err = errors.New("no leader")
			}
			return err
		})
	}
	if err == nil && cfg.ACL.Enabled {
		// The leader creates the anonymous token and the initial
		// management one after its election.
		err = testutil.Wait(10*time.Second, func() error {
			if _, _, err := ta.client.ACL().TokenReadSelf(nil); err != nil {
				return fmt.Errorf("the initial management token: %w", err)
			}
			return nil
		})
	}
	if err != nil {
		a.Shutdown()
		return nil, err
	}
	return ta, nil
}

// sharedAgents are the agents that the tests share, by whether ACLs are
// on, started on first use and shut down by TestMain: starting one takes
// about two seconds, most of them waiting for its election.
var sharedAgents = make(map[bool]*testAgent)

// sharedAgent returns the package's agent with ACLs on or off, emptied of
// what earlier tests stored in it: keys, sessions, and ACL objects other
// than the built-in ones and rootSecret's token. The tests of the package
// run one at a time (none calls t.Parallel), so each has the agent to
// itself.
//
// With ACLs on, it is aclOn with rootSecret as the default token too:
// a request without a token is an operator's, as from a shell with
// CONSUL_HTTP_TOKEN set, so that a test names a token only to have it
// refused.
func sharedAgent(t *testing.T, acl bool) *testAgent {
	t.Helper()
	a := sharedAgents[acl]
	if a == nil {
		dir, err := os.MkdirTemp("", "cli-test-agent")
		if err != nil {
			t.Fatal(err)
		}
		var mutate func(*config.Config)
		if acl {
			mutate = func(c *config.Config) {
				aclOn(c)
				c.ACL.Tokens.Default = rootSecret
			}
		}
		if a, err = startAgent(dir, mutate); err != nil {
			os.RemoveAll(dir)
			t.Fatal(err)
		}
		sharedAgents[acl] = a
	}
	a.reset(t)
	return a
}

// TestMain shuts the shared agents down once every test has run, and
// fails if goroutines are left behind by then.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, a := range sharedAgents {
		if err := a.Shutdown(); err != nil {
			fmt.Fprintln(os.Stderr, "shutting down a shared agent:", err)
			code = 1
		}
		os.RemoveAll(a.dataDir)
	}
	if err := testutil.FindLeaks(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// reset deletes what tests store in the agent.
func (a *testAgent) reset(t *testing.T) {
	t.Helper()
	if _, err := a.client.KV().DeleteTree("", nil); err != nil {
		t.Fatal(err)
	}
	sessions, _, err := a.client.Session().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if _, err := a.client.Session().Destroy(s.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !a.acl {
		return
	}
	acl := a.client.ACL()
	tokens, _, err := acl.TokenList(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		if tok.AccessorID != aclAnonymousTokenID && tok.SecretID != rootSecret {
			if _, err := acl.TokenDelete(tok.AccessorID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	roles, _, err := acl.RoleList(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if _, err := acl.RoleDelete(r.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	policies, _, err := acl.PolicyList(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if p.ID != aclGlobalManagementPolicyID {
			if _, err := acl.PolicyDelete(p.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// requestSpy is a reverse proxy in front of a real agent that records
// the requests it passes on, for the tests of what the CLI sends rather
// than what it gets back: a flag that changes no answer (-stale), whether
// a request was made, which one.
type requestSpy struct {
	*httptest.Server

	mu       sync.Mutex
	requests []spiedRequest
}

// spiedRequest is a request the spy passed on.
type spiedRequest struct {
	method, path string
	query        url.Values
	token        string
	body         []byte
}

// spy starts a requestSpy in front of the agent, closed when the test
// ends.
func (a *testAgent) spy(t *testing.T) *requestSpy {
	t.Helper()
	target, err := url.Parse(a.url)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = transport
	s := &requestSpy{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.requests = append(s.requests, spiedRequest{
			method: r.Method, path: r.URL.Path, query: r.URL.Query(),
			token: r.Header.Get("X-Consul-Token"), body: body,
		})
		s.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		s.Close()
		transport.CloseIdleConnections()
	})
	return s
}

// last returns the last request passed on.
func (s *requestSpy) last(t *testing.T) spiedRequest {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("no request reached the agent")
	}
	return s.requests[len(s.requests)-1]
}

// all returns the requests passed on so far.
func (s *requestSpy) all() []spiedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]spiedRequest(nil), s.requests...)
}

// count returns the number of requests passed on so far.
func (s *requestSpy) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// find returns the last request with the method and path.
func (s *requestSpy) find(t *testing.T, method, path string) spiedRequest {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.requests) - 1; i >= 0; i-- {
		if r := s.requests[i]; r.method == method && r.path == path {
			return r
		}
	}
	t.Fatalf("no %s %s among the requests", method, path)
	return spiedRequest{}
}

// decode unmarshals the request's body into v.
func (r spiedRequest) decode(t *testing.T, v interface{}) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: body %q: %v", r.method, r.path, r.body, err)
	}
}

// fields returns the top-level JSON keys of the request's body.
func (r spiedRequest) fields(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	r.decode(t, &m)
	return m
}

// tokenWithRules creates a policy called name with rules and a token
// holding it, and returns the token's secret.
func (a *testAgent) tokenWithRules(t *testing.T, name, rules string) string {
	t.Helper()
	acl := a.client.ACL()
	p, _, err := acl.PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := acl.TokenCreate(&api.ACLToken{Policies: []*api.ACLLink{{ID: p.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.SecretID
}
