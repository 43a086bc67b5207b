package state

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

func setToken(t *testing.T, s *Store, idx uint64, tok *structs.ACLToken) {
	t.Helper()
	if err := s.ACLTokenSet(idx, tok); err != nil {
		t.Fatal(err)
	}
}

func setPolicy(t *testing.T, s *Store, idx uint64, id, name string) {
	t.Helper()
	if err := s.ACLPolicySet(idx, &structs.ACLPolicy{ID: id, Name: name}); err != nil {
		t.Fatal(err)
	}
}

func setRole(t *testing.T, s *Store, idx uint64, id, name string, policies ...string) {
	t.Helper()
	r := &structs.ACLRole{ID: id, Name: name}
	for _, p := range policies {
		r.Policies = append(r.Policies, structs.ACLRolePolicyLink{ID: p})
	}
	if err := s.ACLRoleSet(idx, r); err != nil {
		t.Fatal(err)
	}
}

// fired tells whether a channel in ws has been closed.
func fired(ws memdb.WatchSet) bool {
	return !ws.Watch(time.After(10 * time.Millisecond))
}

func TestACLTokenSetGetList(t *testing.T) {
	s := testStore(t)
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	setToken(t, s, 3, &structs.ACLToken{AccessorID: "a1", SecretID: "s1", Description: "one", CreateTime: created,
		Policies: []structs.ACLTokenPolicyLink{{ID: "p1"}}})
	setToken(t, s, 4, &structs.ACLToken{AccessorID: "a2", SecretID: "s2", Roles: []structs.ACLTokenRoleLink{{ID: "r1"}}})
	// An update keeps the create index and time, whatever it says.
	setToken(t, s, 5, &structs.ACLToken{AccessorID: "a1", SecretID: "s1", Description: "changed",
		Policies: []structs.ACLTokenPolicyLink{{ID: "p1"}}})

	idx, tok, err := s.ACLTokenByAccessor(nil, "a1")
	if err != nil || tok == nil {
		t.Fatalf("by accessor: %v %v", tok, err)
	}
	if idx != 5 || tok.Description != "changed" || tok.CreateIndex != 3 || tok.ModifyIndex != 5 || !tok.CreateTime.Equal(created) {
		t.Fatalf("index %d, token %+v", idx, tok)
	}
	if idx, bySecret, err := s.ACLTokenBySecret(nil, "s1"); err != nil || idx != 5 || !reflect.DeepEqual(bySecret, tok) {
		t.Fatalf("by secret: %d %+v %v", idx, bySecret, err)
	}
	if idx, none, err := s.ACLTokenBySecret(nil, "nope"); err != nil || none != nil || idx != 5 {
		t.Fatalf("missing secret: %d %+v %v", idx, none, err)
	}
	if idx, none, err := s.ACLTokenByAccessor(nil, "nope"); err != nil || none != nil || idx != 5 {
		t.Fatalf("missing accessor: %d %+v %v", idx, none, err)
	}

	for _, tc := range []struct {
		policy, role string
		want         []string
	}{
		{"", "", []string{"a1", "a2"}},
		{"p1", "", []string{"a1"}},
		{"", "r1", []string{"a2"}},
		{"p1", "r1", nil},
		{"p9", "", nil},
	} {
		idx, list, err := s.ACLTokenList(nil, tc.policy, tc.role)
		var got []string
		for _, tok := range list {
			got = append(got, tok.AccessorID)
		}
		if err != nil || idx != 5 || list == nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("list policy %q role %q: index %d, %v %v; want %v", tc.policy, tc.role, idx, got, err, tc.want)
		}
	}
}

func TestACLTokenSetRefusals(t *testing.T) {
	s := testStore(t)
	setToken(t, s, 1, &structs.ACLToken{AccessorID: "a1", SecretID: "s1"})
	for _, tok := range []*structs.ACLToken{
		{AccessorID: "a2"},
		{SecretID: "s2"},
		{AccessorID: "a2", SecretID: "s1"}, // another token's secret
	} {
		if err := s.ACLTokenSet(2, tok); !errors.Is(err, structs.ErrBadRequest) {
			t.Errorf("%+v: %v, want ErrBadRequest", tok, err)
		}
	}
	if _, list, _ := s.ACLTokenList(nil, "", ""); len(list) != 1 {
		t.Fatalf("refused tokens were stored: %+v", list)
	}
	if s.ACLIndex() != 1 {
		t.Fatalf("refused writes moved the index to %d", s.ACLIndex())
	}
}

