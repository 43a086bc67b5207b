package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runConsul(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(consulBin, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func TestAgentRejectsBadFlagsAndConfig(t *testing.T) {
	out, code := runConsul(t, "agent", "-no-such-flag")
	if code != 1 || !strings.Contains(out, "no-such-flag") {
		t.Fatalf("unknown flag: exit %d: %s", code, out)
	}
	cfg := filepath.Join(t.TempDir(), "bad.hcl")
	os.WriteFile(cfg, []byte("data_dri = \"/tmp/x\"\n"), 0o600)
	out, code = runConsul(t, "agent", "-server", "-config-file", cfg)
	if code != 1 || !strings.Contains(out, "data_dri") {
		t.Fatalf("unknown config key: exit %d: %s", code, out)
	}
}

func TestAgentFromConfigFileAndKVCLI(t *testing.T) {
	dir := t.TempDir()
	httpPort, serverPort := freePort(t), freePort(t)
	cfg := serverConfigFile(t, dir, "from-file", httpPort, serverPort, "")
	a := startFromConfig(t, cfg, httpPort)
	if name, err := a.client().Agent().NodeName(); err != nil || name != "from-file" {
		t.Fatalf("node name %q %v", name, err)
	}
	if out, code := a.runCLI("kv", "put", "cli/key", "hello"); code != 0 {
		t.Fatalf("kv put: %d %s", code, out)
	}
	if out, code := a.runCLI("kv", "get", "cli/key"); code != 0 || strings.TrimSpace(out) != "hello" {
		t.Fatalf("kv get: %d %q", code, out)
	}
	if out, code := a.runCLI("kv", "delete", "cli/key"); code != 0 {
		t.Fatalf("kv delete: %d %s", code, out)
	}
	if out, code := a.runCLI("kv", "get", "cli/key"); code != 1 {
		t.Fatalf("kv get of a deleted key: %d %s", code, out)
	}
	out, code := a.runCLI("operator", "raft", "list-peers")
	if code != 0 || !strings.Contains(out, "from-file") || !strings.Contains(out, "leader") {
		t.Fatalf("list-peers: %d %s", code, out)
	}
}
