package main

import (
	"strings"
	"testing"
)

// aclCommands are the acl commands with the flags their usage must list.
var aclCommands = []struct {
	cmd   []string
	flags []string
}{
	{[]string{"acl", "bootstrap"}, []string{"-format"}},
	{[]string{"acl", "token", "create"}, []string{"-description", "-policy-id", "-policy-name", "-role-id", "-role-name", "-secret", "-accessor", "-local", "-expires-ttl", "-service-identity", "-node-identity", "-format", "-meta"}},
	{[]string{"acl", "token", "read"}, []string{"-id", "-self", "-format", "-meta", "-stale"}},
	{[]string{"acl", "token", "list"}, []string{"-format", "-meta", "-stale"}},
	{[]string{"acl", "token", "update"}, []string{"-id", "-description", "-policy-id", "-policy-name", "-role-id", "-role-name", "-append-policy-id", "-append-policy-name", "-append-role-id", "-append-role-name", "-merge-policies", "-merge-roles", "-format", "-meta"}},
	{[]string{"acl", "token", "delete"}, []string{"-id"}},
	{[]string{"acl", "token", "clone"}, []string{"-id", "-description", "-format"}},
	{[]string{"acl", "policy", "create"}, []string{"-name", "-description", "-rules", "-valid-datacenter", "-format", "-meta"}},
	{[]string{"acl", "policy", "read"}, []string{"-id", "-name", "-format", "-meta", "-stale"}},
	{[]string{"acl", "policy", "list"}, []string{"-format", "-meta", "-stale"}},
	{[]string{"acl", "policy", "update"}, []string{"-id", "-name", "-description", "-rules", "-valid-datacenter", "-no-merge", "-format", "-meta"}},
	{[]string{"acl", "policy", "delete"}, []string{"-id", "-name"}},
	{[]string{"acl", "role", "create"}, []string{"-name", "-description", "-policy-id", "-policy-name", "-service-identity", "-node-identity", "-format", "-meta"}},
	{[]string{"acl", "role", "read"}, []string{"-id", "-name", "-format", "-meta", "-stale"}},
	{[]string{"acl", "role", "list"}, []string{"-format", "-meta", "-stale"}},
	{[]string{"acl", "role", "update"}, []string{"-id", "-name", "-description", "-policy-id", "-policy-name", "-no-merge", "-format", "-meta"}},
	{[]string{"acl", "role", "delete"}, []string{"-id", "-name"}},
}

// TestACLHelpAndBadFlags: -help prints the usage on stdout and exits 0; an
// unknown flag prints the error and usage on stderr and exits 1. Every
// command takes the HTTP flags.
func TestACLHelpAndBadFlags(t *testing.T) {
	for _, tc := range aclCommands {
		name := strings.Join(tc.cmd, " ")
		t.Run(name, func(t *testing.T) {
			usage := "Usage: consul " + name
			want := append([]string{usage, "-http-addr", "-token", "-datacenter"}, tc.flags...)
			r := runCLI(t, "", append(tc.cmd, "-help")...)
			r.check(t, 0, want, nil)
			if r.err != "" {
				t.Errorf("-help wrote to stderr: %s", r.err)
			}
			r = runCLI(t, "", append(tc.cmd, "-no-such-flag")...)
			r.check(t, 1, nil, []string{"flag provided but not defined: -no-such-flag", usage})
			if r.out != "" {
				t.Errorf("a bad flag wrote to stdout: %s", r.out)
			}
		})
	}
}