func TestACLBootstrapOnceThenWithTheResetIndex(t *testing.T) {
	s := testStore(t)
	if s.ACLBootstrapIndex() != 0 {
		t.Fatal("a new store says it was bootstrapped")
	}
	if err := s.ACLBootstrap(4, 0, &structs.ACLToken{AccessorID: "a1", SecretID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if s.ACLBootstrapIndex() != 4 {
		t.Fatalf("bootstrap index %d, want 4", s.ACLBootstrapIndex())
	}
	for _, reset := range []uint64{0, 3, 5} {
		err := s.ACLBootstrap(6, reset, &structs.ACLToken{AccessorID: "a2", SecretID: "s2"})
		if !errors.Is(err, structs.ErrPermissionDenied) || !strings.Contains(err.Error(), "reset index: 4") {
			t.Errorf("bootstrap again with reset index %d: %v", reset, err)
		}
	}
	if _, tok, _ := s.ACLTokenByAccessor(nil, "a2"); tok != nil {
		t.Fatal("a refused bootstrap stored its token")
	}
	if err := s.ACLBootstrap(7, 4, &structs.ACLToken{AccessorID: "a2", SecretID: "s2"}); err != nil {
		t.Fatalf("bootstrap with the reset index: %v", err)
	}
	if s.ACLBootstrapIndex() != 7 {
		t.Fatalf("bootstrap index %d after a reset, want 7", s.ACLBootstrapIndex())
	}
	if err := s.ACLBootstrap(8, 7, &structs.ACLToken{AccessorID: "a3"}); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("bootstrap with an invalid token: %v", err)
	}
}

func TestACLPolicyAndRoleSetGetList(t *testing.T) {
	s := testStore(t)
	setPolicy(t, s, 1, "p1", "read")
	setPolicy(t, s, 2, "p2", "write")
	setRole(t, s, 3, "r1", "ops", "p1")
	setRole(t, s, 4, "r2", "dev", "p2")
	setPolicy(t, s, 5, "p1", "read-all") // a rename frees the old name
	setPolicy(t, s, 6, "p3", "read")

	idx, p, err := s.ACLPolicyGet(nil, "p1", false)
	if err != nil || p == nil || idx != 6 || p.Name != "read-all" || p.CreateIndex != 1 || p.ModifyIndex != 5 {
		t.Fatalf("policy by ID: index %d, %+v %v", idx, p, err)
	}
	if _, p, _ := s.ACLPolicyGet(nil, "read", true); p == nil || p.ID != "p3" {
		t.Fatalf("policy by the freed name: %+v", p)
	}
	if idx, p, err := s.ACLPolicyGet(nil, "nope", true); err != nil || p != nil || idx != 6 {
		t.Fatalf("missing policy: %d %+v %v", idx, p, err)
	}
	idx, r, err := s.ACLRoleGet(nil, "dev", true)
	if err != nil || r == nil || idx != 4 || r.ID != "r2" || r.CreateIndex != 4 {
		t.Fatalf("role by name: index %d, %+v %v", idx, r, err)
	}
	if idx, policies, err := s.ACLPolicyList(nil); err != nil || idx != 6 || len(policies) != 3 {
		t.Fatalf("policy list: %d %+v %v", idx, policies, err)
	}
	for policy, want := range map[string][]string{"": {"r1", "r2"}, "p1": {"r1"}, "p3": nil} {
		idx, roles, err := s.ACLRoleList(nil, policy)
		var got []string
		for _, r := range roles {
			got = append(got, r.ID)
		}
		if err != nil || idx != 4 || roles == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("role list for %q: index %d, %v %v; want %v", policy, idx, got, err, want)
		}
	}
	if s.ACLIndex() != 6 {
		t.Fatalf("ACL index %d, want 6", s.ACLIndex())
	}
}

