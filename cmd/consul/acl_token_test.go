package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// wantOut fails the test unless r succeeded and printed exactly want.
func wantOut(t *testing.T, r result, want string) {
	t.Helper()
	r.check(t, 0, nil, nil)
	if r.out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", r.out, want)
	}
}

// wantJSON fails the test unless r succeeded and printed v as JSON
// indented by four spaces; the output is decoded into v.
func wantJSON(t *testing.T, r result, v interface{}) {
	t.Helper()
	r.check(t, 0, nil, nil)
	if !strings.HasPrefix(r.out, "{\n    \"") && !strings.HasPrefix(r.out, "[\n    {\n        \"") && r.out != "[]\n" {
		t.Errorf("stdout is not JSON indented by four spaces:\n%s", r.out)
	}
	if err := json.Unmarshal([]byte(r.out), v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.out)
	}
}

// TestACLBootstrap runs against agents of its own: ACLs are bootstrapped
// once, and the shared agents have their initial management token.
func TestACLBootstrap(t *testing.T) {
	a := newTestAgent(t, aclUnbootstrapped)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL

	r := runCLI(t, "", "acl", "bootstrap", addr)
	req := f.last(t)
	if req.method != "PUT" || req.path != "/v1/acl/bootstrap" {
		t.Fatalf("request %s %s, want PUT /v1/acl/bootstrap", req.method, req.path)
	}
	boot := tokenOfSecret(t, a, r.out)
	wantOut(t, r, ""+
		"AccessorID:       "+boot.AccessorID+"\n"+
		"SecretID:         "+boot.SecretID+"\n"+
		"Description:      Bootstrap Token (Global Management)\n"+
		"Local:            false\n"+
		"Create Time:      "+fmt.Sprint(boot.CreateTime)+"\n"+
		"Policies:\n"+
		"   00000000-0000-0000-0000-000000000001 - global-management\n"+
		"\n")

	runCLI(t, "", "acl", "bootstrap", addr).check(t, 1, nil, []string{fmt.Sprintf(
		"Failed ACL bootstrapping: Unexpected response code: 403 (Permission denied: ACL bootstrap no longer allowed (reset index: %d))",
		boot.CreateIndex)})

	a = newTestAgent(t, aclUnbootstrapped)
	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "bootstrap", "-http-addr="+a.url, "-format=json"), &got)
	if got.SecretID == "" || len(got.Policies) != 1 || got.Policies[0].Name != "global-management" {
		t.Fatalf("JSON token %+v, want a secret and global-management", got)
	}
}