func TestACLDispatch(t *testing.T) {
	cases := []struct {
		name           string
		args           []string
		code           int
		outHas, errHas []string
	}{
		{name: "listed at the top", args: []string{"-help"}, outHas: []string{"    acl ", "Interact with Consul's ACLs"}},
		{name: "acl -help", args: []string{"acl", "-help"}, outHas: []string{"Usage: consul acl <subcommand>", "bootstrap", "policy", "role", "token"}},
		{name: "acl alone", args: []string{"acl"}, code: 1, errHas: []string{"Usage: consul acl", "Subcommands:"}},
		{name: "acl token alone", args: []string{"acl", "token"}, code: 1, errHas: []string{"clone", "create", "delete", "list", "read", "update"}},
		{name: "acl policy -help", args: []string{"acl", "policy", "-help"}, outHas: []string{"Usage: consul acl policy", "create", "delete", "list", "read", "update"}},
		{name: "acl role -help", args: []string{"acl", "role", "-help"}, outHas: []string{"Usage: consul acl role", "create", "delete", "list", "read", "update"}},
		{name: "unknown acl subcommand", args: []string{"acl", "frob"}, code: 1, errHas: []string{`Unknown command: "acl frob"`}},
		{name: "unknown token subcommand", args: []string{"acl", "token", "frob"}, code: 1, errHas: []string{`Unknown command: "acl token frob"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runCLI(t, "", tc.args...).check(t, tc.code, tc.outHas, tc.errHas)
		})
	}
}

// TestACLPermissionDenied: a token the servers refuse makes every command
// fail with the servers' 403 and print nothing on stdout; the accepted
// token, from -token or CONSUL_HTTP_TOKEN, reaches the server.
func TestACLPermissionDenied(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("p", "")
	role := f.addRole("r", p)
	tok := f.addToken("t", p)
	f.mu.Lock()
	f.required = "root"
	f.mu.Unlock()

	const denied = "Unexpected response code: 403 (Permission denied)"
	cases := []struct {
		args []string
		err  string
	}{
		{[]string{"acl", "token", "create", "-policy-name=p"}, "Failed to create new token: " + denied},
		{[]string{"acl", "token", "read", "-id=" + tok.AccessorID}, `Error reading token "` + tok.AccessorID + `": ` + denied},
		{[]string{"acl", "token", "read", "-id=" + tok.AccessorID[:8]}, "Error determining token ID: " + denied},
		{[]string{"acl", "token", "list"}, "Failed to retrieve the token list: " + denied},
		{[]string{"acl", "token", "update", "-id=" + tok.AccessorID, "-description=x"}, "Error when retrieving current token: " + denied},
		{[]string{"acl", "token", "delete", "-id=" + tok.AccessorID}, `Error deleting token "` + tok.AccessorID + `": ` + denied},
		{[]string{"acl", "token", "clone", "-id=" + tok.AccessorID}, "Error cloning token: " + denied},
		{[]string{"acl", "policy", "create", "-name=x"}, "Failed to create new policy: " + denied},
		{[]string{"acl", "policy", "read", "-id=" + p.ID}, `Error reading policy "id:` + p.ID + `": ` + denied},
		{[]string{"acl", "policy", "read", "-name=p"}, `Error reading policy "name:p": ` + denied},
		{[]string{"acl", "policy", "list"}, "Failed to retrieve the policy list: " + denied},
		{[]string{"acl", "policy", "update", "-id=" + p.ID, "-description=x"}, `Error reading policy "` + p.ID + `": ` + denied},
		// The api client closes this response before reading its message.
		{[]string{"acl", "policy", "delete", "-id=" + p.ID}, `Error deleting policy "` + p.ID + `": Unexpected response code: 403`},
		{[]string{"acl", "role", "create", "-name=x", "-policy-name=p"}, "Failed to create new role: " + denied},
		{[]string{"acl", "role", "read", "-id=" + role.ID}, `Error reading role "` + role.ID + `": ` + denied},
		{[]string{"acl", "role", "list"}, "Failed to retrieve the role list: " + denied},
		{[]string{"acl", "role", "update", "-id=" + role.ID, "-description=x"}, "Error when retrieving current role: " + denied},
		{[]string{"acl", "role", "delete", "-name=r"}, "Error determining role ID: Failed to find role with name r: " + denied},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[:3], " "), func(t *testing.T) {
			args := append(append([]string(nil), tc.args...), addr, "-token=wrong")
			r := runCLI(t, "", args...)
			r.check(t, 1, nil, []string{tc.err})
			if r.out != "" {
				t.Errorf("stdout: %s", r.out)
			}
			if req := f.last(t); req.token != "wrong" {
				t.Errorf("server saw token %q, want the -token flag's", req.token)
			}
		})
	}

	runCLI(t, "", "acl", "token", "list", addr, "-token=root").check(t, 0, []string{tok.AccessorID}, nil)
	clearConsulEnv(t)
	t.Setenv("CONSUL_HTTP_ADDR", f.URL)
	t.Setenv("CONSUL_HTTP_TOKEN", "root")
	runInEnv("", "acl", "policy", "list").check(t, 0, []string{"p:\n"}, nil)
	if req := f.last(t); req.token != "root" {
		t.Fatalf("server saw token %q, want CONSUL_HTTP_TOKEN's", req.token)
	}
}

// TestACLUnreachableAgent: a command that cannot reach the agent says so
// and fails.
func TestACLUnreachableAgent(t *testing.T) {
	nowhere := "-http-addr=127.0.0.1:1"
	for _, args := range [][]string{
		{"acl", "bootstrap", nowhere},
		{"acl", "token", "list", nowhere},
		{"acl", "policy", "create", nowhere, "-name=x"},
		{"acl", "role", "read", nowhere, "-name=x"},
	} {
		runCLI(t, "", args...).check(t, 1, nil, []string{"connection refused"})
	}
}
