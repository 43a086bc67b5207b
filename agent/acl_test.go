package agent

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// tokenWithRules creates a policy with rules and a token holding it.
func tokenWithRules(t *testing.T, root *api.Client, name, rules string) string {
	t.Helper()
	p, _, err := root.ACL().PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := root.ACL().TokenCreate(&api.ACLToken{Description: name, Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.SecretID
}

// is403 tells whether err is the api client's report of a 403.
func is403(err error) bool {
	var se api.StatusError
	if errors.As(err, &se) {
		return se.Code == 403
	}
	return err != nil && strings.Contains(err.Error(), "403")
}

func TestACLTokenEndpointMatrix(t *testing.T) {
	a, root := testAgent(t, withACLs())
	if _, err := root.KV().Put(&api.KVPair{Key: "app/config", Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := root.KV().Put(&api.KVPair{Key: "secret/pw", Value: []byte("x")}, nil); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"anonymous":  "",
		"kv-read":    tokenWithRules(t, root, "kv-read", `key_prefix "" { policy = "read" }`),
		"app-write":  tokenWithRules(t, root, "app-write", `key_prefix "app/" { policy = "write" }`),
		"operator":   tokenWithRules(t, root, "operator", `operator = "read"`),
		"management": rootSecret,
	}
	type check struct {
		name string
		run  func(c *api.Client) error
	}
	checks := []check{
		{"kv get", func(c *api.Client) error { _, _, err := c.KV().Get("app/config", nil); return err }},
		{"kv put app/", func(c *api.Client) error {
			_, err := c.KV().Put(&api.KVPair{Key: "app/x", Value: []byte("1")}, nil)
			return err
		}},
		{"kv put secret/", func(c *api.Client) error {
			_, err := c.KV().Put(&api.KVPair{Key: "secret/x", Value: []byte("1")}, nil)
			return err
		}},
		{"kv delete-tree app/", func(c *api.Client) error { _, err := c.KV().DeleteTree("app/tmp/", nil); return err }},
		{"operator raft", func(c *api.Client) error { _, err := c.Operator().RaftGetConfiguration(nil); return err }},
		{"acl policy list", func(c *api.Client) error { _, _, err := c.ACL().PolicyList(nil); return err }},
		{"snapshot save", func(c *api.Client) error {
			body, _, err := c.Snapshot().Save(nil)
			if err == nil {
				body.Close()
			}
			return err
		}},
	}
	want := map[string][]bool{ // per token, per check: allowed?
		"anonymous":  {false, false, false, false, false, false, false},
		"kv-read":    {true, false, false, false, false, false, false},
		"app-write":  {true, true, false, true, false, false, false},
		"operator":   {false, false, false, false, true, false, false},
		"management": {true, true, true, true, true, true, true},
	}
	for name, secret := range tokens {
		c := clientWithToken(t, a, secret)
		for i, ck := range checks {
			err := ck.run(c)
			if allowed := err == nil; allowed != want[name][i] {
				t.Errorf("%s / %s: err=%v, want allowed=%v", name, ck.name, err, want[name][i])
			} else if err != nil && !is403(err) {
				t.Errorf("%s / %s: denied with %v, want a 403", name, ck.name, err)
			}
		}
	}
	// Lists are filtered, with Consul's header.
	readApp := clientWithToken(t, a, tokenWithRules(t, root, "list-app", `key_prefix "" { policy = "list" }
key_prefix "secret/" { policy = "deny" }`))
	pairs, _, err := readApp.KV().List("", nil)
	if err != nil || len(pairs) == 0 {
		t.Fatalf("filtered list: %v %v", pairs, err)
	}
	for _, p := range pairs {
		if strings.HasPrefix(p.Key, "secret/") {
			t.Fatalf("list showed %s", p.Key)
		}
	}
	listing := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/kv/?recurse", tokens["management"], nil)
	if listing.filtered {
		t.Fatal("a management listing says it was filtered")
	}
	secret := tokenWithRules(t, root, "list-app-2", `key_prefix "" { policy = "list" }
key_prefix "secret/" { policy = "deny" }`)
	if listing = doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/kv/?recurse", secret, nil); !listing.filtered {
		t.Fatal("a filtered listing lacks X-Consul-Results-Filtered-By-ACLs")
	}
	// A made-up secret is "ACL not found".
	_, _, err = clientWithToken(t, a, "no-such-secret").KV().Get("app/config", nil)
	if err == nil || !strings.Contains(err.Error(), "ACL not found") {
		t.Fatalf("unknown secret: %v", err)
	}
}

func TestACLSnapshotRefusedBeforeAnyByte(t *testing.T) {
	a, root := testAgent(t, withACLs())
	if _, err := root.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}
	weak := tokenWithRules(t, root, "kv-all", `key_prefix "" { policy = "write" }`)
	resp := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/snapshot", weak, nil)
	if resp.status != 403 || bytes.HasPrefix(resp.body, []byte("PK")) {
		t.Fatalf("save with a KV token: %d, %d bytes", resp.status, len(resp.body))
	}
	// A large upload with a weak token is refused, and nothing changes.
	body, _, err := root.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := io.ReadAll(body)
	body.Close()
	if _, err := root.KV().Put(&api.KVPair{Key: "later", Value: []byte("kept")}, nil); err != nil {
		t.Fatal(err)
	}
	resp = doHTTP(t, "PUT", "http://"+a.HTTPAddr()+"/v1/snapshot", weak, archive)
	if resp.status != 403 {
		t.Fatalf("restore with a KV token: %d %s", resp.status, resp.body)
	}
	if p, _, _ := root.KV().Get("later", nil); p == nil {
		t.Fatal("a refused restore changed the state")
	}
	if err := root.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatalf("management restore: %v", err)
	}
}

