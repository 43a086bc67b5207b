package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func TestLockArgumentErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n=0", "p", "true"}, "Lock holder limit must be positive"},
		{[]string{"p"}, "Key prefix and child command must be specified"},
		{nil, "Key prefix and child command must be specified"},
		{[]string{"-timeout=-1s", "p", "true"}, "Timeout must be positive"},
		{[]string{"-try=-1s", "p", "true"}, "Timeout must be positive"},
		{[]string{"-monitor-retry=-1", "p", "true"}, "Number for 'monitor-retry' must be >= 0"},
		{[]string{"-http-addr=127.0.0.1:1", "p", "true"}, "Error querying Consul agent: "},
		{[]string{"-no-such-flag", "p", "true"}, "no-such-flag"},
	} {
		r := runCLI(t, "", append([]string{"lock"}, tc.args...)...)
		r.check(t, 1, nil, []string{tc.want})
	}
	runCLI(t, "", "lock", "-h").check(t, 0, []string{"Usage: consul lock [options] prefix child...", "-child-exit-code"}, nil)
}

// syncWriter is a ui stream that the child's output (copied by exec's
// goroutine) and the command's messages may write at once. started is
// closed on the first write that contains "started".
type syncWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	started chan struct{}
}

func newSyncWriter() *syncWriter { return &syncWriter{started: make(chan struct{})} }

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte("started")) && !bytes.Contains(w.buf.Bytes(), []byte("started")) {
		close(w.started)
	}
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// fakeHolder records what hold does with a lock.
type fakeHolder struct {
	acquireErr error
	notAcquire bool
	lost       chan struct{}
	releaseErr error
	destroyErr error

	mu                  sync.Mutex
	released, destroyed bool
}

func (f *fakeHolder) holder() *holder {
	f.lost = make(chan struct{})
	return &holder{
		acquire: func(stop <-chan struct{}) (<-chan struct{}, error) {
			if f.acquireErr != nil || f.notAcquire {
				return nil, f.acquireErr
			}
			return f.lost, nil
		},
		release: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.released = true
			return f.releaseErr
		},
		destroy: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.destroyed = true
			return f.destroyErr
		},
		inUse: api.ErrLockInUse,
	}
}

// runHold runs hold with flags, fake and child; interrupt, when set, is
// called once the child has written "started", with fake's lost channel
// and the shutdown channel.
func runHold(t *testing.T, f lockFlags, fake *fakeHolder, stdin string, child []string,
	interrupt func(lost, shutdown chan struct{})) result {
	t.Helper()
	out, errw := newSyncWriter(), newSyncWriter()
	h := fake.holder()
	shutdown := make(chan struct{})
	if interrupt != nil {
		go func() {
			select {
			case <-out.started:
				interrupt(fake.lost, shutdown)
			case <-time.After(10 * time.Second):
			}
		}()
	}
	done := make(chan int, 1)
	go func() { done <- f.hold(&ui{in: strings.NewReader(stdin), out: out, err: errw}, h, child, shutdown) }()
	select {
	case code := <-done:
		return result{code: code, out: out.String(), err: errw.String()}
	case <-time.After(20 * time.Second):
		t.Fatal("hold did not return")
		return result{}
	}
}

func TestLockRunsChildHoldingTheLock(t *testing.T) {
	fake := &fakeHolder{}
	f := lockFlags{shell: true, verbose: true}
	r := runHold(t, f, fake, "", []string{"echo", "held=$CONSUL_LOCK_HELD"}, nil)
	r.check(t, 0, []string{"Attempting lock acquisition", "Starting handler", "held=true",
		"Child terminated, releasing lock", "Cleanup succeeded"}, nil)
	if !fake.released || !fake.destroyed {
		t.Errorf("released=%v destroyed=%v, want both", fake.released, fake.destroyed)
	}
}

