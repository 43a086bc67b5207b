package main

import (
	"flag"

	"github.com/hashicorp/consul/api"
)

// httpFlags are the flags of every command that talks to an agent's HTTP
// API, named as Consul's CLI names them.
type httpFlags struct {
	addr       string
	token      string
	datacenter string
	stale      bool
}

// register adds the flags to fs; -stale only for commands that read.
func (h *httpFlags) register(fs *flag.FlagSet, reads bool) {
	fs.StringVar(&h.addr, "http-addr", "",
		"The `address` of the agent's HTTP API, with an optional scheme: 127.0.0.1:8500,\n"+
			"http://10.0.0.1:8500. Overrides CONSUL_HTTP_ADDR; 127.0.0.1:8500 when neither is set.")
	fs.StringVar(&h.token, "token", "",
		"ACL `token` (its secret) for the request. Overrides CONSUL_HTTP_TOKEN.")
	fs.StringVar(&h.datacenter, "datacenter", "",
		"The `datacenter` to send the request to; the agent's own by default.")
	if reads {
		fs.BoolVar(&h.stale, "stale", false,
			"Let any server answer, not only the leader: faster, and possible with no\n"+
				"leader, but the data may be out of date.")
	}
}

// client builds an API client from the flags over the environment that
// api.DefaultConfig reads (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN and the
// other CONSUL_* variables of Consul's CLI).
// It reports a failure to the user and returns false.
func (h *httpFlags) client(u *ui) (*api.Client, bool) {
	cfg := api.DefaultConfig()
	if h.addr != "" {
		cfg.Address = h.addr
	}
	if h.token != "" {
		cfg.Token = h.token
	}
	if h.datacenter != "" {
		cfg.Datacenter = h.datacenter
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		u.error("Error connecting to Consul agent: %v", err)
		return nil, false
	}
	return c, true
}

// queryOptions are the options of a read.
func (h *httpFlags) queryOptions() *api.QueryOptions {
	return &api.QueryOptions{AllowStale: h.stale}
}

// httpCommand is the start that every command talking to an agent shares:
// a flag set holding the HTTP flags beside the command's own, and the help
// text its usage prints.
type httpCommand struct {
	fs   *flag.FlagSet
	http httpFlags
	help string
}

// newHTTPCommand returns the start of the command called name ("kv get"),
// with the HTTP flags registered; -stale only when the command reads. The
// command adds its own flags to fs before parse.
func newHTTPCommand(name, help string, reads bool) *httpCommand {
	c := &httpCommand{fs: newFlagSet(name), help: help}
	c.http.register(c.fs, reads)
	return c
}

// parse parses args as parseFlags does: done after -help or a bad flag,
// with the exit code to return.
func (c *httpCommand) parse(u *ui, args []string) (code int, done bool) {
	return parseFlags(u, c.fs, c.help, args)
}

// client builds the API client from the HTTP flags, as httpFlags.client.
func (c *httpCommand) client(u *ui) (*api.Client, bool) {
	return c.http.client(u)
}

// start is the whole prologue of a command that takes no arguments:
// parse, refuse positional arguments, build the client. When it reports
// false, the command ends with the exit code it returns.
func (c *httpCommand) start(u *ui, args []string) (*api.Client, int, bool) {
	if code, done := c.parse(u, args); done {
		return nil, code, false
	}
	if !noArgs(u, c.fs.Args()) {
		return nil, 1, false
	}
	client, ok := c.client(u)
	if !ok {
		return nil, 1, false
	}
	return client, 0, true
}
