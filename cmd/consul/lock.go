package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/consul/api"
)

const lockHelp = `
Usage: consul lock [options] prefix child...

  Acquires a lock under prefix in the key-value store and runs child while
  holding it; with -n greater than 1, a semaphore that up to n holders
  share. The child sees CONSUL_LOCK_HELD=true in its environment.

      $ consul lock service/backup/leader ./backup.sh

  If the lock is lost, or this command gets SIGINT or SIGTERM, the child
  is sent SIGTERM, and SIGKILL if it has not exited 5 seconds later. Once
  the child has ended, the lock is released, and its key deleted unless
  someone else uses it.

  Every user of a prefix must give the same -n, and the token must be
  allowed to write under the prefix. Options go before prefix: what
  follows it is the child's.
`

// lockKillGrace is how long a child has to exit after SIGTERM before it
// is sent SIGKILL.
const lockKillGrace = 5 * time.Second

// lockMonitorRetryTime is the wait before each retry of a failed check
// that the lock is still held (-monitor-retry).
const lockMonitorRetryTime = time.Second

// lockFlags are the options of consul lock besides the HTTP flags.
type lockFlags struct {
	limit         int
	name          string
	passStdin     bool
	shell         bool
	timeout       time.Duration
	monitorRetry  int
	childExitCode bool
	verbose       bool
}

// register adds the flags to fs, named as Consul names them.
func (f *lockFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.limit, "n", 1, "How many holders the lock may have at once; above 1, a semaphore is used.")
	fs.StringVar(&f.name, "name", "", "The `name` of the lock's session; by default one naming the child and prefix.")
	fs.BoolVar(&f.passStdin, "pass-stdin", false, "Pass this command's standard input to the child.")
	fs.BoolVar(&f.shell, "shell", true, "Run the child through a shell ($SHELL, or /bin/sh) as one command line.")
	fs.DurationVar(&f.timeout, "timeout", 0, "Give up if the lock is not acquired within this `duration`; 0 waits for ever.")
	fs.DurationVar(&f.timeout, "try", 0, "Deprecated: use -timeout.")
	fs.IntVar(&f.monitorRetry, "monitor-retry", 3,
		"How many times a failed check that the lock is still held is retried, 1s apart,\n"+
			"before the lock counts as lost; rides out a brief server election. 0 disables retries.")
	fs.BoolVar(&f.childExitCode, "child-exit-code", false, "Exit with 2 if the child did not succeed, instead of 0.")
	fs.BoolVar(&f.verbose, "verbose", false, "Tell each step of acquiring, holding and releasing the lock.")
}

// verbosef writes a line of regular output when -verbose is given.
func (f *lockFlags) verbosef(u *ui, format string, args ...interface{}) {
	if f.verbose {
		u.info(format, args...)
	}
}

// holder is a lock or a semaphore, as the command uses both the same way.
type holder struct {
	// acquire blocks until the lock is held, stop is closed or the
	// timeout passes; it returns a channel closed when the lock is lost,
	// or nil if it was not acquired.
	acquire func(stop <-chan struct{}) (<-chan struct{}, error)
	release func() error
	// destroy deletes the lock's key; it fails with inUse while another
	// holder or contender still uses it, which is not an error here.
	destroy func() error
	inUse   error
}

// runLock is `consul lock`.
func runLock(u *ui, args []string) int {
	var f lockFlags
	c := newHTTPCommand("lock", lockHelp, false)
	f.register(c.fs)
	if code, done := c.parse(u, args); done {
		return code
	}
	rest := c.fs.Args()
	switch {
	case f.limit <= 0:
		u.error("Lock holder limit must be positive")
		return 1
	case len(rest) < 2:
		u.error("Key prefix and child command must be specified")
		return 1
	case f.timeout < 0:
		u.error("Timeout must be positive")
		return 1
	case f.monitorRetry < 0:
		u.error("Number for 'monitor-retry' must be >= 0")
		return 1
	}
	prefix, child := strings.TrimPrefix(rest[0], "/"), rest[1:]
	if f.name == "" {
		f.name = fmt.Sprintf("Consul lock for '%s' at '%s'", strings.Join(child, " "), prefix)
	}

	client, ok := c.client(u)
	if !ok {
		return 1
	}
	// An unreachable agent is reported as such, before any lock setup.
	if _, err := client.Agent().NodeName(); err != nil {
		u.error("Error querying Consul agent: %s", err)
		return 1
	}
	// Caught from before the session exists, so that an interrupt ends a
	// wait for the lock, or stops the child and releases the lock, rather
	// than killing this process with the lock or the session left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	session, end, err := f.startSession(client)
	if err != nil {
		u.error("Lock setup failed: %s", err)
		return 1
	}
	defer end()
	h, err := f.setup(u, client, prefix, session)
	if err != nil {
		u.error("Lock setup failed: %s", err)
		return 1
	}
	return f.hold(u, h, child, ctx.Done())
}

