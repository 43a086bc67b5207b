package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/consulcompat/consul/structs"
)

// ErrUsage marks an error in the command line itself (an unknown flag, a
// flag value that does not parse, a stray argument), as opposed to an error
// in a config file or in the merged configuration. The CLI prints its usage
// text for these and only for these.
var ErrUsage = errors.New("invalid command line")

// usageError is a command-line error; it matches ErrUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return "config: " + e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Load builds the agent's configuration from args, the arguments after
// `consul agent`. Values are taken, each overriding the one before, from
// the defaults, then -dev's settings (when -dev is given), then every config
// file in the order -config-file and -config-dir name them on the command
// line, then the flags given on the command line. The result is validated.
//
// -help (or -h) returns flag.ErrHelp. Errors in the command line match
// ErrUsage; all errors start with "config: " and name the key, flag or file
// at fault.
func Load(args []string) (*Config, error) {
	// The first parse only finds -dev and the config files: files must be
	// applied before the flags, whatever the flags' position.
	var scratch cliOptions
	scratchCfg := defaults()
	fs := newFlagSet(&scratchCfg, &scratch)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{msg: fmt.Sprintf("unexpected argument %q (flags must come before it)", fs.Arg(0))}
	}
	if err := checkFormat(scratch.configFormat); err != nil {
		return nil, err
	}

	cfg := defaults()
	if scratchCfg.DevMode {
		applyDev(&cfg)
	}
	sources, err := collectSources(scratch.configPaths, scratch.configFormat)
	if err != nil {
		return nil, err
	}
	for _, src := range sources {
		if err := src.apply(&cfg); err != nil {
			return nil, err
		}
	}

	// The second parse binds the flags to cfg with its current values as
	// their defaults, so that exactly the flags given override what the
	// files set. It parses the same arguments, so it cannot fail.
	var ignored cliOptions
	if err := newFlagSet(&cfg, &ignored).Parse(args); err != nil {
		return nil, &usageError{msg: err.Error()}
	}

	if err := validate(&cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Usage describes the agent's flags, one per entry, as flag.PrintDefaults
// prints them, for `consul agent -help`.
func Usage() string {
	var b strings.Builder
	cfg := defaults()
	// The hostname would make the help text differ from machine to machine.
	cfg.NodeName = ""
	fs := newFlagSet(&cfg, &cliOptions{})
	fs.SetOutput(&b)
	fs.PrintDefaults()
	return b.String()
}

// defaults is the configuration before any file or flag.
func defaults() Config {
	// A node whose hostname cannot be read gets no default name; validate
	// then asks for -node.
	host, _ := os.Hostname()
	return Config{
		NodeName:   host,
		Datacenter: "dc1",
		BindAddr:   "0.0.0.0",
		ClientAddr: "127.0.0.1",
		LogLevel:   "info",
		// Consul's default.
		RetryInterval: 30 * time.Second,
		SessionTTLMin: structs.SessionTTLMin,
		Ports: Ports{
			HTTP:    8500,
			Server:  8300,
			SerfLAN: 8301,
			SerfWAN: 8302,
		},
		Limits: defaultLimits(),
		// Consul's defaults.
		ACL: ACLConfig{
			DefaultPolicy: ACLPolicyAllow,
			DownPolicy:    ACLDownPolicyExtendCache,
		},
	}
}

// applyDev sets what -dev implies. Config files and flags may still
// override each of these, as with Consul's -dev.
func applyDev(cfg *Config) {
	cfg.DevMode = true
	cfg.Server = true
	cfg.Bootstrap = true
	cfg.BindAddr = "127.0.0.1"
	cfg.ClientAddr = "127.0.0.1"
}

// cliOptions holds the flags that steer loading rather than set a Config
// field.
type cliOptions struct {
	// configPaths are the -config-file and -config-dir values, in the order
	// given: the two flags share one list because that order is the order
	// of precedence between them.
	configPaths  []string
	configFormat string
}

// listFlag is a repeatable flag whose values are appended to a list (for
// -join and -retry-join after those the config files gave, as Consul
// merges lists; for -config-file and -config-dir, one shared list, in
// order). what names a value in the error for an empty one.
type listFlag struct {
	list *[]string
	what string
}

func (l listFlag) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l listFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty " + l.what)
	}
	*l.list = append(*l.list, v)
	return nil
}

