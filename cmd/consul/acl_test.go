package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
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
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "p"})
	role := a.addRole(t, &api.ACLRole{Name: "r", Policies: linksTo(p)})
	tok := a.addToken(t, &api.ACLToken{Description: "t", Policies: linksTo(p)})
	// A token the agent knows, with no rights on ACLs.
	weak := a.tokenWithRules(t, "kv-read", `key_prefix "" { policy = "read" }`)

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
			args := append(append([]string(nil), tc.args...), addr, "-token="+weak)
			r := runCLI(t, "", args...)
			r.check(t, 1, nil, []string{tc.err})
			if r.out != "" {
				t.Errorf("stdout: %s", r.out)
			}
			if req := f.last(t); req.token != weak {
				t.Errorf("agent saw token %q, want the -token flag's", req.token)
			}
		})
	}

	runCLI(t, "", "acl", "token", "list", addr, "-token="+rootSecret).check(t, 0, []string{tok.AccessorID}, nil)
	clearConsulEnv(t)
	t.Setenv("CONSUL_HTTP_ADDR", f.URL)
	t.Setenv("CONSUL_HTTP_TOKEN", rootSecret)
	runInEnv("", "acl", "policy", "list").check(t, 0, []string{"p:\n"}, nil)
	if req := f.last(t); req.token != rootSecret {
		t.Fatalf("agent saw token %q, want CONSUL_HTTP_TOKEN's", req.token)
	}
}

// TestACLPrettyFields checks how the fields that the agent does not keep
// yet are shown, which no test against it can: content hashes (-meta, in
// hex), token expiry, and service and node identities.
func TestACLPrettyFields(t *testing.T) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	expires := created.Add(time.Hour)
	hash := []byte("abcdefgh")
	token := &api.ACLToken{
		AccessorID: "aaaaaaaa-1111-4222-8333-444444444444", SecretID: "bbbbbbbb-1111-4222-8333-444444444444",
		Description: "app token", CreateTime: created, ExpirationTime: &expires,
		ServiceIdentities: []*api.ACLServiceIdentity{{ServiceName: "web", Datacenters: []string{"dc1", "dc2"}}, {ServiceName: "db"}},
		NodeIdentities:    []*api.ACLNodeIdentity{{NodeName: "node-1", Datacenter: "dc1"}},
		Hash:              hash, CreateIndex: 3, ModifyIndex: 4,
	}
	role := &api.ACLRole{ID: "cccccccc-1111-4222-8333-444444444444", Name: "ops",
		ServiceIdentities: []*api.ACLServiceIdentity{{ServiceName: "web"}},
		NodeIdentities:    []*api.ACLNodeIdentity{{NodeName: "n1", Datacenter: "dc1"}},
		Hash:              hash, CreateIndex: 3, ModifyIndex: 4}

	for _, tc := range []struct {
		name, got, want string
	}{
		{"token -meta", prettyToken(token, true), "" +
			"Name:             \n" +
			"AccessorID:       aaaaaaaa-1111-4222-8333-444444444444\n" +
			"SecretID:         bbbbbbbb-1111-4222-8333-444444444444\n" +
			"Description:      app token\n" +
			"Local:            false\n" +
			"Create Time:      2024-05-06 07:08:09 +0000 UTC\n" +
			"Expiration Time:  2024-05-06 08:08:09 +0000 UTC\n" +
			"Hash:             6162636465666768\n" +
			"Create Index:     3\n" +
			"Modify Index:     4\n" +
			"Service Identities:\n" +
			"   web (Datacenters: dc1, dc2)\n" +
			"   db (Datacenters: all)\n" +
			"Node Identities:\n" +
			"   node-1 (Datacenter: dc1)\n"},
		{"token list -meta", prettyTokenList([]*api.ACLTokenListEntry{{AccessorID: "a", CreateTime: created, Hash: hash, CreateIndex: 3, ModifyIndex: 4}}, true), "" +
			"AccessorID:       a\n" +
			"SecretID:         \n" +
			"Description:      \n" +
			"Local:            false\n" +
			"Create Time:      2024-05-06 07:08:09 +0000 UTC\n" +
			"Legacy:           false\n" +
			"Hash:             6162636465666768\n" +
			"Create Index:     3\n" +
			"Modify Index:     4\n"},
		{"policy -meta", prettyPolicy(&api.ACLPolicy{ID: "p", Name: "kv-read", Hash: hash, CreateIndex: 3, ModifyIndex: 4}, true), "" +
			"ID:           p\n" +
			"Name:         kv-read\n" +
			"Description:  \n" +
			"Datacenters:  \n" +
			"Hash:         6162636465666768\n" +
			"Create Index: 3\n" +
			"Modify Index: 4\n" +
			"Rules:\n"},
		{"policy list -meta", prettyPolicyList([]*api.ACLPolicyListEntry{{ID: "p", Name: "kv-read", Hash: hash, CreateIndex: 3, ModifyIndex: 4}}, true), "" +
			"kv-read:\n" +
			"   ID:           p\n" +
			"   Description:  \n" +
			"   Datacenters:  \n" +
			"   Hash:         6162636465666768\n" +
			"   Create Index: 3\n" +
			"   Modify Index: 4\n"},
		{"role -meta", prettyRole(role, true), "" +
			"ID:           cccccccc-1111-4222-8333-444444444444\n" +
			"Name:         ops\n" +
			"Description:  \n" +
			"Hash:         6162636465666768\n" +
			"Create Index: 3\n" +
			"Modify Index: 4\n" +
			"Service Identities:\n" +
			"   web (Datacenters: all)\n" +
			"Node Identities:\n" +
			"   n1 (Datacenter: dc1)\n"},
		{"role list", prettyRoleList([]*api.ACLRole{role}, false), "" +
			"ops:\n" +
			"   ID:           cccccccc-1111-4222-8333-444444444444\n" +
			"   Description:  \n" +
			"   Service Identities:\n" +
			"      web (Datacenters: all)\n" +
			"   Node Identities:\n" +
			"      n1 (Datacenter: dc1)\n"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, tc.got, tc.want)
		}
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

