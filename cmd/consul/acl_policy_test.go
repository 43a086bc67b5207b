package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestACLPolicyCreate(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
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
	wantOut(t, r, ""+
		"ID:           "+a.policyNamed(t, "kv-read").ID+"\n"+
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
	held := a.policyNamed(t, "from-file")
	r.check(t, 0, []string{
		fmt.Sprintf("Datacenters:  \nHash:         %x\nCreate Index: %d\nModify Index: %d\n", held.Hash, held.CreateIndex, held.ModifyIndex),
		"Rules:\n" + fileRules + "\n",
	}, nil)
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
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read", Rules: `key_prefix "" { policy = "read" }`})

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
		{[]string{"-id=" + missing}, `Error reading policy "id:` + missing + `": Unexpected response code: 404 (ACL policy not found)`},
		{[]string{"-id=zzz"}, "Error determining policy ID: No such policy ID with prefix: zzz"},
	} {
		args := append([]string{"acl", "policy", "read", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

// TestACLPolicyList lists the policies in the order the agent gives them.
func TestACLPolicyList(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read", Description: "Read keys", Datacenters: []string{"dc1", "dc2"}})

	entries := map[string]string{
		aclGlobalManagementPolicyID: "" +
			"global-management:\n" +
			"   ID:           00000000-0000-0000-0000-000000000001\n" +
			"   Description:  Builtin Policy that grants unlimited access\n" +
			"   Datacenters:  \n",
		p.ID: "" +
			"kv-read:\n" +
			"   ID:           " + p.ID + "\n" +
			"   Description:  Read keys\n" +
			"   Datacenters:  dc1, dc2\n",
	}
	listed, _, err := a.client.ACL().PolicyList(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range listed {
		ids = append(ids, e.ID)
	}
	wantOut(t, runCLI(t, "", "acl", "policy", "list", addr), inAgentOrder(t, entries, ids, "")+"\n")
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/policies" {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	runCLI(t, "", "acl", "policy", "list", addr, "-meta").check(t, 0, []string{fmt.Sprintf(
		"   Datacenters:  dc1, dc2\n   Hash:         %x\n   Create Index: %d\n   Modify Index: %d\n",
		p.Hash, p.CreateIndex, p.ModifyIndex)}, nil)

	var list []api.ACLPolicyListEntry
	wantJSON(t, runCLI(t, "", "acl", "policy", "list", addr, "-format=json"), &list)
	if len(list) != 2 || list[0].ID != listed[0].ID || list[1].ID != listed[1].ID {
		t.Fatalf("JSON list %+v", list)
	}
}

func TestACLPolicyUpdate(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	const (
		oldRules = `key_prefix "" { policy = "read" }`
		newRules = `node_prefix "" { policy = "read" }`
	)
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read", Description: "old description", Datacenters: []string{"dc1"}, Rules: oldRules})

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
	want := api.ACLPolicy{ID: p.ID, Name: "kv-read", Description: "new description", Datacenters: []string{"dc1"}, Rules: oldRules}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	// Found by -name; new rules from stdin; datacenters replaced.
	sent = update(t, newRules, "-name=kv-read", "-rules=-", "-valid-datacenter=dc2")
	want = api.ACLPolicy{ID: p.ID, Name: "kv-read", Description: "new description", Datacenters: []string{"dc2"}, Rules: newRules}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	// An empty -description clears it; a rename needs -id.
	sent = update(t, "", "-id="+p.ID, "-description=", "-name=kv-reader")
	if sent.Description != "" || sent.Name != "kv-reader" || sent.Rules != newRules {
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
	held := a.policyNamed(t, "bare")
	if held.ID != p.ID || held.Description != "j" || held.Rules != `acl = "read"` || len(held.Datacenters) != 0 {
		t.Errorf("the agent holds %+v", held)
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
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	pa := a.addPolicy(t, &api.ACLPolicy{Name: "a"})
	pb := a.addPolicy(t, &api.ACLPolicy{Name: "b"})

	wantOut(t, runCLI(t, "", "acl", "policy", "delete", addr, "-id="+pa.ID[:8]), `Policy "`+pa.ID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/policy/"+pa.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	wantOut(t, runCLI(t, "", "acl", "policy", "delete", addr, "-name=b"), `Policy "`+pb.ID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/policy/"+pb.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	if list, _, err := a.client.ACL().PolicyList(nil); err != nil || len(list) != 1 {
		t.Fatalf("after the deletes the agent lists %d policies (%v), want global-management alone", len(list), err)
	}

	runCLI(t, "", "acl", "policy", "delete", addr).check(t, 1, nil, []string{"Must specify either the -id or -name parameters"})
	runCLI(t, "", "acl", "policy", "delete", addr, "-name=b").check(t, 1, nil, []string{"Error determining policy ID: No such policy with name b"})
	// A policy deleted already is deleted again, as in Consul.
	wantOut(t, runCLI(t, "", "acl", "policy", "delete", addr, "-id="+pa.ID), `Policy "`+pa.ID+`" deleted successfully`+"\n")
	// The api client closes this response before reading its message.
	runCLI(t, "", "acl", "policy", "delete", addr, "-id=global-management").
		check(t, 1, nil, []string{`Error deleting policy "` + aclGlobalManagementPolicyID + `": Unexpected response code: 400`})
}

// policyNamed returns the policy called name as the agent holds it.
func (a *testAgent) policyNamed(t *testing.T, name string) *api.ACLPolicy {
	t.Helper()
	p, _, err := a.client.ACL().PolicyReadByName(name, nil)
	if err != nil || p == nil {
		t.Fatalf("policy %s: %v", name, err)
	}
	return p
}