// newFlagSet defines the agent's flags, writing into cfg and opts; each
// flag's default is the value cfg holds now.
func newFlagSet(cfg *Config, opts *cliOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	fs.BoolVar(&cfg.Server, "server", cfg.Server,
		"Run the agent in server mode (config key: server).")
	fs.BoolVar(&cfg.Bootstrap, "bootstrap", cfg.Bootstrap,
		"Let this server elect itself leader without waiting for others (bootstrap).")
	fs.IntVar(&cfg.BootstrapExpect, "bootstrap-expect", cfg.BootstrapExpect,
		"Number of servers to wait for before the first election (bootstrap_expect).")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir,
		"Directory for Raft's log and snapshots; required unless -dev (data_dir).")
	fs.StringVar(&cfg.NodeName, "node", cfg.NodeName,
		"Name of this node; the hostname by default (node_name).")
	fs.StringVar(&cfg.Datacenter, "datacenter", cfg.Datacenter,
		"Datacenter of this agent: lowercase letters, digits, '-' and '_' (datacenter).")
	fs.StringVar(&cfg.BindAddr, "bind", cfg.BindAddr,
		"IP address for cluster traffic: server RPC, Raft and Serf (bind_addr).")
	fs.StringVar(&cfg.AdvertiseAddr, "advertise", cfg.AdvertiseAddr,
		"IP address other servers reach this one at, for RPC, Raft and Serf; the bind\n"+
			"address by default, or 127.0.0.1 when that is 0.0.0.0 (advertise_addr).")
	fs.Var(listFlag{&cfg.StartJoin, "address"}, "join",
		"Serf `address` of an agent to join at start; may be repeated. Failing to join\n"+
			"any stops the agent (start_join).")
	fs.Var(listFlag{&cfg.RetryJoin, "address"}, "retry-join",
		"Serf `address` of an agent to join at start, trying again until one answers;\n"+
			"may be repeated (retry_join).")
	fs.DurationVar(&cfg.RetryInterval, "retry-interval", cfg.RetryInterval,
		"Time to wait between two attempts of -retry-join (retry_interval).")
	fs.IntVar(&cfg.RetryMax, "retry-max", cfg.RetryMax,
		"Attempts of -retry-join before the agent gives up and stops; 0 for no limit\n"+
			"(retry_max).")
	fs.StringVar(&cfg.ClientAddr, "client", cfg.ClientAddr,
		"IP address the HTTP API listens on (client_addr).")
	fs.IntVar(&cfg.Ports.HTTP, "http-port", cfg.Ports.HTTP,
		"Port of the HTTP API; 0 picks a free port (ports.http).")
	fs.IntVar(&cfg.Ports.Server, "server-port", cfg.Ports.Server,
		"Port of server RPC and Raft; 0 picks a free port (ports.server).")
	fs.IntVar(&cfg.Ports.SerfLAN, "serf-lan-port", cfg.Ports.SerfLAN,
		"Port of Serf LAN gossip; 0 picks a free port (ports.serf_lan).")
	fs.IntVar(&cfg.Ports.SerfWAN, "serf-wan-port", cfg.Ports.SerfWAN,
		"Port of Serf WAN gossip; 0 picks a free port (ports.serf_wan).")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel,
		"Log level: trace, debug, info, warn or error (log_level).")
	fs.BoolVar(&cfg.DevMode, "dev", cfg.DevMode,
		"Development mode: an in-memory server that bootstraps itself on 127.0.0.1.")
	fs.Var(listFlag{&opts.configPaths, "path"}, "config-file",
		"A config file (.json or .hcl) to load; may be repeated.")
	fs.Var(listFlag{&opts.configPaths, "path"}, "config-dir",
		"A directory whose *.json and *.hcl files are loaded in lexical order; may be repeated.")
	fs.StringVar(&opts.configFormat, "config-format", "",
		"Read every config file as 'json' or 'hcl', whatever its extension.")
	return fs
}