// tokenOfSecret returns the token whose SecretID out shows, as the agent
// holds it; it fails the test when the agent does not know that secret.
func tokenOfSecret(t *testing.T, a *testAgent, out string) *api.ACLToken {
	t.Helper()
	secret := ""
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(line, "SecretID:"); ok {
			secret = strings.TrimSpace(s)
		}
	}
	c, err := api.NewClient(&api.Config{Address: a.url, Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := c.ACL().TokenReadSelf(nil)
	if err != nil {
		t.Fatalf("the SecretID shown, %q: %v\n%s", secret, err, out)
	}
	return tok
}

func TestACLTokenCreate(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	kvRead := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read", Rules: `key_prefix "" { policy = "read" }`})
	svcWrite := a.addPolicy(t, &api.ACLPolicy{Name: "svc-write", Rules: `service_prefix "" { policy = "write" }`})
	ops := a.addRole(t, &api.ACLRole{Name: "ops", Policies: linksTo(kvRead)})
	dev := a.addRole(t, &api.ACLRole{Name: "dev", Policies: linksTo(svcWrite)})
	const (
		accessor = "aaaaaaaa-1111-4222-8333-444444444444"
		secret   = "bbbbbbbb-1111-4222-8333-444444444444"
	)

	r := runCLI(t, "", "acl", "token", "create", addr,
		"-description=app token", "-policy-name=kv-read", "-policy-id="+svcWrite.ID[:8],
		"-role-name=ops", "-role-id="+dev.ID, "-accessor="+accessor, "-secret="+secret, "-local")

	var sent api.ACLToken
	req := f.find(t, "PUT", "/v1/acl/token")
	req.decode(t, &sent)
	want := api.ACLToken{
		AccessorID: accessor, SecretID: secret, Description: "app token", Local: true,
		Policies: []*api.ACLLink{{Name: "kv-read"}, {ID: svcWrite.ID}},
		Roles:    []*api.ACLLink{{Name: "ops"}, {ID: dev.ID}},
	}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", req.body)
	}
	// The policy prefix was resolved through the policy list.
	f.find(t, "GET", "/v1/acl/policies")

	wantOut(t, r, ""+
		"AccessorID:       "+accessor+"\n"+
		"SecretID:         "+secret+"\n"+
		"Description:      app token\n"+
		"Local:            true\n"+
		"Create Time:      "+fmt.Sprint(a.readToken(t, accessor).CreateTime)+"\n"+
		"Policies:\n"+
		"   "+kvRead.ID+" - kv-read\n"+
		"   "+svcWrite.ID+" - svc-write\n"+
		"Roles:\n"+
		"   "+ops.ID+" - ops\n"+
		"   "+dev.ID+" - dev\n"+
		"\n")

	// The expiry and the identities are sent; the agent does not keep them
	// yet (see TestACLPrettyFields for how they are shown).
	runCLI(t, "", "acl", "token", "create", addr, "-policy-name=kv-read", "-expires-ttl=1h",
		"-service-identity=web:dc1,dc2", "-service-identity=db", "-node-identity=node-1:dc1").check(t, 0, nil, nil)
	sent = api.ACLToken{}
	f.last(t).decode(t, &sent)
	want = api.ACLToken{
		ExpirationTTL: time.Hour,
		Policies:      []*api.ACLLink{{Name: "kv-read"}},
		ServiceIdentities: []*api.ACLServiceIdentity{
			{ServiceName: "web", Datacenters: []string{"dc1", "dc2"}}, {ServiceName: "db"},
		},
		NodeIdentities: []*api.ACLNodeIdentity{{NodeName: "node-1", Datacenter: "dc1"}},
	}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	// Generated IDs, JSON, and only the fields given.
	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "token", "create", addr, "-policy-name=kv-read", "-format=json"), &got)
	if got.AccessorID == "" || got.SecretID == "" || len(got.Policies) != 1 || got.Policies[0].ID != kvRead.ID {
		t.Fatalf("created %+v", got)
	}
	fields := f.last(t).fields(t)
	for _, k := range []string{"Roles", "ServiceIdentities", "NodeIdentities", "ExpirationTTL"} {
		if _, ok := fields[k]; ok {
			t.Errorf("request sent %s without its flag: %s", k, f.last(t).body)
		}
	}

	// -meta.
	r = runCLI(t, "", "acl", "token", "create", addr, "-policy-name=kv-read", "-meta")
	tok := tokenOfSecret(t, a, r.out)
	r.check(t, 0, []string{
		"Name:             \nAccessorID:       " + tok.AccessorID + "\n",
		fmt.Sprintf("Hash:             %x\nCreate Index:     %d\nModify Index:     %d\n", tok.Hash, tok.CreateIndex, tok.ModifyIndex),
	}, nil)
}