func TestLockShellAndStdin(t *testing.T) {
	// With the shell, the arguments are one command line; without, they
	// reach the program as they are.
	runHold(t, lockFlags{shell: true}, &fakeHolder{}, "", []string{"printf", "'<%s>'", "a b"}, nil).
		check(t, 0, []string{"<a><b>"}, nil)
	runHold(t, lockFlags{shell: false}, &fakeHolder{}, "", []string{"printf", "'<%s>'", "a b"}, nil).
		check(t, 0, []string{"'<a b>'"}, nil)
	runHold(t, lockFlags{shell: true, passStdin: true}, &fakeHolder{}, "from stdin", []string{"cat"}, nil).
		check(t, 0, []string{"from stdin"}, nil)
	r := runHold(t, lockFlags{shell: true}, &fakeHolder{}, "from stdin", []string{"cat"}, nil)
	if r.code != 0 || strings.Contains(r.out, "from stdin") {
		t.Errorf("without -pass-stdin the child read stdin: %+v", r)
	}
}

func TestLockChildExitCode(t *testing.T) {
	for _, tc := range []struct {
		childExitCode bool
		child         []string
		want          int
	}{
		{false, []string{"exit 7"}, 0},
		{true, []string{"exit 7"}, 2},
		{true, []string{"true"}, 0},
		{true, []string{"/no/such/program"}, 2},
	} {
		fake := &fakeHolder{}
		r := runHold(t, lockFlags{shell: true, childExitCode: tc.childExitCode}, fake, "", tc.child, nil)
		r.check(t, tc.want, nil, nil)
		if !fake.released {
			t.Errorf("%v: lock not released", tc.child)
		}
	}
	runHold(t, lockFlags{shell: false, childExitCode: true}, &fakeHolder{}, "", []string{"/no/such/program"}, nil).
		check(t, 2, nil, []string{"Error starting handler"})
}

func TestLockStopsChild(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trigger func(lost, shutdown chan struct{})
		want    string
	}{
		{"lost", func(lost, _ chan struct{}) { close(lost) }, "Lock lost, killing child"},
		{"shutdown", func(_, shutdown chan struct{}) { close(shutdown) }, "Shutdown triggered, killing child"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeHolder{}
			f := lockFlags{shell: true, verbose: true, childExitCode: true}
			start := time.Now()
			r := runHold(t, f, fake, "", []string{"echo started; exec sleep 30"}, tc.trigger)
			r.check(t, 2, []string{tc.want, "Terminating child pid", "Child terminated", "Cleanup succeeded"}, nil)
			if time.Since(start) > 10*time.Second || !fake.released {
				t.Errorf("took %v, released=%v", time.Since(start), fake.released)
			}
		})
	}
}

func TestLockAcquireAndCleanupFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fake    *fakeHolder
		code    int
		outHas  []string
		errHas  []string
		started bool
	}{
		{"acquire error", &fakeHolder{acquireErr: errors.New("boom")}, 1, nil, []string{"Lock acquisition failed: boom"}, false},
		{"timeout", &fakeHolder{notAcquire: true}, 1, nil, []string{"Shutdown triggered or timeout during lock acquisition"}, false},
		{"release error", &fakeHolder{releaseErr: errors.New("gone")}, 1, nil, []string{"Lock release failed: gone"}, true},
		{"in use", &fakeHolder{destroyErr: api.ErrLockInUse}, 0, []string{"Cleanup aborted, lock in use"}, nil, true},
		{"cleanup error", &fakeHolder{destroyErr: api.ErrLockConflict}, 1, nil, []string{"Lock cleanup failed: " + api.ErrLockConflict.Error()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runHold(t, lockFlags{shell: true, verbose: true}, tc.fake, "", []string{"echo ran"}, nil)
			r.check(t, tc.code, tc.outHas, tc.errHas)
			if strings.Contains(r.out, "ran") != tc.started {
				t.Errorf("child ran: %v, want %v", strings.Contains(r.out, "ran"), tc.started)
			}
		})
	}
}
