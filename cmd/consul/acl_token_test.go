package main

import (
	"encoding/json"
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

func TestACLBootstrap(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL

	r := runCLI(t, "", "acl", "bootstrap", addr)
	req := f.last(t)
	if req.method != "PUT" || req.path != "/v1/acl/bootstrap" {
		t.Fatalf("request %s %s, want PUT /v1/acl/bootstrap", req.method, req.path)
	}
	var boot api.ACLToken
	f.mu.Lock()
	for _, tok := range f.tokens {
		if tok.Description == "Bootstrap Token (Global Management)" {
			boot = *tok
		}
	}
	f.mu.Unlock()
	wantOut(t, r, ""+
		"AccessorID:       "+boot.AccessorID+"\n"+
		"SecretID:         "+boot.SecretID+"\n"+
		"Description:      Bootstrap Token (Global Management)\n"+
		"Local:            false\n"+
		"Create Time:      2024-05-06 07:08:09 +0000 UTC\n"+
		"Policies:\n"+
		"   00000000-0000-0000-0000-000000000001 - global-management\n"+
		"\n")

	runCLI(t, "", "acl", "bootstrap", addr).check(t, 1, nil, []string{
		"Failed ACL bootstrapping: Unexpected response code: 403 (ACL bootstrap no longer allowed (reset index: 1))",
	})

	f = newFakeACL(t)
	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "bootstrap", "-http-addr="+f.URL, "-format=json"), &got)
	if got.SecretID == "" || len(got.Policies) != 1 || got.Policies[0].Name != "global-management" {
		t.Fatalf("JSON token %+v, want a secret and global-management", got)
	}
}

func TestACLTokenCreate(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	kvRead := f.addPolicy("kv-read", `key_prefix "" { policy = "read" }`)
	svcWrite := f.addPolicy("svc-write", `service_prefix "" { policy = "write" }`)
	ops := f.addRole("ops", kvRead)
	dev := f.addRole("dev", svcWrite)
	const (
		accessor = "aaaaaaaa-1111-4222-8333-444444444444"
		secret   = "bbbbbbbb-1111-4222-8333-444444444444"
	)

	r := runCLI(t, "", "acl", "token", "create", addr,
		"-description=app token", "-policy-name=kv-read", "-policy-id="+svcWrite.ID[:8],
		"-role-name=ops", "-role-id="+dev.ID, "-accessor="+accessor, "-secret="+secret,
		"-local", "-expires-ttl=1h", "-service-identity=web:dc1,dc2", "-service-identity=db",
		"-node-identity=node-1:dc1")

	var sent api.ACLToken
	req := f.find(t, "PUT", "/v1/acl/token")
	req.decode(t, &sent)
	want := api.ACLToken{
		AccessorID: accessor, SecretID: secret, Description: "app token", Local: true,
		ExpirationTTL: time.Hour,
		Policies:      []*api.ACLLink{{Name: "kv-read"}, {ID: svcWrite.ID}},
		Roles:         []*api.ACLLink{{Name: "ops"}, {ID: dev.ID}},
		ServiceIdentities: []*api.ACLServiceIdentity{
			{ServiceName: "web", Datacenters: []string{"dc1", "dc2"}}, {ServiceName: "db"},
		},
		NodeIdentities: []*api.ACLNodeIdentity{{NodeName: "node-1", Datacenter: "dc1"}},
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
		"Create Time:      2024-05-06 07:08:09 +0000 UTC\n"+
		"Expiration Time:  2024-05-06 08:08:09 +0000 UTC\n"+
		"Policies:\n"+
		"   "+kvRead.ID+" - kv-read\n"+
		"   "+svcWrite.ID+" - svc-write\n"+
		"Roles:\n"+
		"   "+ops.ID+" - ops\n"+
		"   "+dev.ID+" - dev\n"+
		"Service Identities:\n"+
		"   web (Datacenters: dc1, dc2)\n"+
		"   db (Datacenters: all)\n"+
		"Node Identities:\n"+
		"   node-1 (Datacenter: dc1)\n"+
		"\n")

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
	r.check(t, 0, []string{"Name:             \nAccessorID:", "Hash:             6162636465666768\nCreate Index:     "}, nil)
}

