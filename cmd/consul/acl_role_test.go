package main

import (
	"reflect"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestACLRoleCreate(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	kvRead := f.addPolicy("kv-read", "")
	svcWrite := f.addPolicy("svc-write", "")

	r := runCLI(t, "", "acl", "role", "create", addr, "-name=ops", "-description=Operators",
		"-policy-name=kv-read", "-policy-id="+svcWrite.ID[:8], "-service-identity=web", "-node-identity=n1:dc1")
	req := f.last(t)
	if req.method != "PUT" || req.path != "/v1/acl/role" {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	var sent api.ACLRole
	req.decode(t, &sent)
	want := api.ACLRole{
		Name: "ops", Description: "Operators",
		Policies:          []*api.ACLLink{{Name: "kv-read"}, {ID: svcWrite.ID}},
		ServiceIdentities: []*api.ACLServiceIdentity{{ServiceName: "web"}},
		NodeIdentities:    []*api.ACLNodeIdentity{{NodeName: "n1", Datacenter: "dc1"}},
	}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("sent %s", req.body)
	}
	var id string
	f.mu.Lock()
	for _, role := range f.roles {
		id = role.ID
	}
	f.mu.Unlock()
	wantOut(t, r, ""+
		"ID:           "+id+"\n"+
		"Name:         ops\n"+
		"Description:  Operators\n"+
		"Policies:\n"+
		"   "+kvRead.ID+" - kv-read\n"+
		"   "+svcWrite.ID+" - svc-write\n"+
		"Service Identities:\n"+
		"   web (Datacenters: all)\n"+
		"Node Identities:\n"+
		"   n1 (Datacenter: dc1)\n"+
		"\n")

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
		check(t, 1, nil, []string{"Failed to create new role: Unexpected response code: 400 (cannot find policy nope)"})
}

func TestACLRoleRead(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "")
	role := f.addRole("ops", p)

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
	runCLI(t, "", "acl", "role", "read", addr, "-name=ops", "-meta").
		check(t, 0, []string{"Description:  \nHash:         6162636465666768\nCreate Index: 4\nModify Index: 4\nPolicies:\n"}, nil)

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

func TestACLRoleList(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p := f.addPolicy("kv-read", "")
	a := f.addRole("a", p)
	b := f.addRole("b")
	f.mu.Lock()
	b.Description = "no policies"
	b.ServiceIdentities = []*api.ACLServiceIdentity{{ServiceName: "web", Datacenters: []string{"dc1"}}}
	f.mu.Unlock()

	wantOut(t, runCLI(t, "", "acl", "role", "list", addr), ""+
		"a:\n"+
		"   ID:           "+a.ID+"\n"+
		"   Description:  \n"+
		"   Policies:\n"+
		"      "+p.ID+" - kv-read\n"+
		"b:\n"+
		"   ID:           "+b.ID+"\n"+
		"   Description:  no policies\n"+
		"   Service Identities:\n"+
		"      web (Datacenters: dc1)\n"+
		"\n")
	if req := f.last(t); req.method != "GET" || req.path != "/v1/acl/roles" {
		t.Fatalf("request %s %s", req.method, req.path)
	}

	var list []api.ACLRole
	wantJSON(t, runCLI(t, "", "acl", "role", "list", addr, "-format=json"), &list)
	if len(list) != 2 || list[0].Name != "a" {
		t.Fatalf("JSON list %+v", list)
	}

	f.mu.Lock()
	f.roles = map[string]*api.ACLRole{}
	f.mu.Unlock()
	wantOut(t, runCLI(t, "", "acl", "role", "list", addr), "")
	wantOut(t, runCLI(t, "", "acl", "role", "list", addr, "-format=json"), "[]\n")
}

func TestACLRoleUpdate(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	p1 := f.addPolicy("p1", "")
	p2 := f.addPolicy("p2", "")
	role := f.addRole("ops", p1)
	f.mu.Lock()
	role.Description = "old"
	role.ServiceIdentities = []*api.ACLServiceIdentity{{ServiceName: "web"}}
	f.mu.Unlock()

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

	// Merged: policies and identities are added, the rest kept.
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

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-name=x"}, "Cannot update a role without specifying the -id parameter"},
		{[]string{"-id=cccccccc-1111-4222-8333-444444444444"}, `Role not found with ID "cccccccc-1111-4222-8333-444444444444"`},
		{[]string{"-id=" + role.ID, "-policy-name=nope"}, `Error updating role "` + role.ID + `": Unexpected response code: 400 (cannot find policy nope)`},
	} {
		args := append([]string{"acl", "role", "update", addr}, tc.args...)
		runCLI(t, "", args...).check(t, 1, nil, []string{tc.err})
	}
}

func TestACLRoleDelete(t *testing.T) {
	f := newFakeACL(t)
	addr := "-http-addr=" + f.URL
	a := f.addRole("a")
	b := f.addRole("b")

	wantOut(t, runCLI(t, "", "acl", "role", "delete", addr, "-id="+a.ID[:8]), `Role "`+a.ID+`" deleted successfully`+"\n")
	if req := f.last(t); req.method != "DELETE" || req.path != "/v1/acl/role/"+a.ID {
		t.Fatalf("request %s %s", req.method, req.path)
	}
	wantOut(t, runCLI(t, "", "acl", "role", "delete", addr, "-name=b"), `Role "`+b.ID+`" deleted successfully`+"\n")

	runCLI(t, "", "acl", "role", "delete", addr).check(t, 1, nil, []string{"Must specify either the -id or -name parameters"})
	runCLI(t, "", "acl", "role", "delete", addr, "-name=b").check(t, 1, nil, []string{"Error determining role ID: No such role with name b"})
}