func TestACLPolicyAndRoleSetRefusals(t *testing.T) {
	s := testStore(t)
	setPolicy(t, s, 1, "p1", "taken")
	setRole(t, s, 2, "r1", "taken")
	for name, err := range map[string]error{
		"policy without ID":   s.ACLPolicySet(3, &structs.ACLPolicy{Name: "x"}),
		"policy without name": s.ACLPolicySet(3, &structs.ACLPolicy{ID: "p2"}),
		"policy name taken":   s.ACLPolicySet(3, &structs.ACLPolicy{ID: "p2", Name: "taken"}),
		"role without ID":     s.ACLRoleSet(3, &structs.ACLRole{Name: "x"}),
		"role without name":   s.ACLRoleSet(3, &structs.ACLRole{ID: "r2"}),
		"role name taken":     s.ACLRoleSet(3, &structs.ACLRole{ID: "r2", Name: "taken"}),
	} {
		if !errors.Is(err, structs.ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
	// A policy and a role may share a name, and an update keep its own.
	setPolicy(t, s, 4, "p1", "taken")
	if s.ACLIndex() != 4 {
		t.Fatalf("ACL index %d, want 4", s.ACLIndex())
	}
}

func TestACLDelete(t *testing.T) {
	s := testStore(t)
	setToken(t, s, 1, &structs.ACLToken{AccessorID: "a1", SecretID: "s1"})
	setPolicy(t, s, 2, "p1", "read")
	setRole(t, s, 3, "r1", "ops")
	if err := s.ACLDelete(4, structs.KVSRequestType, "a1"); err == nil {
		t.Fatal("a KV message type deleted an ACL record")
	}
	for _, tc := range []struct {
		t   structs.MessageType
		id  string
		get func() (uint64, bool)
	}{
		{structs.ACLTokenDeleteRequestType, "a1", func() (uint64, bool) {
			idx, tok, _ := s.ACLTokenByAccessor(nil, "a1")
			return idx, tok != nil
		}},
		{structs.ACLPolicyDeleteRequestType, "p1", func() (uint64, bool) {
			idx, p, _ := s.ACLPolicyGet(nil, "p1", false)
			return idx, p != nil
		}},
		{structs.ACLRoleDeleteRequestType, "r1", func() (uint64, bool) {
			idx, r, _ := s.ACLRoleGet(nil, "r1", false)
			return idx, r != nil
		}},
	} {
		before, _ := tc.get()
		// Deleting what is not there changes nothing, the index neither.
		if err := s.ACLDelete(10, tc.t, "nope"); err != nil {
			t.Fatal(err)
		}
		if idx, there := tc.get(); idx != before || !there {
			t.Fatalf("%s of a missing ID: index %d (was %d), record there %v", tc.t, idx, before, there)
		}
		if err := s.ACLDelete(11, tc.t, tc.id); err != nil {
			t.Fatal(err)
		}
		if idx, there := tc.get(); idx != 11 || there {
			t.Fatalf("%s: index %d, record there %v", tc.t, idx, there)
		}
	}
	if _, tok, _ := s.ACLTokenBySecret(nil, "s1"); tok != nil {
		t.Fatal("a deleted token is still found by its secret")
	}
	// The secret and the names are free again.
	setToken(t, s, 12, &structs.ACLToken{AccessorID: "a2", SecretID: "s1"})
	setPolicy(t, s, 13, "p2", "read")
	setRole(t, s, 14, "r2", "ops")
}

// TestACLWatchesFire: each read adds the channel that a change to what it
// read closes, so that a blocking query wakes on it, and only on it.
func TestACLWatchesFire(t *testing.T) {
	s := testStore(t)
	setToken(t, s, 1, &structs.ACLToken{AccessorID: "a1", SecretID: "s1"})
	setToken(t, s, 2, &structs.ACLToken{AccessorID: "a2", SecretID: "s2"})
	setPolicy(t, s, 3, "p1", "read")
	setPolicy(t, s, 4, "p2", "write")
	setRole(t, s, 5, "r1", "ops")

	type read func(ws memdb.WatchSet) error
	for _, tc := range []struct {
		name   string
		read   read
		other  func() // a write the read must not wake on
		change func() // a write it must wake on
	}{
		{"token by accessor",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLTokenByAccessor(ws, "a1"); return err },
			func() { setToken(t, s, 10, &structs.ACLToken{AccessorID: "a2", SecretID: "s2", Description: "x"}) },
			func() { setToken(t, s, 11, &structs.ACLToken{AccessorID: "a1", SecretID: "s1", Description: "x"}) }},
		{"token by secret",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLTokenBySecret(ws, "s1"); return err },
			func() { setToken(t, s, 12, &structs.ACLToken{AccessorID: "a2", SecretID: "s2", Description: "y"}) },
			func() { _ = s.ACLDelete(13, structs.ACLTokenDeleteRequestType, "a1") }},
		{"token list",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLTokenList(ws, "", ""); return err },
			func() { setPolicy(t, s, 14, "p3", "other") },
			func() { setToken(t, s, 15, &structs.ACLToken{AccessorID: "a3", SecretID: "s3"}) }},
		{"policy by ID",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLPolicyGet(ws, "p1", false); return err },
			func() { setPolicy(t, s, 16, "p2", "write-all") },
			func() { setPolicy(t, s, 17, "p1", "read-all") }},
		{"policy list",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLPolicyList(ws); return err },
			func() { setRole(t, s, 18, "r2", "dev") },
			func() { _ = s.ACLDelete(19, structs.ACLPolicyDeleteRequestType, "p2") }},
		{"role by name",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLRoleGet(ws, "ops", true); return err },
			func() { setRole(t, s, 20, "r2", "dev", "p1") },
			func() { setRole(t, s, 21, "r1", "ops", "p1") }},
		{"role list",
			func(ws memdb.WatchSet) error { _, _, err := s.ACLRoleList(ws, "p1"); return err },
			func() { setToken(t, s, 22, &structs.ACLToken{AccessorID: "a4", SecretID: "s4"}) },
			func() { _ = s.ACLDelete(23, structs.ACLRoleDeleteRequestType, "r2") }},
	} {
		ws := memdb.NewWatchSet()
		if err := tc.read(ws); err != nil {
			t.Fatal(err)
		}
		tc.other()
		if fired(ws) {
			t.Errorf("%s: woke on a write to something else", tc.name)
		}
		tc.change()
		if !fired(ws) {
			t.Errorf("%s: did not wake on a change to what it read", tc.name)
		}
	}

	// A read of what is not there yet wakes when it is created.
	ws := memdb.NewWatchSet()
	if _, p, _ := s.ACLPolicyGet(ws, "later", true); p != nil {
		t.Fatal("policy exists already")
	}
	setPolicy(t, s, 30, "p9", "later")
	if !fired(ws) {
		t.Error("a read of a missing policy did not wake on its creation")
	}
	// A restore replaces the store: its readers wake on AbandonCh, which
	// blocking queries watch.
	ws = memdb.NewWatchSet()
	ws.Add(s.AbandonCh())
	s.Abandon()
	if !fired(ws) {
		t.Error("AbandonCh did not fire")
	}
}

