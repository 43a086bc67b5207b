package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/consulcompat/consul/internal/agentproc"
	"github.com/hashicorp/consul/api"
)

// agentProc is an agent process of a test: agentproc's, failing the test
// where agentproc returns an error.
type agentProc struct {
	*agentproc.Agent
	t *testing.T
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := agentproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startAgent starts `consul agent` on random ports with its data in
// dataDir (empty: -dev) plus extra flags, waits for a leader, and stops it
// when the test ends.
func startAgent(t *testing.T, dataDir string, extra ...string) *agentProc {
	t.Helper()
	a, err := agentproc.Start(consulBin, "e2e", dataDir, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return adopt(t, a)
}

// spawnAgent starts the agent startAgent starts, without waiting for
// anything: for an agent that may refuse to start.
func spawnAgent(t *testing.T, dataDir string, extra ...string) *agentProc {
	t.Helper()
	args, httpPort := agentArgs(t, dataDir, extra...)
	return spawn(t, args, httpPort, dataDir)
}

// agentArgs are the arguments of startAgent's `consul agent`, and the
// HTTP port they choose.
func agentArgs(t *testing.T, dataDir string, extra ...string) ([]string, int) {
	t.Helper()
	args, httpPort, err := agentproc.Args("e2e", dataDir, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return args, httpPort
}

// startFromConfig starts `consul agent -config-file cfg` and waits for a
// leader; the file must set the HTTP port to httpPort.
func startFromConfig(t *testing.T, cfg string, httpPort int) *agentProc {
	t.Helper()
	a := spawn(t, []string{"agent", "-config-file", cfg}, httpPort, "")
	a.waitForLeader()
	return a
}

// serverConfigFile writes a config file for a bootstrapped server named
// node on 127.0.0.1 with the given HTTP and server ports, a free Serf LAN
// port and its data under dir, followed by extra HCL; it returns its path.
func serverConfigFile(t *testing.T, dir, node string, httpPort, serverPort int, extra string) string {
	t.Helper()
	cfg := filepath.Join(dir, node+".hcl")
	err := os.WriteFile(cfg, []byte(`
server = true
bootstrap = true
node_name = "`+node+`"
data_dir = "`+filepath.Join(dir, "data")+`"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports {
  http = `+itoa(httpPort)+`
  server = `+itoa(serverPort)+`
  serf_lan = 0
}
`+extra), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// spawn starts `consul` with args and stops it when the test ends; it does
// not wait for anything.
func spawn(t *testing.T, args []string, httpPort int, dataDir string) *agentProc {
	t.Helper()
	return spawnCmd(t, exec.Command(consulBin, args...), httpPort, dataDir)
}

// spawnCmd is spawn for a command that runs the agent in some other way
// (in a namespace of its own, say).
func spawnCmd(t *testing.T, cmd *exec.Cmd, httpPort int, dataDir string) *agentProc {
	t.Helper()
	a, err := agentproc.Spawn(cmd, httpPort, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return adopt(t, a)
}

// adopt stops a when the test ends, and then shows its output if the
// test failed.
func adopt(t *testing.T, a *agentproc.Agent) *agentProc {
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("agent output:\n%s", a.Output())
		}
	})
	return &agentProc{Agent: a, t: t}
}

func itoa(n int) string { return strconv.Itoa(n) }

// waitForLeader waits until the agent has a leader that serves reads.
func (a *agentProc) waitForLeader() {
	a.t.Helper()
	if err := a.WaitForLeader(); err != nil {
		a.t.Fatal(err)
	}
}

// client is an official API client for the agent.
func (a *agentProc) client() *api.Client {
	c, err := api.NewClient(a.APIConfig())
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// cli is the consul CLI command args, run against the agent.
func (a *agentProc) cli(args ...string) *exec.Cmd {
	cmd := exec.Command(consulBin, args...)
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+a.HTTPAddr)
	return cmd
}

// runCLI runs a consul CLI command against the agent and returns its
// combined output and exit code.
func (a *agentProc) runCLI(args ...string) (string, int) {
	a.t.Helper()
	out, err := a.cli(args...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		a.t.Fatal(err)
	}
	return string(out), 0
}

// dirFiles lists the files under dir, for "nothing left behind" checks.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// send sends req and reads the whole answer: its status and body.
func send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body
}
