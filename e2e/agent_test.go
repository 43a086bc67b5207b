package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// agentProc is an agent running as a real process.
type agentProc struct {
	t        *testing.T
	cmd      *exec.Cmd
	httpAddr string
	dataDir  string
	log      *testutil.Buffer
	exited   chan struct{}
	// transport is shared by every client of the agent, so that polling
	// reuses connections: each client with a pool of its own would leave
	// an idle connection behind, and 127.0.0.1, where every client of the
	// tests comes from, may hold only limits.http_max_conns_per_client.
	transport *http.Transport
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAgent starts `consul agent` on random ports with its data in
// dataDir (empty: -dev) plus extra flags, waits for a leader, and stops it
// when the test ends.
func startAgent(t *testing.T, dataDir string, extra ...string) *agentProc {
	t.Helper()
	a := spawnAgent(t, dataDir, extra...)
	a.waitForLeader()
	return a
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
	httpPort, serverPort := freePort(t), freePort(t)
	// Serf LAN too: two agents of one test must not share its default port.
	args := []string{"agent", "-node", "e2e", "-http-port", itoa(httpPort), "-server-port", itoa(serverPort),
		"-serf-lan-port", itoa(freePort(t))}
	if dataDir == "" {
		args = append(args, "-dev")
	} else {
		args = append(args, "-server", "-bootstrap", "-data-dir", dataDir, "-bind", "127.0.0.1", "-client", "127.0.0.1")
	}
	return append(args, extra...), httpPort
}

// startFromConfig starts `consul agent -config-file cfg`; the file must
// set the HTTP port to httpPort.
func startFromConfig(t *testing.T, cfg string, httpPort int) *agentProc {
	t.Helper()
	return launch(t, []string{"agent", "-config-file", cfg}, httpPort, "")
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
  serf_lan = `+itoa(freePort(t))+`
}
`+extra), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func launch(t *testing.T, args []string, httpPort int, dataDir string) *agentProc {
	t.Helper()
	a := spawn(t, args, httpPort, dataDir)
	a.waitForLeader()
	return a
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
	a := &agentProc{t: t, cmd: cmd, dataDir: dataDir, log: new(testutil.Buffer),
		httpAddr: "127.0.0.1:" + itoa(httpPort), exited: make(chan struct{}), transport: api.DefaultConfig().Transport}
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); close(a.exited) }()
	t.Cleanup(func() {
		a.stop()
		a.transport.CloseIdleConnections()
		if t.Failed() {
			t.Logf("agent log:\n%s", a.log.String())
		}
	})
	return a
}

func itoa(n int) string { return strconv.Itoa(n) }

func (a *agentProc) waitForLeader() {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.exited:
			a.t.Fatalf("agent exited early:\n%s", a.log.String())
		default:
		}
		if leader, err := a.client().Status().Leader(); err == nil && leader != "" {
			// The leader also has to have applied everything before serving;
			// with ACLs on and default deny, a refusal shows it serves too.
			if _, _, err := a.client().KV().Get("e2e-probe", nil); err == nil || strings.Contains(err.Error(), "403") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatalf("no leader within 20s:\n%s", a.log.String())
}

func (a *agentProc) client() *api.Client {
	c, err := api.NewClient(&api.Config{Address: a.httpAddr, Transport: a.transport})
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

func (a *agentProc) url(path string) string {
	return "http://" + a.httpAddr + path
}

// stop sends SIGTERM and waits for a clean exit; it reports the exit
// code (-1 when it had to be killed).
func (a *agentProc) stop() int {
	select {
	case <-a.exited:
		return a.cmd.ProcessState.ExitCode()
	default:
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		return a.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		a.cmd.Process.Kill()
		<-a.exited
		return -1
	}
}

// kill stops the agent with SIGKILL, as a crash would.
func (a *agentProc) kill() {
	a.cmd.Process.Kill()
	<-a.exited
}

// runCLI runs a consul CLI command against the agent and returns its
// combined output and exit code.
func (a *agentProc) runCLI(args ...string) (string, int) {
	a.t.Helper()
	cmd := exec.Command(consulBin, args...)
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+a.httpAddr)
	out, err := cmd.CombinedOutput()
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