// TestACLTablesRoundTripThroughDump: tokens, policies and roles, their
// table indexes and the bootstrap index survive a dump and a restore.
func TestACLTablesRoundTripThroughDump(t *testing.T) {
	s := testStore(t)
	if err := s.ACLBootstrap(2, 0, &structs.ACLToken{AccessorID: "a1", SecretID: "s1"}); err != nil {
		t.Fatal(err)
	}
	setPolicy(t, s, 3, "p1", "read")
	setRole(t, s, 4, "r1", "ops", "p1")
	setToken(t, s, 5, &structs.ACLToken{AccessorID: "a2", SecretID: "s2", Roles: []structs.ACLTokenRoleLink{{ID: "r1", Name: "ops"}}})
	restored, _, err := Restore(bytes.NewReader(dump(t, s, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if restored.ACLBootstrapIndex() != 2 || restored.ACLIndex() != 5 {
		t.Fatalf("bootstrap index %d, ACL index %d; want 2 and 5", restored.ACLBootstrapIndex(), restored.ACLIndex())
	}
	i1, t1, _ := s.ACLTokenList(nil, "", "")
	i2, t2, _ := restored.ACLTokenList(nil, "", "")
	if i1 != i2 || !reflect.DeepEqual(t1, t2) {
		t.Fatalf("tokens differ after restore: %d %+v vs %d %+v", i1, t1, i2, t2)
	}
	i1, p1, _ := s.ACLPolicyList(nil)
	i2, p2, _ := restored.ACLPolicyList(nil)
	if i1 != i2 || !reflect.DeepEqual(p1, p2) {
		t.Fatalf("policies differ after restore: %d %+v vs %d %+v", i1, p1, i2, p2)
	}
	i1, r1, _ := s.ACLRoleList(nil, "")
	i2, r2, _ := restored.ACLRoleList(nil, "")
	if i1 != i2 || !reflect.DeepEqual(r1, r2) {
		t.Fatalf("roles differ after restore: %d %+v vs %d %+v", i1, r1, i2, r2)
	}
	if _, tok, _ := restored.ACLTokenBySecret(nil, "s2"); tok == nil || tok.AccessorID != "a2" {
		t.Fatalf("restored token by secret: %+v", tok)
	}
	// The restored store still enforces unique names and secrets.
	if err := restored.ACLPolicySet(6, &structs.ACLPolicy{ID: "p2", Name: "read"}); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("a restored name was not unique: %v", err)
	}
	if err := restored.ACLTokenSet(6, &structs.ACLToken{AccessorID: "a3", SecretID: "s1"}); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("a restored secret was not unique: %v", err)
	}
}