func TestACLTokenCreateErrors(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	a.addPolicy(t, &api.ACLPolicy{Name: "a"})
	a.addPolicy(t, &api.ACLPolicy{Name: "b"})
	prefix := a.sharedPolicyPrefix(t)

	cases := []struct {
		name string
		args []string
		err  string
		// sent tells whether requests reach the server before the error.
		sent bool
	}{
		{"no links", []string{"-description=x"}, "Cannot create a token without specifying -policy-name, -policy-id, -role-name, -role-id, -service-identity, or -node-identity at least once", false},
		{"bad node identity", []string{"-node-identity=n1"}, `Malformed -node-identity argument: "n1"`, false},
		{"bad service identity", []string{"-service-identity=web:dc1:x"}, `Malformed -service-identity argument: "web:dc1:x"`, false},
		{"negative ttl", []string{"-policy-name=a", "-expires-ttl=-1h"}, "Invalid -expires-ttl", false},
		{"bad format", []string{"-policy-name=a", "-format=xml"}, "Unknown format: xml", false},
		{"extra argument", []string{"-policy-name=a", "extra"}, "Too many arguments (expected 0, got 1)", false},
		{"ambiguous policy prefix", []string{"-policy-id=" + prefix}, "Error resolving policy ID " + prefix + ": Partial policy ID is not unique", true},
		{"unknown policy prefix", []string{"-policy-id=zzz"}, "Error resolving policy ID zzz: No such policy ID with prefix: zzz", true},
		{"unknown role prefix", []string{"-role-id=zzz"}, "Error resolving role ID zzz: No such role ID with prefix: zzz", true},
		{"unknown policy name", []string{"-policy-name=nope"}, `Failed to create new token: Unexpected response code: 400 (No such ACL policy with ID "" or name "nope")`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.count()
			args := append([]string{"acl", "token", "create", addr}, tc.args...)
			r := runCLI(t, "", args...)
			r.check(t, 1, nil, []string{tc.err})
			if r.out != "" {
				t.Errorf("stdout: %s", r.out)
			}
			if sent := f.count() > before; sent != tc.sent {
				t.Errorf("requests sent: %v, want %v", sent, tc.sent)
			}
		})
	}
}