func TestACLBootstrapOnceAndReset(t *testing.T) {
	a, _ := testAgent(t, withConfig(func(c *config.Config) { c.ACL.Enabled = true }))
	c := clientWithToken(t, a, "")
	var tok *api.ACLToken
	testutil.Until(t, 10*time.Second, "the ACL bootstrap succeeds", func() bool {
		var err error
		tok, _, err = c.ACL().Bootstrap()
		return err == nil
	})
	if tok.SecretID == "" || len(tok.Policies) != 1 || tok.Policies[0].Name != "global-management" {
		t.Fatalf("bootstrap token %+v", tok)
	}
	_, _, err := c.ACL().Bootstrap()
	if err == nil || !strings.Contains(err.Error(), "reset index") {
		t.Fatalf("second bootstrap: %v", err)
	}
	idx := err.Error()[strings.LastIndex(err.Error(), ": ")+2:]
	idx = strings.TrimRight(idx, ")")
	if _, err := strconv.ParseUint(idx, 10, 64); err != nil {
		t.Fatalf("no reset index in %q", idx)
	}
	if err := os.WriteFile(filepath.Join(a.cfg.DataDir, "acl-bootstrap-reset"), []byte(idx), 0o600); err != nil {
		t.Fatal(err)
	}
	again, _, err := c.ACL().Bootstrap()
	if err != nil || again.SecretID == tok.SecretID {
		t.Fatalf("bootstrap after reset: %+v %v", again, err)
	}
	if _, err := os.Stat(filepath.Join(a.cfg.DataDir, "acl-bootstrap-reset")); !os.IsNotExist(err) {
		t.Fatal("the reset file was not consumed")
	}
}

