package agentproc

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
)

// stopTimeout is how long Stop waits after SIGTERM before it kills.
const stopTimeout = 15 * time.Second

// Process is a command running in the background, in a process group of
// its own, whose output (standard output and error) it keeps.
type Process struct {
	cmd      *exec.Cmd
	output   testutil.Buffer
	exited   chan struct{}
	stopOnce sync.Once
}

// StartProcess starts cmd, setting its Stdout, Stderr and SysProcAttr.
// On Linux the kernel kills the process if the caller dies without
// stopping it, so that none outlives a tool that crashed or a test
// binary that timed out; being in a group of its own, it does not get
// the ^C meant for the caller, which stops it.
func StartProcess(cmd *exec.Cmd) (*Process, error) {
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.output, &p.output
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Process) PID() int {
	return p.cmd.Process.Pid
}

// Output is what the process has written so far.
func (p *Process) Output() string {
	return p.output.String()
}

// Exited is closed once the process has ended, for whatever reason, and
// every process of its group has closed its output.
func (p *Process) Exited() <-chan struct{} {
	return p.exited
}

// State is how the process ended; it may be called only once Exited is
// closed.
func (p *Process) State() *os.ProcessState {
	return p.cmd.ProcessState
}

// Stop sends the process SIGTERM, kills it as Kill does if it has not
// ended stopTimeout later, and waits for it to end. It returns the exit
// code, -1 if a signal ended the process. It may be called more than
// once and from several goroutines; every call waits.
func (p *Process) Stop() int {
	p.stopOnce.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			p.Kill()
		}
	})
	<-p.exited
	return p.cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL to the process and to the processes it started (its
// group), as a crash would, and waits for it to end.
func (p *Process) Kill() {
	select {
	case <-p.exited:
		// Its group may be gone and its id taken by another.
	default:
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}