// sharedPolicyPrefix returns a prefix of more than one policy ID. The
// agent makes the IDs up, so it creates policies until two IDs start with
// the same hex digit: 16 at the most.
func (a *testAgent) sharedPolicyPrefix(t *testing.T) string {
	t.Helper()
	policies, _, err := a.client.ACL().PolicyList(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[byte]bool{}
	for _, p := range policies {
		if seen[p.ID[0]] {
			return p.ID[:1]
		}
		seen[p.ID[0]] = true
	}
	for i := 0; ; i++ {
		p := a.addPolicy(t, &api.ACLPolicy{Name: fmt.Sprintf("prefix-%d", i)})
		if seen[p.ID[0]] {
			return p.ID[:1]
		}
		seen[p.ID[0]] = true
	}
}

func TestACLTokenRead(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read"})
	tok := a.addToken(t, &api.ACLToken{Description: "reader", Policies: linksTo(p)})

	want := "" +
		"AccessorID:       " + tok.AccessorID + "\n" +
		"SecretID:         " + tok.SecretID + "\n" +
		"Description:      reader\n" +
		"Local:            false\n" +
		"Create Time:      " + fmt.Sprint(tok.CreateTime) + "\n" +
		"Policies:\n" +
		"   " + p.ID + " - kv-read\n" +
		"\n"
	wantOut(t, runCLI(t, "", "acl", "token", "read", addr, "-id="+tok.AccessorID), want)
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/token/"+tok.AccessorID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	// A whole ID is used as given, without listing the tokens.
	if n := f.count(); n != 1 {
		t.Errorf("%d requests for a whole ID, want 1", n)
	}

	// A unique prefix, resolved through the token list.
	wantOut(t, runCLI(t, "", "acl", "token", "read", addr, "-id", tok.AccessorID[:8]), want)
	f.find(t, "GET", "/v1/acl/tokens")

	// -self reads the token the request is made with.
	wantOut(t, runCLI(t, "", "acl", "token", "read", addr, "-self", "-token="+tok.SecretID), want)
	if req := f.last(t); req.path != "/v1/acl/token/self" || req.token != tok.SecretID {
		t.Fatalf("request %s with token %q, want /v1/acl/token/self with the secret", req.path, req.token)
	}

	// "anonymous" names the anonymous token.
	runCLI(t, "", "acl", "token", "read", addr, "-id=anonymous").
		check(t, 0, []string{"AccessorID:       00000000-0000-0000-0000-000000000002\n", "SecretID:         anonymous\n"}, nil)

	// -meta and -format=json.
	runCLI(t, "", "acl", "token", "read", addr, "-id="+tok.AccessorID, "-meta").check(t, 0, []string{
		"Name:             \nAccessorID:       " + tok.AccessorID + "\n",
		fmt.Sprintf("Create Time:      %v\nHash:             %x\nCreate Index:     %d\n", tok.CreateTime, tok.Hash, tok.CreateIndex),
	}, nil)
	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "token", "read", addr, "-id="+tok.AccessorID, "-format=json"), &got)
	if got.AccessorID != tok.AccessorID || got.SecretID != tok.SecretID || got.Policies[0].Name != "kv-read" {
		t.Fatalf("JSON token %+v", got)
	}

	// -stale and -datacenter reach the server.
	runCLI(t, "", "acl", "token", "read", addr, "-id="+tok.AccessorID, "-stale", "-datacenter=dc1").check(t, 0, nil, nil)
	if q := f.last(t).query; !q.Has("stale") || q.Get("dc") != "dc1" {
		t.Fatalf("query %v, want stale and dc=dc1", q)
	}

	// A second accessor ID starting as the anonymous token's.
	a.addToken(t, &api.ACLToken{AccessorID: "00000000-1111-4222-8333-444444444444",
		SecretID: "cccccccc-1111-4222-8333-444444444444", Policies: linksTo(p)})
	missing := "dddddddd-1111-4222-8333-444444444444"
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "Must specify the -id parameter"},
		{[]string{"-id=x", "-self"}, "Cannot use both -id and -self"},
		// As Consul's, the agent answers so for an accessor it does not know.
		{[]string{"-id=" + missing}, `Error reading token "` + missing + `": Unexpected response code: 403 (ACL not found)`},
		{[]string{"-id=zzz"}, "Error determining token ID: No such token ID with prefix: zzz"},
		{[]string{"-id=0000000"}, "Error determining token ID: Partial token ID is not unique"},
		{[]string{"-self", "-token=wrong"}, "Error reading token: Unexpected response code: 403 (ACL not found)"},
	} {
		args := append([]string{"acl", "token", "read", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

// TestACLTokenList lists the tokens in the order the agent gives them.
// An empty list, which an agent never gives (it holds the anonymous token
// at least), is printed as the other kinds' are: see TestACLRoleList.
func TestACLTokenList(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read"})
	tok := a.addToken(t, &api.ACLToken{Description: "reader", Policies: linksTo(p)})
	anon := a.readToken(t, aclAnonymousTokenID)
	root, _, err := a.client.ACL().TokenReadSelf(nil)
	if err != nil {
		t.Fatal(err)
	}

	entries := map[string]string{
		anon.AccessorID: "" +
			"AccessorID:       00000000-0000-0000-0000-000000000002\n" +
			"SecretID:         anonymous\n" +
			"Description:      Anonymous Token\n" +
			"Local:            false\n" +
			"Create Time:      " + fmt.Sprint(anon.CreateTime) + "\n" +
			"Legacy:           false\n",
		root.AccessorID: "" +
			"AccessorID:       " + root.AccessorID + "\n" +
			"SecretID:         " + rootSecret + "\n" +
			"Description:      Initial Management Token\n" +
			"Local:            false\n" +
			"Create Time:      " + fmt.Sprint(root.CreateTime) + "\n" +
			"Legacy:           false\n" +
			"Policies:\n" +
			"   00000000-0000-0000-0000-000000000001 - global-management\n",
		tok.AccessorID: "" +
			"AccessorID:       " + tok.AccessorID + "\n" +
			"SecretID:         " + tok.SecretID + "\n" +
			"Description:      reader\n" +
			"Local:            false\n" +
			"Create Time:      " + fmt.Sprint(tok.CreateTime) + "\n" +
			"Legacy:           false\n" +
			"Policies:\n" +
			"   " + p.ID + " - kv-read\n",
	}
	listed, _, err := a.client.ACL().TokenList(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range listed {
		ids = append(ids, e.AccessorID)
	}
	wantOut(t, runCLI(t, "", "acl", "token", "list", addr), inAgentOrder(t, entries, ids, "\n")+"\n")
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/tokens" {
		t.Fatalf("request %s %s", req.method, req.path)
	}

	runCLI(t, "", "acl", "token", "list", addr, "-meta").check(t, 0, []string{fmt.Sprintf(
		"Legacy:           false\nHash:             %x\nCreate Index:     %d\nModify Index:     %d\n",
		anon.Hash, anon.CreateIndex, anon.ModifyIndex)}, nil)

	var list []api.ACLTokenListEntry
	wantJSON(t, runCLI(t, "", "acl", "token", "list", addr, "-format=json"), &list)
	if len(list) != 3 || list[0].AccessorID != listed[0].AccessorID || list[2].AccessorID != listed[2].AccessorID {
		t.Fatalf("JSON list %+v", list)
	}
}

func TestACLTokenUpdate(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p1 := a.addPolicy(t, &api.ACLPolicy{Name: "p1"})
	p2 := a.addPolicy(t, &api.ACLPolicy{Name: "p2"})
	p3 := a.addPolicy(t, &api.ACLPolicy{Name: "p3"})
	r1 := a.addRole(t, &api.ACLRole{Name: "r1"})
	r2 := a.addRole(t, &api.ACLRole{Name: "r2"})
	tok := a.addToken(t, &api.ACLToken{Description: "old", Policies: linksTo(p1), Roles: []*api.ACLLink{{ID: r1.ID}}})
	id := "-id=" + tok.AccessorID

	// update runs the command and returns the token it sent.
	update := func(t *testing.T, args ...string) api.ACLToken {
		t.Helper()
		args = append([]string{"acl", "token", "update", addr}, args...)
		r := runCLI(t, "", args...)
		r.check(t, 0, []string{"AccessorID:       " + tok.AccessorID + "\n"}, nil)
		req := f.last(t)
		if req.method != "PUT" || req.path != "/v1/acl/token/"+tok.AccessorID {
			t.Fatalf("request %s %s", req.method, req.path)
		}
		var sent api.ACLToken
		req.decode(t, &sent)
		if sent.AccessorID != tok.AccessorID || sent.SecretID != tok.SecretID {
			t.Errorf("sent accessor %q secret %q, want the token's", sent.AccessorID, sent.SecretID)
		}
		return sent
	}
	names := func(links []*api.ACLLink) []string {
		var out []string
		for _, l := range links {
			out = append(out, l.ID+l.Name)
		}
		return out
	}

	// -policy-name replaces the policies; the rest is kept.
	sent := update(t, id, "-policy-name=p2")
	eqList(t, "policies", names(sent.Policies), []string{"p2"})
	eqList(t, "roles", names(sent.Roles), []string{r1.ID + "r1"})
	if sent.Description != "old" {
		t.Errorf("sent %s: description not kept", f.last(t).body)
	}

	// -description alone keeps the policies.
	sent = update(t, id, "-description=new")
	if sent.Description != "new" {
		t.Errorf("description %q", sent.Description)
	}
	eqList(t, "policies", names(sent.Policies), []string{p2.ID + "p2"})

	// -append-policy-name adds; -merge-policies makes -policy-id add.
	sent = update(t, id, "-append-policy-name=p3")
	eqList(t, "policies", names(sent.Policies), []string{p2.ID + "p2", "p3"})
	sent = update(t, id, "-merge-policies", "-policy-id="+p1.ID[:8], "-policy-name=p2")
	eqList(t, "policies", names(sent.Policies), []string{p2.ID + "p2", p3.ID + "p3", p1.ID})

	// Roles: replaced, then appended to.
	sent = update(t, id, "-role-id="+r2.ID)
	eqList(t, "roles", names(sent.Roles), []string{r2.ID})
	sent = update(t, id, "-append-role-name=r1")
	eqList(t, "roles", names(sent.Roles), []string{r2.ID + "r2", "r1"})
	sent = update(t, id, "-merge-roles", "-role-name=r1", "-role-name=r2")
	eqList(t, "roles", names(sent.Roles), []string{r2.ID + "r2", r1.ID + "r1"})

	// Identities are sent (and kept or replaced: see
	// TestACLTokenUpdateIdentities).
	sent = update(t, id, "-service-identity=db:dc1", "-node-identity=n1:dc1")
	if len(sent.ServiceIdentities) != 1 || sent.ServiceIdentities[0].ServiceName != "db" || len(sent.NodeIdentities) != 1 {
		t.Errorf("identities sent %s", f.last(t).body)
	}

	// A prefix and -format=json.
	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "token", "update", addr, "-id="+tok.AccessorID[:8], "-description=json", "-format=json"), &got)
	if got.Description != "json" {
		t.Fatalf("JSON token %+v", got)
	}

	// What the updates made of the token.
	held := a.readToken(t, tok.AccessorID)
	eqList(t, "held policies", names(held.Policies), []string{p2.ID + "p2", p3.ID + "p3", p1.ID + "p1"})
	eqList(t, "held roles", names(held.Roles), []string{r2.ID + "r2", r1.ID + "r1"})
	if held.SecretID != tok.SecretID || held.Description != "json" {
		t.Errorf("the agent holds %+v", held)
	}

	missing := "cccccccc-1111-4222-8333-444444444444"
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-description=x"}, "Cannot update a token without specifying the -id parameter"},
		{[]string{id, "-policy-name=p1", "-append-policy-name=p2"}, "Cannot combine the use of policy-id/policy-name flags with append- variants"},
		{[]string{id, "-role-id=x", "-append-role-id=y"}, "Cannot combine the use of role-id/role-name flags with append- variants"},
		{[]string{"-id=" + missing}, "Error when retrieving current token: Unexpected response code: 403 (ACL not found)"},
		{[]string{id, "-policy-name=nope"}, "Failed to update token " + tok.AccessorID + `: Unexpected response code: 400 (No such ACL policy with ID "" or name "nope")`},
		{[]string{id, "-policy-id=zzz"}, "Error resolving policy ID zzz: No such policy ID with prefix: zzz"},
	} {
		args := append([]string{"acl", "token", "update", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

// TestACLTokenUpdateIdentities: an update keeps the token's identities
// but those of a kind given, which replace them. The agent does not keep
// identities yet, so a stand-in holds the token.
func TestACLTokenUpdateIdentities(t *testing.T) {
	tok := &api.ACLToken{
		AccessorID: "aaaaaaaa-1111-4222-8333-444444444444", SecretID: "bbbbbbbb-1111-4222-8333-444444444444",
		Description:       "old",
		ServiceIdentities: []*api.ACLServiceIdentity{{ServiceName: "web"}},
		NodeIdentities:    []*api.ACLNodeIdentity{{NodeName: "n0", Datacenter: "dc1"}},
	}
	stub := aclObjectStub(t, "/v1/acl/token/"+tok.AccessorID, tok)
	update := func(args ...string) api.ACLToken {
		t.Helper()
		args = append([]string{"acl", "token", "update", "-http-addr=" + stub.URL, "-id=" + tok.AccessorID}, args...)
		runCLI(t, "", args...).check(t, 0, []string{"AccessorID:       " + tok.AccessorID + "\n"}, nil)
		var sent api.ACLToken
		if err := json.Unmarshal(stub.sent(), &sent); err != nil {
			t.Fatal(err)
		}
		return sent
	}

	sent := update("-description=new")
	if !reflect.DeepEqual(sent.ServiceIdentities, tok.ServiceIdentities) || !reflect.DeepEqual(sent.NodeIdentities, tok.NodeIdentities) {
		t.Errorf("identities not kept: sent %s", stub.sent())
	}
	sent = update("-service-identity=db:dc1")
	if want := []*api.ACLServiceIdentity{{ServiceName: "db", Datacenters: []string{"dc1"}}}; !reflect.DeepEqual(sent.ServiceIdentities, want) ||
		!reflect.DeepEqual(sent.NodeIdentities, tok.NodeIdentities) {
		t.Errorf("service identities not replaced alone: sent %s", stub.sent())
	}
	sent = update("-node-identity=n1:dc2")
	if want := []*api.ACLNodeIdentity{{NodeName: "n1", Datacenter: "dc2"}}; !reflect.DeepEqual(sent.NodeIdentities, want) ||
		!reflect.DeepEqual(sent.ServiceIdentities, tok.ServiceIdentities) {
		t.Errorf("node identities not replaced alone: sent %s", stub.sent())
	}
}

func eqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestACLTokenDelete(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	tok := a.addToken(t, &api.ACLToken{Description: "doomed"})

	wantOut(t, runCLI(t, "", "acl", "token", "delete", addr, "-id="+tok.AccessorID[:8]),
		`Token "`+tok.AccessorID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/token/"+tok.AccessorID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	if a.readToken(t, tok.AccessorID) != nil {
		t.Fatal("token survived its delete")
	}

	runCLI(t, "", "acl", "token", "delete", addr).check(t, 1, nil, []string{"Must specify the -id parameter"})
	// A token deleted already is deleted again, as in Consul.
	wantOut(t, runCLI(t, "", "acl", "token", "delete", addr, "-id="+tok.AccessorID),
		`Token "`+tok.AccessorID+`" deleted successfully`+"\n")
	runCLI(t, "", "acl", "token", "delete", addr, "-id=anonymous").check(t, 1, nil, []string{
		`Error deleting token "` + aclAnonymousTokenID + `": Unexpected response code: 400 (Delete operation not permitted on the anonymous token)`})
}

func TestACLTokenClone(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read"})
	tok := a.addToken(t, &api.ACLToken{Description: "original", Policies: linksTo(p)})

	r := runCLI(t, "", "acl", "token", "clone", addr, "-id="+tok.AccessorID[:8], "-description=copy")
	req := f.last(t)
	if req.method != "PUT" || req.path != "/v1/acl/token/"+tok.AccessorID+"/clone" {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	var body struct{ Description string }
	req.decode(t, &body)
	if body.Description != "copy" {
		t.Errorf("sent description %q", body.Description)
	}
	r.check(t, 0, []string{"Description:      copy\n", "Policies:\n   " + p.ID + " - kv-read\n"}, nil)
	if strings.Contains(r.out, tok.AccessorID) || strings.Contains(r.out, tok.SecretID) {
		t.Errorf("the clone shows the original's IDs:\n%s", r.out)
	}
	if clone := tokenOfSecret(t, a, r.out); clone.Description != "copy" || len(clone.Policies) != 1 || clone.Policies[0].ID != p.ID {
		t.Errorf("the agent holds the clone as %+v", clone)
	}

	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "token", "clone", addr, "-id="+tok.AccessorID, "-format=json"), &got)
	if got.Description != "original" || got.AccessorID == tok.AccessorID {
		t.Fatalf("JSON clone %+v", got)
	}

	runCLI(t, "", "acl", "token", "clone", addr).check(t, 1, nil, []string{"Cannot clone a token without specifying the -id parameter"})
	runCLI(t, "", "acl", "token", "clone", addr, "-id=cccccccc-1111-4222-8333-444444444444").
		check(t, 1, nil, []string{"Error cloning token: Unexpected response code: 403 (ACL not found)"})
}