func TestACLStateRoundTripsToAFreshCluster(t *testing.T) {
	_, root := testAgent(t, withACLs())
	secret := tokenWithRules(t, root, "kv-read", `key_prefix "" { policy = "read" }`)
	role, _, err := root.ACL().RoleCreate(&api.ACLRole{Name: "ops", Policies: []*api.ACLRolePolicyLink{{Name: "kv-read"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := root.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := io.ReadAll(body)
	body.Close()

	fresh, freshRoot := testAgent(t, withACLs())
	if err := freshRoot.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	// The archive replaced every token; the restored one authenticates on
	// the fresh cluster (whose leader then recreates its configured initial
	// management token, were it missing).
	c := clientWithToken(t, fresh, secret)
	testutil.Until(t, 10*time.Second, "the restored token resolves", func() bool {
		self, _, err := c.ACL().TokenReadSelf(nil)
		return err == nil && self.Description == "kv-read"
	})
	if _, _, err := c.KV().Get("anything", nil); err != nil {
		t.Fatalf("restored read token: %v", err)
	}
	if _, err := c.KV().Put(&api.KVPair{Key: "x"}, nil); !is403(err) {
		t.Fatalf("restored read token wrote: %v", err)
	}
	r, _, err := freshRoot.ACL().RoleRead(role.ID, nil)
	if err != nil || r == nil || r.Name != "ops" {
		t.Fatalf("role after restore: %+v %v", r, err)
	}
	// Missing policies and roles are "not found" to the official client.
	if r, _, err := freshRoot.ACL().RoleReadByName("nope", nil); err != nil || r != nil {
		t.Fatalf("missing role: %+v %v", r, err)
	}
	if p, _, err := freshRoot.ACL().PolicyReadByName("nope", nil); err != nil || p != nil {
		t.Fatalf("missing policy: %+v %v", p, err)
	}
}

func TestACLDefaultDenyHidesEverythingFromAnonymous(t *testing.T) {
	a, root := testAgent(t, withACLs())
	if _, err := root.KV().Put(&api.KVPair{Key: "hidden", Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}
	anon := clientWithToken(t, a, "")
	if _, _, err := anon.KV().Get("hidden", nil); !is403(err) {
		t.Fatalf("anonymous get: %v", err)
	}
	if _, _, err := anon.KV().List("", nil); !is403(err) {
		t.Fatalf("anonymous list: %v", err)
	}
	members, err := anon.Agent().Members(false)
	if err != nil || len(members) != 0 {
		t.Fatalf("anonymous members: %v %v", members, err)
	}
	if _, err := anon.Agent().Self(); !is403(err) {
		t.Fatalf("anonymous self: %v", err)
	}
}

func TestACLCatalogRulesAndFiltering(t *testing.T) {
	a, root := testAgent(t, withACLs())
	registerWeb(t, root, "n1", "web-1", nil, api.HealthPassing)
	if _, err := root.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1",
		Service: &api.AgentService{ID: "db-1", Service: "db", Port: 5432}}, nil); err != nil {
		t.Fatal(err)
	}
	reader := clientWithToken(t, a, tokenWithRules(t, root, "web-read", `service_prefix "web" { policy = "read" }
node_prefix "" { policy = "read" }`))
	services, _, err := reader.Catalog().Services(nil)
	if err != nil || len(services) != 1 || services["web"] == nil {
		t.Fatalf("filtered services %v %v", services, err)
	}
	if r := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/catalog/services", "", nil); r.status != 200 || !r.filtered {
		t.Fatalf("anonymous services: %d, filtered %v", r.status, r.filtered)
	}
	node, _, err := reader.Catalog().Node("n1", nil)
	if err != nil || node == nil || len(node.Services) != 1 || node.Services["web-1"] == nil {
		t.Fatalf("filtered node services %+v %v", node, err)
	}
	if _, err := reader.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1",
		Service: &api.AgentService{Service: "web"}}, nil); !is403(err) {
		t.Fatalf("register with a read token: %v", err)
	}
	writer := clientWithToken(t, a, tokenWithRules(t, root, "web-write", `service "web" { policy = "write" }
node "n1" { policy = "write" }`))
	if _, err := writer.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1",
		Service: &api.AgentService{ID: "web-9", Service: "web"}}, nil); err != nil {
		t.Fatalf("register with a write token: %v", err)
	}
	if _, err := writer.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1",
		Service: &api.AgentService{Service: "db"}}, nil); !is403(err) {
		t.Fatalf("register db with a web token: %v", err)
	}
	// SkipNodeUpdate does not let a token create a node it cannot write.
	if _, err := writer.Catalog().Register(&api.CatalogRegistration{Node: "n-new", Address: "10.0.0.9", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "web-10", Service: "web"}}, nil); !is403(err) {
		t.Fatalf("new node through SkipNodeUpdate: %v", err)
	}
	// A check on someone else's service needs write on that service.
	if _, err := writer.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1", SkipNodeUpdate: true,
		Check: &api.AgentCheck{CheckID: "db-probe", ServiceID: "db-1", Status: api.HealthCritical}}, nil); !is403(err) {
		t.Fatalf("check on db with a web token: %v", err)
	}
}