// addPolicy creates p and returns it as the agent holds it.
func (a *testAgent) addPolicy(t *testing.T, p *api.ACLPolicy) *api.ACLPolicy {
	t.Helper()
	return created(t, a.client.ACL().PolicyCreate, p)
}

// addRole creates r and returns it as the agent holds it.
func (a *testAgent) addRole(t *testing.T, r *api.ACLRole) *api.ACLRole {
	t.Helper()
	return created(t, a.client.ACL().RoleCreate, r)
}

// addToken creates tok and returns it as the agent holds it.
func (a *testAgent) addToken(t *testing.T, tok *api.ACLToken) *api.ACLToken {
	t.Helper()
	return created(t, a.client.ACL().TokenCreate, tok)
}

// created returns what create, an API call, made of obj, failing the
// test on an error.
func created[T any](t *testing.T, create func(T, *api.WriteOptions) (T, *api.WriteMeta, error), obj T) T {
	t.Helper()
	out, _, err := create(obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readToken returns the token with the accessor ID as the agent holds
// it, or nil when it holds none.
func (a *testAgent) readToken(t *testing.T, accessor string) *api.ACLToken {
	t.Helper()
	list, _, err := a.client.ACL().TokenList(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if e.AccessorID == accessor {
			tok, _, err := a.client.ACL().TokenRead(accessor, nil)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	return nil
}

// inAgentOrder joins the expected entries of a listing, by ID, with sep
// between them, in the order of ids: the agent's, which the CLI keeps.
// It fails the test unless the agent lists exactly the IDs of entries.
func inAgentOrder(t *testing.T, entries map[string]string, ids []string, sep string) string {
	t.Helper()
	var out []string
	for _, id := range ids {
		e, ok := entries[id]
		if !ok {
			t.Fatalf("the agent lists %s, which the test did not expect", id)
		}
		out = append(out, e)
	}
	if len(out) != len(entries) {
		t.Fatalf("the agent lists %d entries, want %d", len(out), len(entries))
	}
	return strings.Join(out, sep)
}

// linksTo links to the policies by ID.
func linksTo(policies ...*api.ACLPolicy) []*api.ACLLink {
	var links []*api.ACLLink
	for _, p := range policies {
		links = append(links, &api.ACLLink{ID: p.ID})
	}
	return links
}