// setup builds the lock (-n=1) on prefix/.lock, or the semaphore on
// prefix, with the command's options, held by session.
func (f *lockFlags) setup(u *ui, client *api.Client, prefix, session string) (*holder, error) {
	if f.limit == 1 {
		// The semaphore's key name, so that a lock and a semaphore on one
		// prefix conflict rather than both being held.
		key := path.Join(prefix, api.DefaultSemaphoreKey)
		f.verbosef(u, "Setting up lock at path: %s", key)
		opts := &api.LockOptions{Key: key, Session: session,
			MonitorRetries: f.monitorRetry, MonitorRetryTime: lockMonitorRetryTime}
		if f.timeout > 0 {
			opts.LockTryOnce, opts.LockWaitTime = true, f.timeout
		}
		l, err := client.LockOpts(opts)
		if err != nil {
			return nil, err
		}
		return &holder{acquire: l.Lock, release: l.Unlock, destroy: l.Destroy, inUse: api.ErrLockInUse}, nil
	}
	f.verbosef(u, "Setting up semaphore (limit %d) at prefix: %s", f.limit, prefix)
	opts := &api.SemaphoreOptions{Prefix: prefix, Limit: f.limit, Session: session,
		MonitorRetries: f.monitorRetry, MonitorRetryTime: lockMonitorRetryTime}
	if f.timeout > 0 {
		opts.SemaphoreTryOnce, opts.SemaphoreWaitTime = true, f.timeout
	}
	s, err := client.SemaphoreOpts(opts)
	if err != nil {
		return nil, err
	}
	return &holder{acquire: s.Acquire, release: s.Release, destroy: s.Destroy, inUse: api.ErrSemaphoreInUse}, nil
}

// startSession creates the session the lock is held with, as the api
// package would (its TTL, and for a semaphore the delete behaviour that
// removes a contender's key with it), and keeps it renewed. end destroys
// it. The command owns the session, rather than leaving it to the api
// package, because the package destroys the sessions it creates in the
// background, which this process's exit can cut short: the session, and
// a semaphore contender's key, would then linger until their TTL ran out.
func (f *lockFlags) startSession(client *api.Client) (id string, end func(), err error) {
	entry := &api.SessionEntry{Name: f.name, TTL: api.DefaultLockSessionTTL}
	if f.limit > 1 {
		entry.TTL, entry.Behavior = api.DefaultSemaphoreSessionTTL, api.SessionBehaviorDelete
	}
	sessions := client.Session()
	id, _, err = sessions.Create(entry, nil)
	if err != nil {
		return "", nil, fmt.Errorf("failed to create session: %v", err)
	}
	done := make(chan struct{})
	go sessions.RenewPeriodic(entry.TTL, id, nil, done)
	return id, func() {
		close(done)
		// A failure is not reported: by now the session holds nothing it
		// should not, and its TTL ends it anyway.
		sessions.Destroy(id, nil)
	}, nil
}

// hold acquires h, runs child while holding it, then releases and cleans
// it up; shutdown is closed on SIGINT or SIGTERM. It returns the exit
// code.
func (f *lockFlags) hold(u *ui, h *holder, child []string, shutdown <-chan struct{}) int {
	f.verbosef(u, "Attempting lock acquisition")
	lost, err := h.acquire(shutdown)
	if lost == nil {
		if err != nil {
			u.error("Lock acquisition failed: %s", err)
		} else {
			u.error("Shutdown triggered or timeout during lock acquisition")
		}
		return 1
	}

	childFailed := false
	select {
	case <-shutdown:
		u.error("Shutdown triggered during lock acquisition")
	default:
		childFailed = f.runChild(u, child, lost, shutdown)
	}

	if err := h.release(); err != nil {
		u.error("Lock release failed: %s", err)
		return 1
	}
	switch err := h.destroy(); {
	case errors.Is(err, h.inUse):
		f.verbosef(u, "Cleanup aborted, lock in use")
	case err != nil:
		u.error("Lock cleanup failed: %s", err)
		return 1
	default:
		f.verbosef(u, "Cleanup succeeded")
	}
	if f.childExitCode && childFailed {
		return 2
	}
	return 0
}

// runChild runs the child until it exits, or until the lock is lost or
// shutdown is closed, when it stops the child. It reports whether the
// child failed: could not start, exited non-zero, or had to be stopped.
func (f *lockFlags) runChild(u *ui, args []string, lost, shutdown <-chan struct{}) bool {
	f.verbosef(u, "Starting handler")
	cmd := f.childCommand(args)
	cmd.Env = append(os.Environ(), "CONSUL_LOCK_HELD=true")
	if f.passStdin {
		cmd.Stdin = u.in
	}
	cmd.Stdout, cmd.Stderr = u.out, u.err
	if err := cmd.Start(); err != nil {
		u.error("Error starting handler: %s", err)
		return true
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	select {
	case err := <-exited:
		if err != nil {
			u.error("Error running handler: %s", err)
		}
		f.verbosef(u, "Child terminated, releasing lock")
		return err != nil
	case <-lost:
		f.verbosef(u, "Lock lost, killing child")
	case <-shutdown:
		f.verbosef(u, "Shutdown triggered, killing child")
	}
	f.stopChild(u, cmd.Process, exited)
	return true
}

// childCommand is the child to run: args as one line for the shell with
// -shell, else args[0] run directly with the other args.
func (f *lockFlags) childCommand(args []string) *exec.Cmd {
	if !f.shell {
		return exec.Command(args[0], args[1:]...)
	}
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	return exec.Command(shell, "-c", strings.Join(args, " "))
}

// stopChild sends p SIGTERM, and SIGKILL if it has not exited within
// lockKillGrace; it returns once exited, fed by p's Wait, delivers.
func (f *lockFlags) stopChild(u *ui, p *os.Process, exited <-chan error) {
	f.verbosef(u, "Terminating child pid %d", p.Pid)
	// An error means the child has just exited by itself: exited says so.
	p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		f.verbosef(u, "Child terminated")
		return
	case <-time.After(lockKillGrace):
	}
	f.verbosef(u, "Child did not exit after %v, killing child pid %d", lockKillGrace, p.Pid)
	p.Kill()
	<-exited
}
