package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFiles writes name → content under a new temp dir and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// consulLimits are the limits block's defaults: Consul's where the key
// is Consul's.
var consulLimits = Limits{
	HTTPMaxConnsPerClient: 200, HTTPIdleTimeout: 90 * time.Second, HTTPReadHeaderTimeout: 10 * time.Second,
	RPCMaxConnsPerClient: 100, RPCHandshakeTimeout: 5 * time.Second,
	RestoreUploadGrace: 30 * time.Second, RestoreUploadMinRate: 1 << 20,
}

// want returns the defaults with the hostname as node name, changed by fn.
func want(t *testing.T, fn func(c *Config)) *Config {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{
		NodeName:   host,
		Datacenter: "dc1",
		BindAddr:   "0.0.0.0",
		ClientAddr: "127.0.0.1",
		LogLevel:   "info",
		Ports:      Ports{HTTP: 8500, Server: 8300, SerfLAN: 8301, SerfWAN: 8302},

		RetryInterval: 30 * time.Second,
		SessionTTLMin: 10 * time.Second,
		ACL:           ACLConfig{DefaultPolicy: "allow", DownPolicy: "extend-cache"},
		Limits:        consulLimits,
	}
	if fn != nil {
		fn(c)
	}
	return c
}

func TestLoadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want *Config
	}{
		{
			name: "defaults",
			args: []string{"-data-dir", "/var/consul"},
			want: want(t, func(c *Config) { c.DataDir = "/var/consul" }),
		},
		{
			name: "every flag",
			args: []string{
				"-server", "-bootstrap-expect=3", "-data-dir=/d", "-node=n1",
				"-datacenter=east-1_a", "-bind=10.0.0.1", "-client=0.0.0.0",
				"-http-port=18500", "-server-port=18300", "-serf-lan-port=18301",
				"-serf-wan-port=18302", "-log-level=debug",
				"-advertise=10.0.0.9", "-join=10.0.0.2", "-join=10.0.0.3:8301",
				"-retry-join=10.0.0.4", "-retry-join=[::1]:8301", "-retry-interval=5s", "-retry-max=7",
			},
			want: &Config{
				NodeName: "n1", Datacenter: "east-1_a", DataDir: "/d",
				Server: true, BootstrapExpect: 3, BindAddr: "10.0.0.1",
				ClientAddr: "0.0.0.0", LogLevel: "debug",
				Ports:         Ports{HTTP: 18500, Server: 18300, SerfLAN: 18301, SerfWAN: 18302},
				AdvertiseAddr: "10.0.0.9",
				StartJoin:     []string{"10.0.0.2", "10.0.0.3:8301"},
				RetryJoin:     []string{"10.0.0.4", "[::1]:8301"},
				RetryInterval: 5 * time.Second,
				RetryMax:      7,
				SessionTTLMin: 10 * time.Second,
				ACL:           ACLConfig{DefaultPolicy: "allow", DownPolicy: "extend-cache"},
				Limits:        consulLimits,
			},
		},
		{
			name: "bootstrap server",
			args: []string{"-server", "-bootstrap", "-data-dir", "./data", "-node", "local", "-bind", "127.0.0.1", "-client", "127.0.0.1"},
			want: want(t, func(c *Config) {
				c.Server, c.Bootstrap, c.DataDir, c.NodeName, c.BindAddr = true, true, "./data", "local", "127.0.0.1"
			}),
		},
		{
			name: "dev needs no data dir",
			args: []string{"-dev"},
			want: want(t, func(c *Config) {
				c.DevMode, c.Server, c.Bootstrap, c.BindAddr, c.ClientAddr = true, true, true, "127.0.0.1", "127.0.0.1"
			}),
		},
		{
			name: "dev settings yield to flags",
			args: []string{"-client", "0.0.0.0", "-dev", "-http-port", "0"},
			want: want(t, func(c *Config) {
				c.DevMode, c.Server, c.Bootstrap, c.BindAddr, c.ClientAddr = true, true, true, "127.0.0.1", "0.0.0.0"
				c.Ports.HTTP = 0
			}),
		},
		{
			name: "port zero picks a free port",
			args: []string{"-dev", "-http-port=0", "-server-port=0", "-serf-lan-port=0", "-serf-wan-port=0"},
			want: want(t, func(c *Config) {
				c.DevMode, c.Server, c.Bootstrap, c.BindAddr, c.ClientAddr = true, true, true, "127.0.0.1", "127.0.0.1"
				c.Ports = Ports{}
			}),
		},
		{
			name: "log level is case-insensitive",
			args: []string{"-dev", "-log-level=WARN"},
			want: want(t, func(c *Config) {
				c.DevMode, c.Server, c.Bootstrap, c.BindAddr, c.ClientAddr = true, true, true, "127.0.0.1", "127.0.0.1"
				c.LogLevel = "warn"
			}),
		},
		{
			name: "ipv6 addresses",
			args: []string{"-data-dir=/d", "-bind=::1", "-client=::"},
			want: want(t, func(c *Config) { c.DataDir, c.BindAddr, c.ClientAddr = "/d", "::1", "::" }),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.args)
			if err != nil {
				t.Fatalf("Load(%q): %v", tc.args, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Load(%q)\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
}

// goodHCL and goodJSON set every key to the same values, in the two
// formats.
const goodHCL = `
# Consul-style agent config.
node_name        = "node-a"
datacenter       = "dc2"
data_dir         = "/opt/consul"
server           = true
bootstrap_expect = 3
bind_addr        = "10.1.2.3"
client_addr      = "0.0.0.0"
log_level        = "INFO"
advertise_addr   = "10.1.2.4"
start_join       = ["10.1.2.5"]
retry_join       = ["10.1.2.6", "10.1.2.7:8301"]
retry_interval   = "10s"
retry_max        = 5
session_ttl_min  = "1s"

ports {
  http     = 8501
  server   = 8400
  serf_lan = 8401
  serf_wan = 8402
  # Listeners this agent does not have; accepted and ignored.
  dns      = 8600
  grpc     = 8502
  grpc_tls = 8503
  https    = -1
}
`

const goodJSON = `{
  "node_name": "node-a",
  "datacenter": "dc2",
  "data_dir": "/opt/consul",
  "server": true,
  "bootstrap_expect": 3,
  "bind_addr": "10.1.2.3",
  "client_addr": "0.0.0.0",
  "log_level": "INFO",
  "advertise_addr": "10.1.2.4",
  "start_join": ["10.1.2.5"],
  "retry_join": ["10.1.2.6", "10.1.2.7:8301"],
  "retry_interval": "10s",
  "retry_max": 5,
  "session_ttl_min": "1s",
  "ports": {
    "http": 8501,
    "server": 8400,
    "serf_lan": 8401,
    "serf_wan": 8402,
    "dns": 8600,
    "grpc": 8502,
    "grpc_tls": 8503,
    "https": -1
  }
}`

func goodWant() *Config {
	return &Config{
		NodeName: "node-a", Datacenter: "dc2", DataDir: "/opt/consul",
		Server: true, BootstrapExpect: 3, BindAddr: "10.1.2.3",
		ClientAddr: "0.0.0.0", LogLevel: "info",
		Ports:         Ports{HTTP: 8501, Server: 8400, SerfLAN: 8401, SerfWAN: 8402},
		AdvertiseAddr: "10.1.2.4",
		StartJoin:     []string{"10.1.2.5"},
		RetryJoin:     []string{"10.1.2.6", "10.1.2.7:8301"},
		RetryInterval: 10 * time.Second,
		RetryMax:      5,
		SessionTTLMin: time.Second,
		ACL:           ACLConfig{DefaultPolicy: "allow", DownPolicy: "extend-cache"},
		Limits:        consulLimits,
	}
}

func TestLoadFiles(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		// args get "DIR/" put before every value that starts with "@".
		args []string
		want *Config
	}{
		{
			name:  "hcl file",
			files: map[string]string{"a.hcl": goodHCL},
			args:  []string{"-config-file", "@a.hcl"},
			want:  goodWant(),
		},
		{
			name:  "json file",
			files: map[string]string{"a.json": goodJSON},
			args:  []string{"-config-file=@a.json"},
			want:  goodWant(),
		},
		{
			name:  "json in a .hcl file (hcl reads both)",
			files: map[string]string{"a.hcl": goodJSON},
			args:  []string{"-config-file=@a.hcl"},
			want:  goodWant(),
		},
		{
			name:  "config-format for a file without extension",
			files: map[string]string{"consul.conf": goodJSON},
			args:  []string{"-config-format=json", "-config-file=@consul.conf"},
			want:  goodWant(),
		},
		{
			name: "config dir reads *.json and *.hcl only, in lexical order",
			files: map[string]string{
				"d/10-base.json":  `{"data_dir": "/base", "node_name": "base", "datacenter": "dc3"}`,
				"d/20-node.hcl":   `node_name = "twenty"`,
				"d/30-node.json":  `{"node_name": "thirty"}`,
				"d/README.md":     `node_name = "readme"`,
				"d/40-x.hcl.bak":  `node_name = "backup"`,
				"d/sub.hcl/a.hcl": `node_name = "subdir"`,
			},
			args: []string{"-config-dir=@d"},
			want: want(t, func(c *Config) { c.DataDir, c.NodeName, c.Datacenter = "/base", "thirty", "dc3" }),
		},
		{
			name:  "ports block partly set keeps the other defaults",
			files: map[string]string{"a.hcl": "data_dir = \"/d\"\nports { http = 0 }\n"},
			args:  []string{"-config-file=@a.hcl"},
			want:  want(t, func(c *Config) { c.DataDir, c.Ports.HTTP = "/d", 0 }),
		},
		{
			name:  "ports written as an assignment",
			files: map[string]string{"a.hcl": "data_dir = \"/d\"\nports = { server = 9300 }\n"},
			args:  []string{"-config-file=@a.hcl"},
			want:  want(t, func(c *Config) { c.DataDir, c.Ports.Server = "/d", 9300 }),
		},
		{
			name:  "quoted hcl keys and a heredoc",
			files: map[string]string{"a.hcl": "\"data_dir\" = <<EOF\n/h\nEOF\n\"node_name\" = \"q\"\n"},
			args:  []string{"-config-file=@a.hcl"},
			want:  want(t, func(c *Config) { c.DataDir, c.NodeName = "/h\n", "q" }),
		},
		{
			name:  "empty hcl file",
			files: map[string]string{"a.hcl": "# nothing\n"},
			args:  []string{"-data-dir=/d", "-config-file=@a.hcl"},
			want:  want(t, func(c *Config) { c.DataDir = "/d" }),
		},
		{
			name:  "empty json object",
			files: map[string]string{"a.json": "{}"},
			args:  []string{"-data-dir=/d", "-config-file=@a.json"},
			want:  want(t, func(c *Config) { c.DataDir = "/d" }),
		},
		{
			name: "join lists add up across files and flags",
			files: map[string]string{
				"a.hcl":  `data_dir = "/d"` + "\n" + `retry_join = ["a"]`,
				"b.json": `{"retry_join": ["b"], "start_join": []}`,
			},
			args: []string{"-config-file=@a.hcl", "-retry-join=c", "-config-file=@b.json"},
			want: want(t, func(c *Config) { c.DataDir, c.RetryJoin = "/d", []string{"a", "b", "c"} }),
		},
		{
			name: "limits and enable_debug",
			files: map[string]string{"a.hcl": `data_dir = "/d"
enable_debug = true
limits {
  http_max_conns_per_client = 7
  http_idle_timeout = "3s"
  http_read_header_timeout = "2s"
  rpc_max_conns_per_client = 0
  rpc_handshake_timeout = "1s"
  restore_max_state_bytes = 8589934592
  restore_upload_grace = "5s"
  restore_upload_min_rate = 4096
}`},
			args: []string{"-config-file=@a.hcl"},
			want: want(t, func(c *Config) {
				c.DataDir, c.EnableDebug = "/d", true
				c.Limits = Limits{HTTPMaxConnsPerClient: 7, HTTPIdleTimeout: 3 * time.Second, HTTPReadHeaderTimeout: 2 * time.Second,
					RPCMaxConnsPerClient: 0, RPCHandshakeTimeout: time.Second, RestoreMaxStateBytes: 8 << 30,
					RestoreUploadGrace: 5 * time.Second, RestoreUploadMinRate: 4096}
			}),
		},
		{
			name: "raft snapshot tuning",
			files: map[string]string{"a.hcl": `data_dir = "/d"
raft_snapshot_threshold = 8
raft_snapshot_interval = "100ms"
raft_trailing_logs = 4`},
			args: []string{"-config-file=@a.hcl"},
			want: want(t, func(c *Config) {
				c.DataDir, c.RaftSnapshotThreshold, c.RaftSnapshotInterval, c.RaftTrailingLogs = "/d", 8, 100*time.Millisecond, 4
			}),
		},
		{
			name:  "bootstrap in a file",
			files: map[string]string{"a.json": `{"server": true, "bootstrap": true, "data_dir": "/d"}`},
			args:  []string{"-config-file=@a.json"},
			want:  want(t, func(c *Config) { c.Server, c.Bootstrap, c.DataDir = true, true, "/d" }),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			got, err := Load(inDir(dir, tc.args))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// loadFails runs Load with args, which must fail with an error holding
// each of want ("@" in them stands for dir); it returns the error.
func loadFails(t *testing.T, dir string, args, want []string) error {
	t.Helper()
	cfg, err := Load(args)
	if err == nil {
		t.Fatalf("Load: got %+v, want an error", cfg)
	}
	for _, w := range want {
		w = strings.ReplaceAll(w, "@", dir)
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	return err
}

// inDir puts dir before every "@name" in args, in "-flag=@name" or as a
// value of its own.
func inDir(dir string, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if k, v, ok := strings.Cut(a, "=@"); ok {
			a = k + "=" + filepath.Join(dir, v)
		} else if strings.HasPrefix(a, "@") {
			a = filepath.Join(dir, a[1:])
		}
		out[i] = a
	}
	return out
}

func TestLoadSymlinkInConfigDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"real/node.hcl": `node_name = "linked"` + "\n" + `data_dir = "/d"`,
		"d/keep":        "",
	})
	if err := os.Symlink(filepath.Join(dir, "real/node.hcl"), filepath.Join(dir, "d/50-node.hcl")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	got, err := Load([]string{"-config-dir", filepath.Join(dir, "d")})
	if err != nil {
		t.Fatal(err)
	}
	if got.NodeName != "linked" {
		t.Fatalf("NodeName = %q, want the symlinked file's", got.NodeName)
	}
}

func TestLoadPrecedence(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"1.hcl":       "data_dir = \"/one\"\nnode_name = \"one\"\ndatacenter = \"one\"\nlog_level = \"debug\"\nserver = true\nports { http = 1111 }\n",
		"2.json":      `{"node_name": "two", "datacenter": "two", "ports": {"server": 2222}}`,
		"d/a.hcl":     `datacenter = "dir-a"`,
		"d/b.hcl":     `datacenter = "dir-b"` + "\n" + `bind_addr = "10.0.0.2"`,
		"3.hcl":       `datacenter = "three"`,
		"dev.hcl":     `bind_addr = "10.0.0.9"` + "\n" + `bootstrap = false`,
		"noboot.json": `{"server": true}`,
	})
	p := func(name string) string { return filepath.Join(dir, name) }

	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "later file wins, earlier file's other keys stay",
			args: []string{"-config-file", p("1.hcl"), "-config-file", p("2.json")},
			check: func(t *testing.T, c *Config) {
				eq(t, "DataDir", c.DataDir, "/one")
				eq(t, "NodeName", c.NodeName, "two")
				eq(t, "Datacenter", c.Datacenter, "two")
				eq(t, "LogLevel", c.LogLevel, "debug")
				eq(t, "Ports", c.Ports, Ports{HTTP: 1111, Server: 2222, SerfLAN: 8301, SerfWAN: 8302})
			},
		},
		{
			name: "files and dirs apply in command-line order",
			args: []string{"-config-file", p("1.hcl"), "-config-dir", p("d"), "-config-file", p("2.json")},
			check: func(t *testing.T, c *Config) {
				eq(t, "Datacenter", c.Datacenter, "two")
				eq(t, "BindAddr", c.BindAddr, "10.0.0.2")
			},
		},
		{
			name: "dir after file wins",
			args: []string{"-config-file", p("1.hcl"), "-config-file", p("2.json"), "-config-dir", p("d")},
			check: func(t *testing.T, c *Config) {
				eq(t, "Datacenter", c.Datacenter, "dir-b")
			},
		},
		{
			name: "flags beat files wherever they stand",
			args: []string{"-datacenter", "flag", "-http-port", "3333", "-log-level", "error", "-config-file", p("1.hcl"), "-config-file", p("3.hcl")},
			check: func(t *testing.T, c *Config) {
				eq(t, "Datacenter", c.Datacenter, "flag")
				eq(t, "Ports.HTTP", c.Ports.HTTP, 3333)
				eq(t, "LogLevel", c.LogLevel, "error")
				eq(t, "NodeName", c.NodeName, "one")
			},
		},
		{
			name: "a false flag beats a true file value",
			args: []string{"-config-file", p("1.hcl"), "-server=false"},
			check: func(t *testing.T, c *Config) {
				eq(t, "Server", c.Server, false)
			},
		},
		{
			name: "files beat -dev's settings",
			args: []string{"-dev", "-config-file", p("dev.hcl")},
			check: func(t *testing.T, c *Config) {
				eq(t, "DevMode", c.DevMode, true)
				eq(t, "BindAddr", c.BindAddr, "10.0.0.9")
				eq(t, "Bootstrap", c.Bootstrap, false)
				eq(t, "Server", c.Server, true)
			},
		},
		{
			name: "an unset flag leaves the file's value",
			args: []string{"-config-file", p("1.hcl"), "-node", "flagnode"},
			check: func(t *testing.T, c *Config) {
				eq(t, "NodeName", c.NodeName, "flagnode")
				eq(t, "Datacenter", c.Datacenter, "one")
				eq(t, "Ports.HTTP", c.Ports.HTTP, 1111)
			},
		},
		{
			name: "file value beats default",
			args: []string{"-config-file", p("noboot.json"), "-data-dir", "/x"},
			check: func(t *testing.T, c *Config) {
				eq(t, "Server", c.Server, true)
				eq(t, "Datacenter", c.Datacenter, "dc1")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.args)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tc.check(t, c)
		})
	}
}

