package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/consulcompat/consul/agent"
	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/go-hclog"
)

const agentHelp = `
Usage: consul agent [options]

  Starts a Consul-compatible server agent and runs until it is interrupted
  (SIGINT or SIGTERM), then shuts down gracefully. Options come from config
  files (-config-file, -config-dir; JSON or HCL with Consul's key names) and
  flags, flags winning.

  To run a single server that elects itself:

      $ consul agent -server -bootstrap -data-dir /var/lib/consul

  To run one of three servers that find each other and elect a leader
  once all three are there:

      $ consul agent -server -bootstrap-expect 3 -data-dir /var/lib/consul \
          -bind 10.0.0.1 -retry-join 10.0.0.2 -retry-join 10.0.0.3

  The agent also stops by itself after a graceful leave (consul leave),
  with exit code 0, or when -retry-join gives up (-retry-max), with 1.

  To try it out, with state kept in memory:

      $ consul agent -dev
`

// agentRunner is the part of *agent.Agent the command drives.
type agentRunner interface {
	Start() error
	HTTPAddr() string
	Shutdown() error
	// StopCh delivers why the agent stopped by itself: nil after a
	// graceful leave, or the error that ended -retry-join.
	StopCh() <-chan error
}

// agentCommand is `consul agent`. Its zero value runs the real agent on
// the process's signals; tests set the fields.
type agentCommand struct {
	// newAgent builds the agent; agent.New when nil.
	newAgent func(cfg *config.Config, logger hclog.Logger) (agentRunner, error)
	// signals delivers the signals the command acts on; SIGINT, SIGTERM
	// and SIGHUP of this process when nil.
	signals <-chan os.Signal
}

func (c *agentCommand) run(u *ui, args []string) int {
	cfg, err := config.Load(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(u.out, usage(agentHelp, config.Usage()))
		return 0
	case errors.Is(err, config.ErrUsage):
		u.error("%v\n", err)
		fmt.Fprint(u.err, usage(agentHelp, config.Usage()))
		return 1
	case err != nil:
		u.error("==> %v", err)
		return 1
	}

	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "agent",
		Level:  hclog.LevelFromString(cfg.LogLevel),
		Output: u.err,
	})

	signals := c.signals
	if signals == nil {
		// Registered before Start so that a signal during start-up is
		// acted on once the agent runs, rather than killing the process
		// half-started. SIGHUP is caught only so that a reload request
		// (systemd's ExecReload, as set up for Consul) does not kill the
		// agent without a graceful shutdown.
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(ch)
		signals = ch
	}

	newAgent := c.newAgent
	if newAgent == nil {
		newAgent = func(cfg *config.Config, logger hclog.Logger) (agentRunner, error) {
			return agent.New(cfg, logger)
		}
	}

	u.info("==> Starting Consul agent...")
	a, err := newAgent(cfg, logger)
	if err != nil {
		u.error("==> Error creating agent: %v", err)
		return 1
	}
	if err := a.Start(); err != nil {
		u.error("==> Error starting agent: %v", err)
		return 1
	}
	printBanner(u, cfg, a.HTTPAddr())

	for {
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				u.error("==> Caught signal: %v: reloading the configuration is not supported; still running with the one loaded at start", sig)
				continue
			}
			u.info("==> Caught signal: %v", sig)
			return shutdown(u, a, signals)
		case err := <-a.StopCh():
			if err != nil {
				u.error("==> %v", err)
				shutdown(u, a, signals)
				return 1
			}
			u.info("==> Left the cluster gracefully")
			return shutdown(u, a, signals)
		}
	}
}

// printBanner tells where the started agent is.
func printBanner(u *ui, cfg *config.Config, httpAddr string) {
	line := func(name, format string, args ...interface{}) {
		u.info("%18s: %s", name, fmt.Sprintf(format, args...))
	}
	u.info("==> Consul agent running!")
	line("Version", "'%s'", Version)
	line("Node name", "'%s'", cfg.NodeName)
	line("Datacenter", "'%s'", cfg.Datacenter)
	line("Server", "%t (Bootstrap: %t)", cfg.Server, cfg.Bootstrap)
	line("HTTP API", "'%s'", httpAddr)
	if cfg.DevMode {
		line("Data Dir", "none (-dev: state is kept in memory)")
	} else {
		line("Data Dir", "'%s'", cfg.DataDir)
	}
	u.info("")
	u.info("==> Log data will now stream in as it occurs:")
	u.info("")
}

// shutdown stops the agent gracefully. A second SIGINT or SIGTERM while it
// does gives up waiting, for an operator whose agent hangs on the way out.
func shutdown(u *ui, a agentRunner, signals <-chan os.Signal) int {
	u.info("==> Gracefully shutting down agent...")
	done := make(chan error, 1)
	go func() { done <- a.Shutdown() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				u.error("==> Error shutting down agent: %v", err)
				return 1
			}
			u.info("==> Agent shut down")
			return 0
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				continue
			}
			u.error("==> Caught second signal: %v: exiting without waiting for shutdown", sig)
			return 1
		}
	}
}
