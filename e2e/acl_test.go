package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// secretIn finds the SecretID line of the CLI's token output.
var secretIn = regexp.MustCompile(`(?m)^SecretID:\s+(\S+)`)

// TestACLWithTheCLI is the README's ACL walk-through, by processes: an
// agent with ACLs on and default deny, bootstrapped with the CLI, a policy
// from a rules file, a token holding it, and snapshots with and without a
// management token.
func TestACLWithTheCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "acl.hcl")
	os.WriteFile(cfg, []byte("acl {\n  enabled = true\n  default_policy = \"deny\"\n}\n"), 0o600)
	a := startAgent(t, filepath.Join(dir, "data"), "-config-file", cfg)

	out, code := a.runCLI("acl", "bootstrap")
	m := secretIn.FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "global-management") {
		t.Fatalf("bootstrap: %d %s", code, out)
	}
	root := m[1]
	if out, code := a.runCLI("acl", "bootstrap"); code != 1 || !strings.Contains(out, "reset index") {
		t.Fatalf("second bootstrap: %d %s", code, out)
	}

	rules := filepath.Join(dir, "app.hcl")
	os.WriteFile(rules, []byte(`key_prefix "app/" { policy = "write" }`), 0o600)
	if out, code := a.runCLI("acl", "policy", "create", "-token", root, "-name", "app-rw", "-rules", "@"+rules); code != 0 {
		t.Fatalf("policy create: %d %s", code, out)
	}
	out, code = a.runCLI("acl", "token", "create", "-token", root, "-description", "app", "-policy-name", "app-rw")
	m = secretIn.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("token create: %d %s", code, out)
	}
	app := m[1]

	if out, code := a.runCLI("kv", "put", "-token", app, "app/x", "1"); code != 0 {
		t.Fatalf("kv put allowed: %d %s", code, out)
	}
	if out, code := a.runCLI("kv", "put", "-token", app, "other", "1"); code != 1 || !strings.Contains(out, "Permission denied") {
		t.Fatalf("kv put denied: %d %s", code, out)
	}
	if out, code := a.runCLI("kv", "get", "app/x"); code != 1 {
		t.Fatalf("anonymous kv get: %d %s", code, out)
	}

	file := filepath.Join(dir, "backup.snap")
	if out, code := a.runCLI("snapshot", "save", "-token", app, file); code != 1 || !strings.Contains(out, "403") {
		t.Fatalf("save with the app token: %d %s", code, out)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("a refused save left a file")
	}
	if out, code := a.runCLI("snapshot", "save", "-token", root, file); code != 0 {
		t.Fatalf("save with the management token: %d %s", code, out)
	}
	out, code = a.runCLI("snapshot", "inspect", file)
	if code != 0 || !strings.Contains(out, "ACLToken") || !strings.Contains(out, "ACLPolicy") {
		t.Fatalf("inspect does not count the ACL records: %s", out)
	}
	if out, code := a.runCLI("snapshot", "restore", "-token", app, file); code != 1 {
		t.Fatalf("restore with the app token: %d %s", code, out)
	}
	if out, code := a.runCLI("snapshot", "restore", "-token", root, file); code != 0 {
		t.Fatalf("restore with the management token: %d %s", code, out)
	}
}