func eq(t *testing.T, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		args  []string
		// want are substrings of the error; "@" is replaced by the temp dir.
		want  []string
		usage bool
	}{
		// Command line.
		{name: "unknown flag", args: []string{"-dev", "-data-dri=/x"}, want: []string{"config: ", "-data-dri"}, usage: true},
		{name: "flag of the wrong type", args: []string{"-dev", "-http-port=abc"}, want: []string{`"abc"`, "-http-port"}, usage: true},
		{name: "bool flag given a word", args: []string{"-server=maybe"}, want: []string{"-server"}, usage: true},
		{name: "stray argument", args: []string{"-dev", "extra"}, want: []string{`unexpected argument "extra"`}, usage: true},
		{name: "bad config format", args: []string{"-dev", "-config-format=yaml"}, want: []string{"-config-format", `"yaml"`}, usage: true},
		{name: "missing config file", args: []string{"-dev", "-config-file=@nope.hcl"}, want: []string{"nope.hcl", "no such file"}},
		{name: "missing config dir", args: []string{"-dev", "-config-dir=@nodir"}, want: []string{"nodir", "no such file"}},
		{name: "empty config-file", args: []string{"-dev", "-config-file="}, want: []string{"-config-file", "empty path"}, usage: true},
		{
			name:  "file with unknown extension",
			files: map[string]string{"consul.conf": "{}"},
			args:  []string{"-dev", "-config-file=@consul.conf"},
			want:  []string{"consul.conf", "unknown file extension"},
		},

		// Files.
		{
			name:  "unknown key in hcl",
			files: map[string]string{"a.hcl": "server = true\ndata_dri = \"/x\"\n"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`config: @/a.hcl: unknown key "data_dri"`, "line 2"},
		},
		{
			name:  "unknown key in json",
			files: map[string]string{"a.json": `{"data_dri": "/x"}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{`config: @/a.json: unknown key "data_dri"`},
		},
		{
			name:  "unknown key in a config dir names the file",
			files: map[string]string{"d/a.hcl": `server = true`, "d/b.json": `{"retry_join_wan": ["x"]}`},
			args:  []string{"-dev", "-config-dir=@d"},
			want:  []string{`@/d/b.json: unknown key "retry_join_wan"`},
		},
		{
			name:  "unknown ports key",
			files: map[string]string{"a.hcl": "ports {\n  htp = 1\n}\n"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`unknown key "ports.htp"`},
		},
		{
			name:  "unknown limits key",
			files: map[string]string{"a.hcl": "limits {\n  rpc_rate = 10\n}\n"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`unknown key "limits.rpc_rate"`, "line 2"},
		},
		{
			name:  "limits out of range",
			files: map[string]string{"a.json": `{"limits": {"http_max_conns_per_client": -1, "rpc_handshake_timeout": "0s"}}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{"limits.http_max_conns_per_client must not be negative, got -1", "limits.rpc_handshake_timeout must be positive, got 0s"},
		},
		{
			name:  "raft snapshot tuning out of range",
			files: map[string]string{"a.json": `{"raft_snapshot_threshold": -1, "raft_snapshot_interval": "1ms", "raft_trailing_logs": -2}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want: []string{"raft_snapshot_threshold must not be negative, got -1", "raft_snapshot_interval must be at least 5ms, got 1ms",
				"raft_trailing_logs must not be negative, got -2"},
		},
		{
			name:  "unknown block",
			files: map[string]string{"a.hcl": "connect {\n  enabled = true\n}\n"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`unknown key "connect"`},
		},
		{
			name:  "string where a boolean goes",
			files: map[string]string{"a.json": `{"server": "true"}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{"a.json", `key "server": expected a boolean, got a string`},
		},
		{
			name:  "string where an integer goes",
			files: map[string]string{"a.hcl": `bootstrap_expect = "3"`},
			args:  []string{"-config-file=@a.hcl"},
			want:  []string{"a.hcl", `key "bootstrap_expect": expected an integer, got a string`},
		},
		{
			name:  "decimal where an integer goes",
			files: map[string]string{"a.json": `{"ports": {"http": 85.5}}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{`key "ports.http": expected an integer, got a decimal number`},
		},
		{
			name:  "number where a string goes",
			files: map[string]string{"a.hcl": `data_dir = 5`},
			args:  []string{"-config-file=@a.hcl"},
			want:  []string{`key "data_dir": expected a string, got an integer`},
		},
		{
			name:  "list where a string goes",
			files: map[string]string{"a.hcl": `client_addr = ["127.0.0.1"]`},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "client_addr": expected a string, got a list`},
		},
		{
			name:  "object where a string goes",
			files: map[string]string{"a.hcl": "node_name { x = 1 }"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "node_name": expected a string, got an object`},
		},
		{
			name:  "object of objects where a port goes",
			files: map[string]string{"a.json": `{"ports": {"http": {"a": {"b": 1}}}}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{`key "ports.http": expected an integer, got an object`},
		},
		{
			name:  "json null",
			files: map[string]string{"a.json": `{"data_dir": null}`},
			args:  []string{"-config-file=@a.json"},
			want:  []string{`key "data_dir": expected a string, got null`},
		},
		{
			name:  "ports not an object",
			files: map[string]string{"a.hcl": `ports = 8500`},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "ports": expected an object, got an integer`},
		},
		{
			name:  "integer too large",
			files: map[string]string{"a.hcl": `bootstrap_expect = 99999999999999999999999`},
			args:  []string{"-server", "-data-dir=/d", "-config-file=@a.hcl"},
			want:  []string{`key "bootstrap_expect"`, "not an integer"},
		},
		{
			name:  "port out of range in a file",
			files: map[string]string{"a.hcl": "ports {\n  serf_lan = 70000\n}"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{"a.hcl", `key "ports.serf_lan": port 70000 is out of range 0..65535`},
		},
		{
			name:  "-1 disables only an ignored listener",
			files: map[string]string{"a.hcl": "ports {\n  http = -1\n}"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "ports.http": port -1 is out of range 0..65535`},
		},
		{
			name:  "ignored port still type-checked",
			files: map[string]string{"a.json": `{"ports": {"dns": "8600"}}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{`key "ports.dns": expected an integer, got a string`},
		},
		{
			name:  "string where a list goes",
			files: map[string]string{"a.hcl": `retry_join = "10.0.0.1"`},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "retry_join": expected a list of strings, got a string`},
		},
		{
			name:  "number in a list",
			files: map[string]string{"a.json": `{"start_join": ["a", 5]}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{`key "start_join": element 1: expected a string, got an integer`},
		},
		{
			name:  "bad duration",
			files: map[string]string{"a.hcl": `retry_interval = "soon"`},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "retry_interval": "soon" is not a duration`},
		},
		{
			name:  "number where a duration goes",
			files: map[string]string{"a.json": `{"retry_interval": 30}`},
			args:  []string{"-dev", "-config-file=@a.json"},
			want:  []string{`key "retry_interval": expected a duration string, got an integer`},
		},
		{
			name:  "duplicate key",
			files: map[string]string{"a.hcl": "data_dir = \"/a\"\ndata_dir = \"/b\"\n"},
			args:  []string{"-config-file=@a.hcl"},
			want:  []string{`key "data_dir" is set twice (first on line 1)`},
		},
		{
			name:  "duplicate port across two ports blocks",
			files: map[string]string{"a.hcl": "ports { http = 1 }\nports { http = 2 }\n"},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`key "ports.http" is set twice`},
		},
		{
			name:  "hcl syntax error",
			files: map[string]string{"a.hcl": "data_dir = \"/d\"\nports {\n"},
			args:  []string{"-config-file=@a.hcl"},
			want:  []string{"config: @/a.hcl: "},
		},
		{
			name:  "json syntax error",
			files: map[string]string{"a.json": "{\n  \"data_dir\": \n}"},
			args:  []string{"-config-file=@a.json"},
			want:  []string{"config: @/a.json: invalid JSON on line 3"},
		},
		{
			name:  "trailing comma in json",
			files: map[string]string{"a.json": `{"data_dir": "/d",}`},
			args:  []string{"-config-file=@a.json"},
			want:  []string{"config: @/a.json: invalid JSON"},
		},
		{
			name:  "hcl in a .json file",
			files: map[string]string{"a.json": `data_dir = "/d"`},
			args:  []string{"-config-file=@a.json"},
			want:  []string{"config: @/a.json: "},
		},

		// Validation.
		{name: "data dir required", args: []string{"-server"}, want: []string{"data_dir (-data-dir) is required unless -dev"}},
		{name: "uppercase datacenter", args: []string{"-dev", "-datacenter=DC1"}, want: []string{`datacenter (-datacenter) "DC1" is invalid`}},
		{name: "datacenter with a dot", args: []string{"-dev", "-datacenter=dc.1"}, want: []string{`"dc.1" is invalid`}},
		{name: "empty datacenter", args: []string{"-dev", "-datacenter="}, want: []string{`datacenter (-datacenter) "" is invalid`}},
		{
			name:  "invalid datacenter from a file",
			files: map[string]string{"a.hcl": `datacenter = "east 1"`},
			args:  []string{"-dev", "-config-file=@a.hcl"},
			want:  []string{`"east 1" is invalid`},
		},
		{name: "bad log level", args: []string{"-dev", "-log-level=verbose"}, want: []string{`log_level (-log-level) "verbose" is invalid`, "trace, debug, info, warn, error"}},
		{name: "http port too large", args: []string{"-dev", "-http-port=65536"}, want: []string{"ports.http (-http-port) 65536 is out of range 0..65535"}},
		{name: "negative server port", args: []string{"-dev", "-server-port=-1"}, want: []string{"ports.server (-server-port) -1 is out of range"}},
		{name: "serf wan port", args: []string{"-dev", "-serf-wan-port=100000"}, want: []string{"ports.serf_wan (-serf-wan-port)"}},
		{name: "bootstrap with bootstrap-expect", args: []string{"-server", "-data-dir=/d", "-bootstrap", "-bootstrap-expect=3"}, want: []string{"mutually exclusive"}},
		{
			name:  "bootstrap in one file, bootstrap_expect in another",
			files: map[string]string{"a.hcl": `bootstrap = true`, "b.json": `{"bootstrap_expect": 3}`},
			args:  []string{"-server", "-data-dir=/d", "-config-file=@a.hcl", "-config-file=@b.json"},
			want:  []string{"mutually exclusive"},
		},
		{name: "bootstrap-expect with dev", args: []string{"-dev", "-bootstrap-expect=3"}, want: []string{"cannot be used with -dev"}},
		{name: "negative bootstrap-expect", args: []string{"-server", "-data-dir=/d", "-bootstrap-expect=-1"}, want: []string{"must not be negative"}},
		{name: "bootstrap without server", args: []string{"-data-dir=/d", "-bootstrap"}, want: []string{"bootstrap (-bootstrap) requires server mode"}},
		{name: "bootstrap-expect without server", args: []string{"-data-dir=/d", "-bootstrap-expect=3"}, want: []string{"bootstrap_expect (-bootstrap-expect) requires server mode"}},
		{name: "advertise not an IP", args: []string{"-dev", "-advertise=host"}, want: []string{`advertise_addr (-advertise) "host"`}},
		{name: "advertise unspecified", args: []string{"-dev", "-advertise=0.0.0.0"}, want: []string{`advertise_addr (-advertise) "0.0.0.0"`}},
		{name: "zero retry interval", args: []string{"-dev", "-retry-interval=0s"}, want: []string{"retry_interval (-retry-interval) must be positive"}},
		{name: "negative retry max", args: []string{"-dev", "-retry-max=-1"}, want: []string{"retry_max (-retry-max) must not be negative"}},
		{name: "empty join", args: []string{"-dev", "-join="}, want: []string{"-join"}, usage: true},
		{name: "bind not an IP", args: []string{"-dev", "-bind=localhost"}, want: []string{`bind_addr (-bind) "localhost" is not an IP address`}},
		{name: "client not an IP", args: []string{"-dev", "-client={{ GetPrivateIP }}"}, want: []string{`client_addr (-client)`}},
		{name: "empty node name", args: []string{"-dev", "-node="}, want: []string{"node_name (-node) is required"}},
		{
			name: "every problem is reported at once",
			args: []string{"-datacenter=X", "-log-level=loud"},
			want: []string{"data_dir", "datacenter", "log_level"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			err := loadFails(t, dir, inDir(dir, tc.args), tc.want)
			if got := errors.Is(err, ErrUsage); got != tc.usage {
				t.Errorf("errors.Is(err, ErrUsage) = %v, want %v", got, tc.usage)
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q does not start with \"config: \"", err)
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	for _, arg := range []string{"-help", "-h", "--help"} {
		if _, err := Load([]string{arg}); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%s): err = %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestUsage(t *testing.T) {
	u := Usage()
	for _, f := range []string{
		"-server", "-bootstrap", "-bootstrap-expect", "-data-dir", "-node",
		"-datacenter", "-bind", "-client", "-http-port", "-server-port",
		"-serf-lan-port", "-serf-wan-port", "-config-file", "-config-dir",
		"-config-format", "-dev", "-log-level", "-advertise", "-join",
		"-retry-join", "-retry-interval", "-retry-max",
	} {
		if !strings.Contains(u, "  "+f+" ") && !strings.Contains(u, "  "+f+"\n") {
			t.Errorf("usage does not list %s:\n%s", f, u)
		}
	}
	if host, _ := os.Hostname(); host != "" && strings.Contains(u, host) {
		t.Errorf("usage shows this machine's hostname %q", host)
	}
}
