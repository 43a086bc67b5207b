package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/go-hclog"
)

// fakeAgent records what the agent command does with an agent, so that
// the command's handling of start, signals and shutdown can be tested
// without a server. The real agent is driven end to end elsewhere.
type fakeAgent struct {
	mu          sync.Mutex
	cfg         *config.Config
	started     bool
	shutdown    bool
	startErr    error
	shutdownErr error
	// shutdownWait, when set, holds Shutdown until it is closed.
	shutdownWait chan struct{}
	// stopCh is what StopCh returns; nil never delivers.
	stopCh chan error
}

func (a *fakeAgent) StopCh() <-chan error { return a.stopCh }

func (a *fakeAgent) Start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.started = a.startErr == nil
	return a.startErr
}

func (a *fakeAgent) HTTPAddr() string { return "127.0.0.1:18500" }

func (a *fakeAgent) Shutdown() error {
	if a.shutdownWait != nil {
		<-a.shutdownWait
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.shutdown = true
	return a.shutdownErr
}

// runAgent runs `consul agent args` with fake and the given signals
// already queued, and returns the result.
func runAgent(t *testing.T, fake *fakeAgent, newErr error, args []string, sigs ...os.Signal) result {
	t.Helper()
	ch := make(chan os.Signal, len(sigs))
	for _, s := range sigs {
		ch <- s
	}
	c := &agentCommand{
		newAgent: func(cfg *config.Config, logger hclog.Logger) (agentRunner, error) {
			if logger == nil {
				t.Error("no logger")
			}
			fake.cfg = cfg
			return fake, newErr
		},
		signals: ch,
	}
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- c.run(&ui{in: strings.NewReader(""), out: &out, err: &errb}, args) }()
	select {
	case code := <-done:
		return result{code: code, out: out.String(), err: errb.String()}
	case <-time.After(30 * time.Second):
		t.Fatal("consul agent did not return")
		return result{}
	}
}

func TestAgentRunsUntilSignalled(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			fake := &fakeAgent{}
			r := runAgent(t, fake, nil, []string{"-dev", "-node=n1", "-datacenter=east"}, sig)
			r.check(t, 0, []string{
				"==> Starting Consul agent...",
				"Version: '" + Version + "'",
				"Node name: 'n1'",
				"Datacenter: 'east'",
				"Server: true (Bootstrap: true)",
				"HTTP API: '127.0.0.1:18500'",
				"==> Caught signal: " + sig.String(),
				"==> Gracefully shutting down agent...",
				"==> Agent shut down",
			}, nil)
			if !fake.started || !fake.shutdown {
				t.Errorf("started=%v shutdown=%v, want both", fake.started, fake.shutdown)
			}
			if fake.cfg == nil || !fake.cfg.DevMode || fake.cfg.NodeName != "n1" {
				t.Errorf("agent built with config %+v", fake.cfg)
			}
		})
	}
}

func TestAgentIgnoresHangup(t *testing.T) {
	fake := &fakeAgent{}
	r := runAgent(t, fake, nil, []string{"-dev"}, syscall.SIGHUP, os.Interrupt)
	r.check(t, 0, []string{"==> Agent shut down"}, []string{"reloading the configuration is not supported"})
}

func TestAgentConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.hcl")
	if err := os.WriteFile(file, []byte("server = true\nbootstrap = true\ndata_dir = \""+dir+"\"\nnode_name = \"from-file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := &fakeAgent{}
	r := runAgent(t, fake, nil, []string{"-config-file", file}, os.Interrupt)
	r.check(t, 0, []string{"Node name: 'from-file'", "Data Dir: '" + dir + "'"}, nil)
}

func TestAgentFailures(t *testing.T) {
	cases := []struct {
		name   string
		fake   *fakeAgent
		newErr error
		args   []string
		errHas []string
		// usage tells whether the usage text must follow the error.
		usage bool
	}{
		{
			name:   "bad flag",
			fake:   &fakeAgent{},
			args:   []string{"-dev", "-nope"},
			errHas: []string{"flag provided but not defined: -nope", "Usage: consul agent"},
			usage:  true,
		},
		{
			name:   "invalid config",
			fake:   &fakeAgent{},
			args:   []string{"-server"},
			errHas: []string{"data_dir (-data-dir) is required"},
		},
		{
			name:   "unknown key in a config file",
			fake:   &fakeAgent{},
			args:   []string{"-dev", "-config-file", "testdata/typo.hcl"},
			errHas: []string{`config: testdata/typo.hcl: unknown key "data_dri"`},
		},
		{
			name:   "agent refuses the config",
			fake:   &fakeAgent{},
			newErr: errors.New("agent: only server mode exists; pass -server"),
			args:   []string{"-dev"},
			errHas: []string{"==> Error creating agent: agent: only server mode exists"},
		},
		{
			name:   "start fails",
			fake:   &fakeAgent{startErr: errors.New("listen tcp 127.0.0.1:8500: bind: address already in use")},
			args:   []string{"-dev"},
			errHas: []string{"==> Error starting agent: listen tcp 127.0.0.1:8500: bind: address already in use"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runAgent(t, tc.fake, tc.newErr, tc.args, os.Interrupt)
			r.check(t, 1, nil, tc.errHas)
			if got := strings.Contains(r.err, "Usage: consul agent"); got != tc.usage {
				t.Errorf("usage printed: %v, want %v\n%s", got, tc.usage, r.err)
			}
			if strings.Contains(r.out, "Consul agent running") {
				t.Errorf("banner printed on failure:\n%s", r.out)
			}
		})
	}
}

func TestAgentShutdownFails(t *testing.T) {
	fake := &fakeAgent{shutdownErr: errors.New("raft: close failed")}
	r := runAgent(t, fake, nil, []string{"-dev"}, os.Interrupt)
	r.check(t, 1, nil, []string{"==> Error shutting down agent: raft: close failed"})
}

func TestAgentSecondSignal(t *testing.T) {
	fake := &fakeAgent{shutdownWait: make(chan struct{})}
	defer close(fake.shutdownWait)
	r := runAgent(t, fake, nil, []string{"-dev"}, os.Interrupt, os.Interrupt)
	r.check(t, 1, nil, []string{"==> Caught second signal"})
}

func TestAgentStopsByItself(t *testing.T) {
	// After a graceful leave: exit 0.
	left := &fakeAgent{stopCh: make(chan error, 1)}
	left.stopCh <- nil
	r := runAgent(t, left, nil, []string{"-dev"})
	r.check(t, 0, []string{"==> Left the cluster gracefully", "==> Agent shut down"}, nil)
	if !left.shutdown {
		t.Error("not shut down after a leave")
	}

	// When -retry-join gave up: exit 1 with the reason.
	gaveUp := &fakeAgent{stopCh: make(chan error, 1)}
	gaveUp.stopCh <- errors.New("agent: -retry-join [10.0.0.9]: no agent answered in 3 attempts")
	r = runAgent(t, gaveUp, nil, []string{"-dev"})
	r.check(t, 1, nil, []string{"==> agent: -retry-join [10.0.0.9]: no agent answered in 3 attempts"})
	if !gaveUp.shutdown {
		t.Error("not shut down after retry-join gave up")
	}
}

func TestAgentHelp(t *testing.T) {
	r := runAgent(t, &fakeAgent{}, nil, []string{"-help"})
	r.check(t, 0, []string{"Usage: consul agent", "-bootstrap-expect", "-config-dir"}, nil)
}
