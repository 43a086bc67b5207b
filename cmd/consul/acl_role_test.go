package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestACLRoleCreate(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	kvRead := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read"})
	svcWrite := a.addPolicy(t, &api.ACLPolicy{Name: "svc-write"})

	r := runCLI(t, "", "acl", "role", "create", addr, "-name=ops", "-description=Operators",
		"-policy-name=kv-read", "-policy-id="+svcWrite.ID[:8])
	req := f.last(t)
	if req.method != "PUT" || req.path != "/v1/acl/role" {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	var sent api.ACLRole
	req.decode(t, &sent)
	want := api.ACLRole{
		Name: "ops", Description: "Operators",
		Policies: []*api.ACLLink{{Name: "kv-read"}, {ID: svcWrite.ID}},
	}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", req.body)
	}
	wantOut(t, r, ""+
		"ID:           "+a.roleNamed(t, "ops").ID+"\n"+
		"Name:         ops\n"+
		"Description:  Operators\n"+
		"Policies:\n"+
		"   "+kvRead.ID+" - kv-read\n"+
		"   "+svcWrite.ID+" - svc-write\n"+
		"\n")

	// The identities are sent; the agent does not keep them yet (see
	// TestACLPrettyFields for how they are shown).
	runCLI(t, "", "acl", "role", "create", addr, "-name=identities", "-service-identity=web", "-node-identity=n1:dc1").
		check(t, 0, nil, nil)
	sent = api.ACLRole{}
	f.last(t).decode(t, &sent)
	want = api.ACLRole{
		Name:              "identities",
		ServiceIdentities: []*api.ACLServiceIdentity{{ServiceName: "web"}},
		NodeIdentities:    []*api.ACLNodeIdentity{{NodeName: "n1", Datacenter: "dc1"}},
	}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	var got api.ACLRole
	wantJSON(t, runCLI(t, "", "acl", "role", "create", addr, "-name=json", "-policy-name=kv-read", "-format=json"), &got)
	if got.ID == "" || got.Name != "json" || got.Policies[0].ID != kvRead.ID {
		t.Fatalf("JSON role %+v", got)
	}

	before := f.count()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-policy-name=kv-read"}, "Missing required '-name' flag"},
		{[]string{"-name=x"}, "Cannot create a role without specifying -policy-name, -policy-id, -service-identity, or -node-identity at least once"},
		{[]string{"-name=x", "-role-name=y"}, "flag provided but not defined: -role-name"},
		{[]string{"-name=x", "-node-identity=n1:"}, `Malformed -node-identity argument: "n1:"`},
	} {
		args := append([]string{"acl", "role", "create", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
	if f.count() != before {
		t.Error("an invalid command line sent a request")
	}
	runCLI(t, "", "acl", "role", "create", addr, "-name=x", "-policy-name=nope").
		check(t, 1, nil, []string{`Failed to create new role: Unexpected response code: 400 (No such ACL policy with ID "" or name "nope")`})
}

func TestACLRoleRead(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read"})
	role := a.addRole(t, &api.ACLRole{Name: "ops", Policies: linksTo(p)})

	want := "" +
		"ID:           " + role.ID + "\n" +
		"Name:         ops\n" +
		"Description:  \n" +
		"Policies:\n" +
		"   " + p.ID + " - kv-read\n" +
		"\n"
	wantOut(t, runCLI(t, "", "acl", "role", "read", addr, "-id="+role.ID), want)
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/role/"+role.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	wantOut(t, runCLI(t, "", "acl", "role", "read", addr, "-id="+role.ID[:8]), want)
	wantOut(t, runCLI(t, "", "acl", "role", "read", addr, "-name=ops"), want)
	if req := f.last(t); req.path != "/v1/acl/role/name/ops" {
		t.Fatalf("read by name asked %s", req.path)
	}
	runCLI(t, "", "acl", "role", "read", addr, "-name=ops", "-meta").check(t, 0, []string{fmt.Sprintf(
		"Description:  \nHash:         %x\nCreate Index: %d\nModify Index: %d\nPolicies:\n", role.Hash, role.CreateIndex, role.ModifyIndex)}, nil)

	var got api.ACLRole
	wantJSON(t, runCLI(t, "", "acl", "role", "read", addr, "-name=ops", "-format=json"), &got)
	if got.ID != role.ID || got.Policies[0].Name != "kv-read" {
		t.Fatalf("JSON role %+v", got)
	}

	missing := "cccccccc-1111-4222-8333-444444444444"
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "Must specify either the -id or -name parameters"},
		{[]string{"-name=nope"}, `Role not found with name "nope"`},
		{[]string{"-id=" + missing}, `Role not found with ID "` + missing + `"`},
		{[]string{"-id=zzz"}, "Error determining role ID: No such role ID with prefix: zzz"},
	} {
		args := append([]string{"acl", "role", "read", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

// TestACLRoleList lists the roles in the order the agent gives them.
func TestACLRoleList(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p := a.addPolicy(t, &api.ACLPolicy{Name: "kv-read"})
	ra := a.addRole(t, &api.ACLRole{Name: "a", Policies: linksTo(p)})
	rb := a.addRole(t, &api.ACLRole{Name: "b", Description: "no policies"})

	entries := map[string]string{
		ra.ID: "" +
			"a:\n" +
			"   ID:           " + ra.ID + "\n" +
			"   Description:  \n" +
			"   Policies:\n" +
			"      " + p.ID + " - kv-read\n",
		rb.ID: "" +
			"b:\n" +
			"   ID:           " + rb.ID + "\n" +
			"   Description:  no policies\n",
	}
	listed, _, err := a.client.ACL().RoleList(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range listed {
		ids = append(ids, e.ID)
	}
	wantOut(t, runCLI(t, "", "acl", "role", "list", addr), inAgentOrder(t, entries, ids, "")+"\n")
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/roles" {
		t.Fatalf("request %s %s", req.method, req.path)
	}

	var list []api.ACLRole
	wantJSON(t, runCLI(t, "", "acl", "role", "list", addr, "-format=json"), &list)
	if len(list) != 2 || list[0].ID != listed[0].ID || list[1].ID != listed[1].ID {
		t.Fatalf("JSON list %+v", list)
	}

	for _, r := range listed {
		if _, err := a.client.ACL().RoleDelete(r.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantOut(t, runCLI(t, "", "acl", "role", "list", addr), "")
	wantOut(t, runCLI(t, "", "acl", "role", "list", addr, "-format=json"), "[]\n")
}

func TestACLRoleUpdate(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	p1 := a.addPolicy(t, &api.ACLPolicy{Name: "p1"})
	p2 := a.addPolicy(t, &api.ACLPolicy{Name: "p2"})
	role := a.addRole(t, &api.ACLRole{Name: "ops", Description: "old", Policies: linksTo(p1)})

	update := func(t *testing.T, args ...string) api.ACLRole {
		t.Helper()
		args = append([]string{"acl", "role", "update", addr}, args...)
		runCLI(t, "", args...).check(t, 0, []string{"ID:           " + role.ID + "\n"}, nil)
		req := f.last(t)
		if req.method != "PUT" || req.path != "/v1/acl/role/"+role.ID {
			t.Fatalf("request %s %s", req.method, req.path)
		}
		var sent api.ACLRole
		req.decode(t, &sent)
		return sent
	}

	// Merged: policies and identities are added, the rest kept (see also
	// TestACLRoleUpdateIdentities).
	sent := update(t, "-id="+role.ID[:8], "-policy-name=p2", "-policy-name=p1", "-service-identity=web:dc1", "-service-identity=db")
	if sent.Name != "ops" || sent.Description != "old" {
		t.Errorf("sent %s", f.last(t).body)
	}
	if len(sent.Policies) != 2 || sent.Policies[0].ID != p1.ID || sent.Policies[1].Name != "p2" {
		t.Errorf("policies sent %s", f.last(t).body)
	}
	wantSvc := []*api.ACLServiceIdentity{{ServiceName: "web", Datacenters: []string{"dc1"}}, {ServiceName: "db"}}
	if !reflect.DeepEqual(sent.ServiceIdentities, wantSvc) {
		t.Errorf("identities sent %s", f.last(t).body)
	}

	sent = update(t, "-id="+role.ID, "-name=operators", "-description=new")
	if sent.Name != "operators" || sent.Description != "new" || len(sent.Policies) != 2 {
		t.Errorf("sent %s", f.last(t).body)
	}

	// -no-merge: exactly what is given.
	sent = update(t, "-id="+role.ID, "-no-merge", "-name=bare", "-policy-id="+p2.ID)
	want := api.ACLRole{ID: role.ID, Name: "bare", Policies: []*api.ACLLink{{ID: p2.ID}}}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", f.last(t).body)
	}

	var got api.ACLRole
	wantJSON(t, runCLI(t, "", "acl", "role", "update", addr, "-id="+role.ID, "-description=j", "-format=json"), &got)
	if got.ID != role.ID || got.Description != "j" {
		t.Fatalf("JSON role %+v", got)
	}
	if held := a.roleNamed(t, "bare"); held.ID != role.ID || held.Description != "j" || len(held.Policies) != 1 || held.Policies[0].ID != p2.ID {
		t.Errorf("the agent holds %+v", held)
	}

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-name=x"}, "Cannot update a role without specifying the -id parameter"},
		{[]string{"-id=cccccccc-1111-4222-8333-444444444444"}, `Role not found with ID "cccccccc-1111-4222-8333-444444444444"`},
		{[]string{"-id=" + role.ID, "-policy-name=nope"}, `Error updating role "` + role.ID + `": Unexpected response code: 400 (No such ACL policy with ID "" or name "nope")`},
	} {
		args := append([]string{"acl", "role", "update", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

// TestACLRoleUpdateIdentities: an update merges the identities given
// into the role's: one for a service the role has replaces it, one for a
// node it has is not added again. The agent does not keep identities
// yet, so a stand-in holds the role.
func TestACLRoleUpdateIdentities(t *testing.T) {
	role := &api.ACLRole{ID: "aaaaaaaa-1111-4222-8333-444444444444", Name: "ops",
		ServiceIdentities: []*api.ACLServiceIdentity{{ServiceName: "web"}, {ServiceName: "api"}},
		NodeIdentities:    []*api.ACLNodeIdentity{{NodeName: "n1", Datacenter: "dc1"}}}
	stub := aclObjectStub(t, "/v1/acl/role/"+role.ID, role)

	runCLI(t, "", "acl", "role", "update", "-http-addr="+stub.URL, "-id="+role.ID,
		"-service-identity=web:dc1", "-service-identity=db", "-node-identity=n1:dc1", "-node-identity=n2:dc2").
		check(t, 0, []string{"ID:           " + role.ID + "\n"}, nil)
	var sent api.ACLRole
	if err := json.Unmarshal(stub.sent(), &sent); err != nil {
		t.Fatal(err)
	}
	wantSvc := []*api.ACLServiceIdentity{{ServiceName: "web", Datacenters: []string{"dc1"}}, {ServiceName: "api"}, {ServiceName: "db"}}
	wantNodes := []*api.ACLNodeIdentity{{NodeName: "n1", Datacenter: "dc1"}, {NodeName: "n2", Datacenter: "dc2"}}
	if !reflect.DeepEqual(sent.ServiceIdentities, wantSvc) || !reflect.DeepEqual(sent.NodeIdentities, wantNodes) {
		t.Errorf("identities sent %s", stub.sent())
	}
}

func TestACLRoleDelete(t *testing.T) {
	a := sharedAgent(t, true)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	ra := a.addRole(t, &api.ACLRole{Name: "a"})
	rb := a.addRole(t, &api.ACLRole{Name: "b"})

	wantOut(t, runCLI(t, "", "acl", "role", "delete", addr, "-id="+ra.ID[:8]), `Role "`+ra.ID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/role/"+ra.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	wantOut(t, runCLI(t, "", "acl", "role", "delete", addr, "-name=b"), `Role "`+rb.ID+`" deleted successfully`+"\n")
	if list, _, err := a.client.ACL().RoleList(nil); err != nil || len(list) != 0 {
		t.Fatalf("after the deletes the agent lists %d roles (%v), want none", len(list), err)
	}

	runCLI(t, "", "acl", "role", "delete", addr).check(t, 1, nil, []string{"Must specify either the -id or -name parameters"})
	runCLI(t, "", "acl", "role", "delete", addr, "-name=b").check(t, 1, nil, []string{"Error determining role ID: No such role with name b"})
}

// roleNamed returns the role called name as the agent holds it.
func (a *testAgent) roleNamed(t *testing.T, name string) *api.ACLRole {
	t.Helper()
	r, _, err := a.client.ACL().RoleReadByName(name, nil)
	if err != nil || r == nil {
		t.Fatalf("role %s: %v", name, err)
	}
	return r
}
