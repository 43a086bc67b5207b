// Package agentproc runs a consul agent binary as a separate process for
// the load tools under bench/: a bootstrapped single server on free
// loopback ports, and its resident set size read from /proc.
package agentproc

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// leaderTimeout bounds the wait for a new agent to elect itself.
const leaderTimeout = 30 * time.Second

// LogName is the file, in the directory given to Start, that holds the
// agent's output.
const LogName = "agent.log"

// stopTimeout is how long Stop waits after SIGINT before it kills.
const stopTimeout = 10 * time.Second

// Agent is a running agent process.
type Agent struct {
	// HTTP is the base URL of the agent's HTTP API.
	HTTP string
	// Log is the path of the file that holds the agent's output.
	Log string

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Start starts bin as a bootstrapped server named node, with its data
// and its log (LogName) under dir, on free loopback ports (its gossip
// ports too, so that it runs beside other agents), and waits until it
// has a leader. On Linux the agent runs in its own process group, so
// that a ^C at the terminal reaches only the caller, which stops it, and
// it is killed if the caller dies without stopping it.
func Start(bin, dir, node string) (*Agent, error) {
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	serverPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "agent", "-server", "-bootstrap", "-node", node,
		"-data-dir", filepath.Join(dir, "data"), "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", strconv.Itoa(httpPort), "-server-port", strconv.Itoa(serverPort),
		"-serf-lan-port", "0", "-serf-wan-port", "0", "-log-level", "warn")
	cmd.SysProcAttr = sysProcAttr()
	logPath := filepath.Join(dir, LogName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	a := &Agent{
		HTTP:   "http://127.0.0.1:" + strconv.Itoa(httpPort),
		Log:    logPath,
		cmd:    cmd,
		exited: make(chan struct{}),
	}
	go func() {
		a.waitErr = cmd.Wait()
		logFile.Close()
		close(a.exited)
	}()
	deadline := time.Now().Add(leaderTimeout)
	for !a.hasLeader() {
		select {
		case <-a.exited:
			return nil, fmt.Errorf("agent exited before it elected a leader (%v); see %s", a.waitErr, logPath)
		default:
		}
		if time.Now().After(deadline) {
			a.Stop()
			return nil, fmt.Errorf("agent did not elect a leader within %s; see %s", leaderTimeout, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a, nil
}

func (a *Agent) hasLeader() bool {
	resp, err := http.Get(a.HTTP + "/v1/status/leader")
	if err != nil {
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200 && len(body) > 2 && string(body) != `""`
}

// PID is the agent's process id.
func (a *Agent) PID() int {
	return a.cmd.Process.Pid
}

// Exited is closed when the agent process has ended, for whatever reason.
func (a *Agent) Exited() <-chan struct{} {
	return a.exited
}

// ExitErr is how the agent ended, as exec.Cmd.Wait reports it; it may be
// called only after Exited is closed.
func (a *Agent) ExitErr() error {
	return a.waitErr
}

// Stop interrupts the agent, kills it if it has not ended after
// stopTimeout, and waits for it. It may be called more than once and
// from several goroutines; every call returns once the agent has ended.
func (a *Agent) Stop() {
	a.stopOnce.Do(func() {
		a.cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.exited:
		case <-time.After(stopTimeout):
			a.cmd.Process.Kill()
		}
	})
	<-a.exited
}

// RSS is a resident set size in KiB, as /proc/<pid>/status splits it.
type RSS struct {
	// Total is VmRSS, the sum of the others.
	Total int64
	// Anon is RssAnon: the heap and the stacks.
	Anon int64
	// File is RssFile: pages of mapped files, such as the binary and the
	// BoltDB file of the Raft log, which grows and shrinks with the log.
	File int64
}

// RSS reads the agent's resident set size; it is zero once the agent
// has ended, or where there is no /proc.
func (a *Agent) RSS() RSS {
	v := a.procValues("status")
	return RSS{Total: v["VmRSS"], Anon: v["RssAnon"], File: v["RssFile"]}
}

// DiskWritten is the number of bytes the agent has caused to be written
// to storage (write_bytes in /proc/PID/io); zero where there is no /proc.
func (a *Agent) DiskWritten() int64 {
	return a.procValues("io")["write_bytes"]
}

// procValues reads the `key: number [unit]` lines of /proc/PID/name;
// empty once the agent has ended, or where there is no /proc.
func (a *Agent) procValues(name string) map[string]int64 {
	buf, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", a.PID(), name))
	if err != nil {
		return nil
	}
	values := make(map[string]int64)
	for _, line := range strings.Split(string(buf), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if f := strings.Fields(rest); ok && len(f) > 0 {
			values[key], _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	return values
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