// TestACLReadTokenSeesNoSecrets: a token granted acl = "read" lists and
// reads tokens, but every SecretID but its own reads "<hidden>", through
// the HTTP API and the CLI, so it cannot become the management token; it
// cannot clone or update a token or take a snapshot; a prepared query's
// Token stays hidden from it; and no secret reaches the agent's log, at
// trace level, however the secrets were sent.
func TestACLReadTokenSeesNoSecrets(t *testing.T) {
	const root = "0f0e0d0c-0b0a-4909-8807-060504030201"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "acl.hcl")
	os.WriteFile(cfg, []byte(`acl {
  enabled = true
  default_policy = "deny"
  tokens { initial_management = "`+root+`" }
}
`), 0o600)
	a := startAgent(t, filepath.Join(dir, "data"), "-config-file", cfg, "-log-level", "trace")

	if out, code := a.runCLI("acl", "policy", "create", "-token", root, "-name", "acl-read", "-rules", `acl = "read"`); code != 0 {
		t.Fatalf("policy create: %d %s", code, out)
	}
	out, code := a.runCLI("acl", "token", "create", "-token", root, "-description", "reader", "-policy-name", "acl-read")
	m := secretIn.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("token create: %d %s", code, out)
	}
	reader := m[1]
	queryToken := "5a5a5a5a-0000-4000-8000-00000000beef"
	secrets := []string{root, reader, queryToken}

	rootClient := a.client()
	rootClient.AddHeader("X-Consul-Token", root)
	mgmt, _, err := rootClient.ACL().TokenReadSelf(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rootClient.PreparedQuery().Create(&api.PreparedQueryDefinition{
		Name: "web", Token: queryToken, Service: api.ServiceQuery{Service: "web"}}, nil); err != nil {
		t.Fatal(err)
	}

	// The HTTP API, with the token sent each way Consul takes it.
	for _, send := range []func(*http.Request){
		func(r *http.Request) { r.Header.Set("X-Consul-Token", reader) },
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+reader) },
		func(r *http.Request) { q := r.URL.Query(); q.Set("token", reader); r.URL.RawQuery = q.Encode() },
	} {
		var list []api.ACLTokenListEntry
		getJSON(t, a.URL("/v1/acl/tokens"), send, 200, &list)
		if len(list) < 3 {
			t.Fatalf("token list with the read token: %d tokens", len(list))
		}
		for _, tok := range list {
			if tok.SecretID != "<hidden>" {
				t.Errorf("token list shows %s's SecretID %q to an acl:read token", tok.AccessorID, tok.SecretID)
			}
		}
		var one api.ACLToken
		getJSON(t, a.URL("/v1/acl/token/"+mgmt.AccessorID), send, 200, &one)
		if one.SecretID != "<hidden>" {
			t.Errorf("token read shows the management SecretID %q to an acl:read token", one.SecretID)
		}
		getJSON(t, a.URL("/v1/acl/token/self"), send, 200, &one)
		if one.SecretID != reader {
			t.Errorf("token read-self shows %q, want the caller's own secret", one.SecretID)
		}
		getJSON(t, a.URL("/v1/snapshot"), send, 403, nil)
		getJSON(t, a.URL("/v1/acl/token/"+mgmt.AccessorID+"/clone"), func(r *http.Request) { r.Method = "PUT"; send(r) }, 403, nil)
		getJSON(t, a.URL("/v1/acl/token/"+mgmt.AccessorID), func(r *http.Request) {
			r.Method = "PUT"
			r.Body = io.NopCloser(strings.NewReader(`{"Description":"mine now"}`))
			send(r)
		}, 403, nil)
	}

	// A prepared query's Token is hidden from whoever may read the query
	// but not write ACLs.
	out, code = a.runCLI("acl", "token", "create", "-token", root, "-description", "queries",
		"-policy-name", "acl-read", "-policy-name", "query-read")
	if code == 0 || !strings.Contains(out, "query-read") {
		t.Fatalf("token create with a missing policy: %d %s", code, out)
	}
	if out, code := a.runCLI("acl", "policy", "create", "-token", root, "-name", "query-read", "-rules", `query_prefix "" { policy = "read" }`); code != 0 {
		t.Fatalf("policy create: %d %s", code, out)
	}
	out, code = a.runCLI("acl", "token", "create", "-token", root, "-description", "queries", "-policy-name", "query-read")
	if m = secretIn.FindStringSubmatch(out); code != 0 || m == nil {
		t.Fatalf("token create: %d %s", code, out)
	}
	var queries []api.PreparedQueryDefinition
	getJSON(t, a.URL("/v1/query"), func(r *http.Request) { r.Header.Set("X-Consul-Token", m[1]) }, 200, &queries)
	if len(queries) != 1 || queries[0].Token != "<hidden>" {
		t.Errorf("prepared query Token shown to a token without acl:write: %+v", queries)
	}

	// The management token still sees every secret.
	var list []api.ACLTokenListEntry
	getJSON(t, a.URL("/v1/acl/tokens"), func(r *http.Request) { r.Header.Set("X-Consul-Token", root) }, 200, &list)
	for _, tok := range list {
		if tok.SecretID == "<hidden>" || tok.SecretID == "" {
			t.Errorf("management token sees no SecretID for %s", tok.AccessorID)
		}
	}

	// The CLI shows what the server shows.
	for _, args := range [][]string{
		{"acl", "token", "list", "-token", reader},
		{"acl", "token", "read", "-token", reader, "-id", mgmt.AccessorID},
		{"acl", "token", "list", "-token", reader, "-format", "json"},
	} {
		out, code := a.runCLI(args...)
		// JSON output escapes the angle brackets, as Consul's does.
		hidden := strings.Contains(out, "<hidden>") || strings.Contains(out, `\u003chidden\u003e`)
		if code != 0 || !hidden || strings.Contains(out, root) {
			t.Errorf("%v: exit %d, secret shown or not hidden:\n%s", args, code, out)
		}
	}
	if out, code := a.runCLI("acl", "token", "clone", "-token", reader, "-id", mgmt.AccessorID); code != 1 {
		t.Errorf("clone with the read token: exit %d\n%s", code, out)
	}
	if out, code := a.runCLI("snapshot", "save", "-token", reader, filepath.Join(dir, "x.snap")); code != 1 {
		t.Errorf("snapshot save with the read token: exit %d\n%s", code, out)
	}

	// A wrong token and a refused write are logged, if at all, without it.
	getJSON(t, a.URL("/v1/kv/x?token=not-"+reader), nil, 403, nil)
	log := a.Output()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("a secret is in the agent's log: %s", s)
		}
	}
	if !strings.Contains(log, "[TRACE]") && !strings.Contains(log, "[DEBUG]") {
		t.Fatalf("the agent did not log at trace level, so the log check proves nothing:\n%s", log)
	}
}

// getJSON sends a GET to url, changed by prep, expects status and
// decodes the JSON answer into out when out is not nil.
func getJSON(t *testing.T, url string, prep func(*http.Request), status int, out interface{}) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(req)
	}
	got, body := send(t, req)
	if got != status {
		t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL.Path, got, body, status)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %v: %s", req.URL.Path, err, body)
		}
	}
}
