package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
