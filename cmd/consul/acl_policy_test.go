package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestACLPolicyCreate(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	const rules = `key_prefix "" { policy = "read" }`

	r := runCLI(t, "", "acl", "policy", "create", addr, "-name=kv-read", "-description=Read all keys",
		"-valid-datacenter=dc1", "-valid-datacenter=dc2", "-rules="+rules)
	req := f.last(t)
	if req.method != "PUT" || req.path != "/v1/acl/policy" {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	var sent api.ACLPolicy
	req.decode(t, &sent)
	want := api.ACLPolicy{Name: "kv-read", Description: "Read all keys", Datacenters: []string{"dc1", "dc2"}, Rules: rules}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", req.body)
	}
	var id string
	f.mu.Lock()
	for _, p := range f.policies {
		if p.Name == "kv-read" {
			id = p.ID
		}
	}
	f.mu.Unlock()
	wantOut(t, r, ""+
		"ID:           "+id+"\n"+
		"Name:         kv-read\n"+
		"Description:  Read all keys\n"+
		"Datacenters:  dc1, dc2\n"+
		"Rules:\n"+
		rules+"\n")

	// Rules from a file, from standard input; -meta; JSON.
	file := filepath.Join(t.TempDir(), "rules.hcl")
	fileRules := "node_prefix \"\" {\n  policy = \"read\"\n}\n"
	if err := os.WriteFile(file, []byte(fileRules), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "acl", "policy", "create", addr, "-name=from-file", "-rules=@"+file, "-meta")
	r.check(t, 0, []string{"Datacenters:  \nHash:         6162636465666768\nCreate Index: ", "Rules:\n" + fileRules + "\n"}, nil)
	f.last(t).decode(t, &sent)
	if sent.Rules != fileRules {
		t.Errorf("rules from file sent as %q", sent.Rules)
	}

	runCLI(t, "acl = \"read\"", "acl", "policy", "create", addr, "-name=from-stdin", "-rules=-").check(t, 0, nil, nil)
	f.last(t).decode(t, &sent)
	if sent.Rules != `acl = "read"` {
		t.Errorf("rules from stdin sent as %q", sent.Rules)
	}

	var got api.ACLPolicy
	wantJSON(t, runCLI(t, "", "acl", "policy", "create", addr, "-name=json", "-rules=acl = \"read\"", "-format=json"), &got)
	if got.ID == "" || got.Name != "json" || got.Rules != `acl = "read"` {
		t.Fatalf("JSON policy %+v", got)
	}

	before := f.count()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-rules=x"}, "Missing required '-name' flag"},
		{[]string{"-name=x", "-rules=@/no/such/file"}, "Error loading rules: Failed to read file: open /no/such/file"},
		{[]string{"-name=x", "-format=yaml"}, "Unknown format: yaml"},
	} {
		args := append([]string{"acl", "policy", "create", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
	if f.count() != before {
		t.Error("an invalid command line sent a request")
	}
}

func TestACLPolicyRead(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", `key_prefix "" { policy = "read" }`)

	want := "" +
		"ID:           " + p.ID + "\n" +
		"Name:         kv-read\n" +
		"Description:  \n" +
		"Datacenters:  \n" +
		"Rules:\n" +
		`key_prefix "" { policy = "read" }` + "\n"
	wantOut(t, runCLI(t, "", "acl", "policy", "read", addr, "-id="+p.ID), want)
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/policy/"+p.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	wantOut(t, runCLI(t, "", "acl", "policy", "read", addr, "-id="+p.ID[:8]), want)
	wantOut(t, runCLI(t, "", "acl", "policy", "read", addr, "-name=kv-read"), want)
	if req := f.last(t); req.path != "/v1/acl/policy/name/kv-read" {
		t.Fatalf("read by name asked %s", req.path)
	}
	runCLI(t, "", "acl", "policy", "read", addr, "-id=global-management").
		check(t, 0, []string{"ID:           00000000-0000-0000-0000-000000000001\nName:         global-management\n"}, nil)

	var got api.ACLPolicy
	wantJSON(t, runCLI(t, "", "acl", "policy", "read", addr, "-name=kv-read", "-format=json"), &got)
	if got.ID != p.ID || got.Rules != p.Rules {
		t.Fatalf("JSON policy %+v", got)
	}

	missing := "cccccccc-1111-4222-8333-444444444444"
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "Must specify either the -id or -name parameters"},
		{[]string{"-name=nope"}, "Error policy not found: nope"},
		{[]string{"-id=" + missing}, `Error reading policy "id:` + missing + `": Unexpected response code: 404 (policy not found)`},
		{[]string{"-id=zzz"}, "Error determining policy ID: No such policy ID with prefix: zzz"},
	} {
		args := append([]string{"acl", "policy", "read", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

func TestACLPolicyList(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "")
	f.mu.Lock()
	p.Description, p.Datacenters = "Read keys", []string{"dc1", "dc2"}
	f.mu.Unlock()

	wantOut(t, runCLI(t, "", "acl", "policy", "list", addr), ""+
		"global-management:\n"+
		"   ID:           00000000-0000-0000-0000-000000000001\n"+
		"   Description:  Builtin Policy that grants unlimited access\n"+
		"   Datacenters:  \n"+
		"kv-read:\n"+
		"   ID:           "+p.ID+"\n"+
		"   Description:  Read keys\n"+
		"   Datacenters:  dc1, dc2\n"+
		"\n")
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/policies" {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	runCLI(t, "", "acl", "policy", "list", addr, "-meta").
		check(t, 0, []string{"   Datacenters:  dc1, dc2\n   Hash:         6162636465666768\n   Create Index: 3\n   Modify Index: 3\n"}, nil)

	var list []api.ACLPolicyListEntry
	wantJSON(t, runCLI(t, "", "acl", "policy", "list", addr, "-format=json"), &list)
	if len(list) != 2 || list[1].Name != "kv-read" {
		t.Fatalf("JSON list %+v", list)
	}
}

func TestACLPolicyUpdate(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "old rules")
	f.mu.Lock()
	p.Description, p.Datacenters = "old description", []string{"dc1"}
	f.mu.Unlock()

	// update runs the command and returns the policy it sent.
	update := func(t *testing.T, stdin string, args ...string) api.ACLPolicy {
		t.Helper()
		args = append([]string{"acl", "policy", "update", addr}, args...)
		runCLI(t, stdin, args...).check(t, 0, []string{"ID:           " + p.ID + "\n"}, nil)
		req := f.last(t)
		if req.method != "PUT" || req.path != "/v1/acl/policy/"+p.ID {
			t.Fatalf("request %s %s", req.method, req.path)
		}
		var sent api.ACLPolicy
		req.decode(t, &sent)
		return sent
	}

	// What is not given is kept.
	sent := update(t, "", "-id="+p.ID[:8], "-description=new description")
	want := api.ACLPolicy{ID: p.ID, Name: "kv-read", Description: "new description", Datacenters: []string{"dc1"}, Rules: "old rules"}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	// Found by -name; new rules from stdin; datacenters replaced.
	sent = update(t, "new rules", "-name=kv-read", "-rules=-", "-valid-datacenter=dc2")
	want = api.ACLPolicy{ID: p.ID, Name: "kv-read", Description: "new description", Datacenters: []string{"dc2"}, Rules: "new rules"}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	// An empty -description clears it; a rename needs -id.
	sent = update(t, "", "-id="+p.ID, "-description=", "-name=kv-reader")
	if sent.Description != "" || sent.Name != "kv-reader" || sent.Rules != "new rules" {
		t.Errorf("sent %s", f.last(t).body)
	}

	// -no-merge: only what is given.
	sent = update(t, "", "-id="+p.ID, "-no-merge", "-name=bare", "-rules=acl = \"read\"")
	want = api.ACLPolicy{ID: p.ID, Name: "bare", Rules: `acl = "read"`}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	var got api.ACLPolicy
	wantJSON(t, runCLI(t, "", "acl", "policy", "update", addr, "-id="+p.ID, "-description=j", "-format=json"), &got)
	if got.ID != p.ID || got.Description != "j" {
		t.Fatalf("JSON policy %+v", got)
	}

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-description=x"}, "Must specify either the -id or -name parameters"},
		{[]string{"-name=nope", "-description=x"}, "Error determining policy ID: No such policy with name nope"},
		{[]string{"-id=" + p.ID, "-rules=@/no/such/file"}, "Error loading rules: Failed to read file"},
		{[]string{"-id=cccccccc-1111-4222-8333-444444444444"}, `Error reading policy "cccccccc-1111-4222-8333-444444444444": Unexpected response code: 404`},
	} {
		args := append([]string{"acl", "policy", "update", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

func TestACLPolicyDelete(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	a := f.addPolicy("a", "")
	b := f.addPolicy("b", "")

	wantOut(t, runCLI(t, "", "acl", "policy", "delete", addr, "-id="+a.ID[:8]), `Policy "`+a.ID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/policy/"+a.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	wantOut(t, runCLI(t, "", "acl", "policy", "delete", addr, "-name=b"), `Policy "`+b.ID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/policy/"+b.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}

	runCLI(t, "", "acl", "policy", "delete", addr).check(t, 1, nil, []string{"Must specify either the -id or -name parameters"})
	runCLI(t, "", "acl", "policy", "delete", addr, "-name=b").check(t, 1, nil, []string{"Error determining policy ID: No such policy with name b"})
	runCLI(t, "", "acl", "policy", "delete", addr, "-id="+a.ID).
		check(t, 1, nil, []string{`Error deleting policy "` + a.ID + `": Unexpected response code: 404`})
}
