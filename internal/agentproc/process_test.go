package agentproc

import (
	"os/exec"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
)

// startSh starts `sh -c script`, killed when the test ends.
func startSh(t *testing.T, script string) *Process {
	t.Helper()
	p, err := StartProcess(exec.Command("sh", "-c", script))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// ready waits until p has said "ready".
func ready(t *testing.T, p *Process) {
	t.Helper()
	testutil.Until(t, 10*time.Second, "the script is ready", func() bool { return p.Output() == "ready\n" })
}

// exited waits for p to end.
func exited(t *testing.T, p *Process) {
	t.Helper()
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		t.Fatalf("still running:\n%s", p.Output())
	}
}

func TestProcessKeepsOutputAndExitCode(t *testing.T) {
	p := startSh(t, "echo out; echo err >&2; exit 3")
	exited(t, p)
	if got := p.Output(); got != "out\nerr\n" {
		t.Errorf("output %q", got)
	}
	if code := p.State().ExitCode(); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}

func TestStopSendsSIGTERM(t *testing.T) {
	p := startSh(t, `trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done`)
	ready(t, p)
	if code := p.Stop(); code != 7 {
		t.Fatalf("Stop = %d, want the exit code of the TERM trap, 7", code)
	}
	if code := p.Stop(); code != 7 {
		t.Fatalf("Stop again = %d, want 7", code)
	}
}

func TestKillEndsTheProcessGroup(t *testing.T) {
	// The child holds the output open: Exited waits for it too.
	p := startSh(t, "sleep 60 & echo ready; wait")
	ready(t, p)
	p.Kill()
	exited(t, p)
	if code := p.State().ExitCode(); code != -1 {
		t.Fatalf("exit code %d, want -1 for a signal", code)
	}
}

func TestRSSOfARunningProcessOnly(t *testing.T) {
	p := startSh(t, "sleep 60")
	r, err := p.RSS()
	if err != nil || r.Total <= 0 || r.Peak < r.Total {
		t.Fatalf("RSS = %+v, %v", r, err)
	}
	if _, err := p.DiskWritten(); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if r, err := p.RSS(); err == nil {
		t.Fatalf("RSS of an ended process = %+v", r)
	}
}
