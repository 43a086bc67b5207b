package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// maxPort is the largest TCP/UDP port number.
const maxPort = 65535

// logLevels are the levels -log-level and log_level accept.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

// validate checks the merged configuration and normalises the log level to
// lower case. Its errors name both the config key and the flag, since
// either may have set the value.
func validate(cfg *Config) error {
	var errs []error
	add := func(format string, args ...interface{}) {
		errs = append(errs, fmt.Errorf("config: "+format, args...))
	}

	if cfg.NodeName == "" {
		add("node_name (-node) is required: the hostname could not be used")
	}
	if cfg.DataDir == "" && !cfg.DevMode {
		add("data_dir (-data-dir) is required unless -dev is set")
	}
	if !validDatacenter(cfg.Datacenter) {
		add("datacenter (-datacenter) %q is invalid: use only lowercase letters, digits, '-' and '_'", cfg.Datacenter)
	}

	// Consul's own files often say "INFO"; the level is case-insensitive
	// there, so it is here.
	level := strings.ToLower(cfg.LogLevel)
	if !slices.Contains(logLevels, level) {
		add("log_level (-log-level) %q is invalid: use one of %s", cfg.LogLevel, strings.Join(logLevels, ", "))
	} else {
		cfg.LogLevel = level
	}

	for _, p := range []struct {
		key, flag string
		port      int
	}{
		{"ports.http", "-http-port", cfg.Ports.HTTP},
		{"ports.server", "-server-port", cfg.Ports.Server},
		{"ports.serf_lan", "-serf-lan-port", cfg.Ports.SerfLAN},
		{"ports.serf_wan", "-serf-wan-port", cfg.Ports.SerfWAN},
	} {
		if p.port < 0 || p.port > maxPort {
			add("%s (%s) %d is out of range 0..%d", p.key, p.flag, p.port, maxPort)
		}
	}

	if cfg.BootstrapExpect < 0 {
		add("bootstrap_expect (-bootstrap-expect) must not be negative, got %d", cfg.BootstrapExpect)
	}
	switch {
	case cfg.BootstrapExpect != 0 && cfg.DevMode:
		add("bootstrap_expect (-bootstrap-expect) cannot be used with -dev, which bootstraps by itself")
	case cfg.BootstrapExpect != 0 && cfg.Bootstrap:
		add("bootstrap (-bootstrap) and bootstrap_expect (-bootstrap-expect) are mutually exclusive")
	}
	// As in Consul: only a server takes part in elections.
	if cfg.Bootstrap && !cfg.Server {
		add("bootstrap (-bootstrap) requires server mode (-server)")
	}
	if cfg.BootstrapExpect > 0 && !cfg.Server {
		add("bootstrap_expect (-bootstrap-expect) requires server mode (-server)")
	}

	// Consul also accepts go-sockaddr templates and several client
	// addresses; this agent takes one literal IP for each.
	if net.ParseIP(cfg.BindAddr) == nil {
		add("bind_addr (-bind) %q is not an IP address", cfg.BindAddr)
	}
	if net.ParseIP(cfg.ClientAddr) == nil {
		add("client_addr (-client) %q is not an IP address", cfg.ClientAddr)
	}
	if cfg.AdvertiseAddr != "" {
		if ip := net.ParseIP(cfg.AdvertiseAddr); ip == nil || ip.IsUnspecified() {
			add("advertise_addr (-advertise) %q is not an IP address other servers can reach", cfg.AdvertiseAddr)
		}
	}

	if cfg.SessionTTLMin <= 0 {
		add("session_ttl_min must be positive, got %v", cfg.SessionTTLMin)
	}
	if cfg.RetryInterval <= 0 {
		add("retry_interval (-retry-interval) must be positive, got %v", cfg.RetryInterval)
	}
	if cfg.RetryMax < 0 {
		add("retry_max (-retry-max) must not be negative, got %d", cfg.RetryMax)
	}
	if cfg.RaftSnapshotThreshold < 0 {
		add("raft_snapshot_threshold must not be negative, got %d", cfg.RaftSnapshotThreshold)
	}
	// Raft's own floor; 0 keeps the default.
	if cfg.RaftSnapshotInterval != 0 && cfg.RaftSnapshotInterval < 5*time.Millisecond {
		add("raft_snapshot_interval must be at least 5ms, got %v", cfg.RaftSnapshotInterval)
	}
	if cfg.RaftTrailingLogs < 0 {
		add("raft_trailing_logs must not be negative, got %d", cfg.RaftTrailingLogs)
	}
	validateLimits(&cfg.Limits, add)

	return errors.Join(errs...)
}

// validDatacenter reports whether name is a non-empty run of lowercase
// letters, digits, '-' and '_', as Consul requires.
func validDatacenter(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}
