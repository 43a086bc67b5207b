package state

import (
	"reflect"
	"testing"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewStore()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func set(t *testing.T, s *Store, idx uint64, key, value string) {
	t.Helper()
	if err := s.KVSSet(idx, &structs.DirEntry{Key: key, Value: []byte(value)}); err != nil {
		t.Fatal(err)
	}
}

func TestKVSSetGetKeepsCreateIndex(t *testing.T) {
	s := testStore(t)
	set(t, s, 1, "a", "one")
	set(t, s, 2, "a", "two")
	idx, e, err := s.KVSGet(nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	if idx != 2 || e.CreateIndex != 1 || e.ModifyIndex != 2 || string(e.Value) != "two" {
		t.Fatalf("idx=%d entry=%+v", idx, e)
	}
	if _, e, _ := s.KVSGet(nil, "missing"); e != nil {
		t.Fatalf("missing key returned %+v", e)
	}
}

func TestKVSCAS(t *testing.T) {
	s := testStore(t)
	cases := []struct {
		name string
		idx  uint64
		cas  uint64
		want bool
	}{
		{"create with 0", 1, 0, true},
		{"create again with 0 fails", 2, 0, false},
		{"stale index fails", 3, 7, false},
		{"matching index", 4, 1, true},
	}
	for _, c := range cases {
		ent := &structs.DirEntry{Key: "k", Value: []byte(c.name)}
		ent.ModifyIndex = c.cas
		ok, err := s.KVSSetCAS(c.idx, ent)
		if err != nil || ok != c.want {
			t.Fatalf("%s: ok=%v err=%v", c.name, ok, err)
		}
	}
	if ok, _ := s.KVSDeleteCAS(5, 1, "k"); ok {
		t.Fatal("delete-cas with a stale index succeeded")
	}
	if ok, _ := s.KVSDeleteCAS(6, 4, "k"); !ok {
		t.Fatal("delete-cas with the right index failed")
	}
	if ok, _ := s.KVSDeleteCAS(7, 99, "k"); !ok {
		t.Fatal("delete-cas of an absent key must report success, as Consul does")
	}
}

func TestKVSListKeysSeparatorAndTombstoneIndex(t *testing.T) {
	s := testStore(t)
	for i, k := range []string{"foo/a", "foo/b/c", "foo/b/d", "foo/e", "bar"} {
		set(t, s, uint64(i+1), k, "v")
	}
	_, keys, err := s.KVSListKeys(nil, "foo/", "/")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"foo/a", "foo/b/", "foo/e"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	if err := s.KVSDelete(10, "foo/e"); err != nil {
		t.Fatal(err)
	}
	idx, ents, _ := s.KVSList(nil, "foo/")
	if len(ents) != 3 || idx != 10 {
		t.Fatalf("after delete: %d entries, index %d (want 3, 10 from the tombstone)", len(ents), idx)
	}
	if err := s.KVSDeleteTree(11, "foo/"); err != nil {
		t.Fatal(err)
	}
	if _, ents, _ := s.KVSList(nil, ""); len(ents) != 1 || ents[0].Key != "bar" {
		t.Fatalf("after delete-tree: %+v", ents)
	}
}

func TestKVSWatchFiresOnWrite(t *testing.T) {
	s := testStore(t)
	ws := memdb.NewWatchSet()
	if _, _, err := s.KVSGet(ws, "k"); err != nil {
		t.Fatal(err)
	}
	set(t, s, 1, "k", "v")
	if timedOut := ws.Watch(nil); timedOut {
		t.Fatal("watch did not fire on a write to the watched key")
	}
}

func TestTxnRWIsAtomic(t *testing.T) {
	s := testStore(t)
	set(t, s, 1, "existing", "v")
	ops := structs.TxnOps{
		{KV: &structs.TxnKVOp{Verb: structs.KVSet, DirEnt: structs.DirEntry{Key: "new", Value: []byte("x")}}},
		{KV: &structs.TxnKVOp{Verb: structs.KVCheckNotExists, DirEnt: structs.DirEntry{Key: "existing"}}},
	}
	results, errs := s.TxnRW(2, ops)
	if len(errs) != 1 || errs[0].OpIndex != 1 || results != nil {
		t.Fatalf("results=%v errs=%v", results, errs)
	}
	if _, e, _ := s.KVSGet(nil, "new"); e != nil {
		t.Fatal("a failed transaction wrote its first operation")
	}
	ops[1].KV.Verb = structs.KVGet
	results, errs = s.TxnRW(3, ops)
	if len(errs) != 0 || len(results) != 2 {
		t.Fatalf("results=%v errs=%v", results, errs)
	}
	if results[0].KV.Value != nil || string(results[1].KV.Value) != "v" {
		t.Fatalf("set must report no value and get must: %+v %+v", results[0].KV, results[1].KV)
	}
}