func TestACLTokenCreateErrors(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	f.addPolicy("a", "")
	f.addPolicy("b", "")

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
		{"ambiguous policy prefix", []string{"-policy-id=0000000"}, "Error resolving policy ID 0000000: Partial policy ID is not unique", true},
		{"unknown policy prefix", []string{"-policy-id=zzz"}, "Error resolving policy ID zzz: No such policy ID with prefix: zzz", true},
		{"unknown role prefix", []string{"-role-id=zzz"}, "Error resolving role ID zzz: No such role ID with prefix: zzz", true},
		{"unknown policy name", []string{"-policy-name=nope"}, "Failed to create new token: Unexpected response code: 400 (cannot find policy nope)", true},
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

func TestACLTokenRead(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "")
	tok := f.addToken("reader", p)

	want := "" +
		"AccessorID:       " + tok.AccessorID + "\n" +
		"SecretID:         " + tok.SecretID + "\n" +
		"Description:      reader\n" +
		"Local:            false\n" +
		"Create Time:      2024-05-06 07:08:09 +0000 UTC\n" +
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
		"Create Time:      2024-05-06 07:08:09 +0000 UTC\nHash:             6162636465666768\nCreate Index:     ",
	}, nil)
	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "token", "read", addr, "-id="+tok.AccessorID, "-format=json"), &got)
	if got.AccessorID != tok.AccessorID || got.SecretID != tok.SecretID || got.Policies[0].Name != "kv-read" {
		t.Fatalf("JSON token %+v", got)
	}

	// -stale and -datacenter reach the server.
	runCLI(t, "", "acl", "token", "read", addr, "-id="+tok.AccessorID, "-stale", "-datacenter=dc2").check(t, 0, nil, nil)
	if q := f.last(t).query; !q.Has("stale") || q.Get("dc") != "dc2" {
		t.Fatalf("query %v, want stale and dc=dc2", q)
	}

	missing := "cccccccc-1111-4222-8333-444444444444"
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "Must specify the -id parameter"},
		{[]string{"-id=x", "-self"}, "Cannot use both -id and -self"},
		{[]string{"-id=" + missing}, `Error reading token "` + missing + `": Unexpected response code: 404 (token not found)`},
		{[]string{"-id=zzz"}, "Error determining token ID: No such token ID with prefix: zzz"},
		{[]string{"-id=0000000"}, "Error determining token ID: Partial token ID is not unique"},
		{[]string{"-self", "-token=wrong"}, "Error reading token: Unexpected response code: 403 (ACL not found)"},
	} {
		args := append([]string{"acl", "token", "read", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

func TestACLTokenList(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "")
	tok := f.addToken("reader", p)

	wantOut(t, runCLI(t, "", "acl", "token", "list", addr), ""+
		"AccessorID:       00000000-0000-0000-0000-000000000002\n"+
		"SecretID:         anonymous\n"+
		"Description:      Anonymous Token\n"+
		"Local:            false\n"+
		"Create Time:      2024-05-06 07:08:09 +0000 UTC\n"+
		"Legacy:           false\n"+
		"\n"+
		"AccessorID:       "+tok.AccessorID+"\n"+
		"SecretID:         "+tok.SecretID+"\n"+
		"Description:      reader\n"+
		"Local:            false\n"+
		"Create Time:      2024-05-06 07:08:09 +0000 UTC\n"+
		"Legacy:           false\n"+
		"Policies:\n"+
		"   "+p.ID+" - kv-read\n"+
		"\n")
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/tokens" {
		t.Fatalf("request %s %s", req.method, req.path)
	}

	runCLI(t, "", "acl", "token", "list", addr, "-meta").
		check(t, 0, []string{"Legacy:           false\nHash:             6162636465666768\nCreate Index:     2\nModify Index:     2\n"}, nil)

	var list []api.ACLTokenListEntry
	wantJSON(t, runCLI(t, "", "acl", "token", "list", addr, "-format=json"), &list)
	if len(list) != 2 || list[1].AccessorID != tok.AccessorID {
		t.Fatalf("JSON list %+v", list)
	}

	// No tokens at all: nothing printed, or an empty JSON list.
	f.mu.Lock()
	f.tokens = map[string]*api.ACLToken{}
	f.mu.Unlock()
	wantOut(t, runCLI(t, "", "acl", "token", "list", addr), "")
	wantOut(t, runCLI(t, "", "acl", "token", "list", addr, "-format=json"), "[]\n")
}

func TestACLTokenUpdate(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p1 := f.addPolicy("p1", "")
	p2 := f.addPolicy("p2", "")
	p3 := f.addPolicy("p3", "")
	r1 := f.addRole("r1")
	r2 := f.addRole("r2")
	tok := f.addToken("old", p1)
	f.mu.Lock()
	tok.Roles = []*api.ACLLink{{ID: r1.ID, Name: "r1"}}
	tok.ServiceIdentities = []*api.ACLServiceIdentity{{ServiceName: "web"}}
	f.mu.Unlock()
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
	if sent.Description != "old" || len(sent.ServiceIdentities) != 1 {
		t.Errorf("sent %s: description or identities not kept", f.last(t).body)
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

	// Identities given replace those of their kind.
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

	missing := "cccccccc-1111-4222-8333-444444444444"
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-description=x"}, "Cannot update a token without specifying the -id parameter"},
		{[]string{id, "-policy-name=p1", "-append-policy-name=p2"}, "Cannot combine the use of policy-id/policy-name flags with append- variants"},
		{[]string{id, "-role-id=x", "-append-role-id=y"}, "Cannot combine the use of role-id/role-name flags with append- variants"},
		{[]string{"-id=" + missing}, "Error when retrieving current token: Unexpected response code: 404 (token not found)"},
		{[]string{id, "-policy-name=nope"}, "Failed to update token " + tok.AccessorID + ": Unexpected response code: 400 (cannot find policy nope)"},
		{[]string{id, "-policy-id=zzz"}, "Error resolving policy ID zzz: No such policy ID with prefix: zzz"},
	} {
		args := append([]string{"acl", "token", "update", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

func eqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestACLTokenDelete(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	tok := f.addToken("doomed")

	wantOut(t, runCLI(t, "", "acl", "token", "delete", addr, "-id="+tok.AccessorID[:8]),
		`Token "`+tok.AccessorID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/token/"+tok.AccessorID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	if f.token(tok.AccessorID) != nil {
		t.Fatal("token survived its delete")
	}

	runCLI(t, "", "acl", "token", "delete", addr).check(t, 1, nil, []string{"Must specify the -id parameter"})
	runCLI(t, "", "acl", "token", "delete", addr, "-id="+tok.AccessorID).
		check(t, 1, nil, []string{`Error deleting token "` + tok.AccessorID + `": Unexpected response code: 404`})
}

func TestACLTokenClone(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "")
	tok := f.addToken("original", p)

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

	var got api.ACLToken
	wantJSON(t, runCLI(t, "", "acl", "token", "clone", addr, "-id="+tok.AccessorID, "-format=json"), &got)
	if got.Description != "original" || got.AccessorID == tok.AccessorID {
		t.Fatalf("JSON clone %+v", got)
	}

	runCLI(t, "", "acl", "token", "clone", addr).check(t, 1, nil, []string{"Cannot clone a token without specifying the -id parameter"})
	runCLI(t, "", "acl", "token", "clone", addr, "-id=cccccccc-1111-4222-8333-444444444444").
		check(t, 1, nil, []string{"Error cloning token: Unexpected response code: 404 (token not found)"})
}
