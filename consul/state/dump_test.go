package state

import (
	"bytes"
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
)

// churn applies a mix of writes that exercise every path that changes a
// dumped table's size: create, overwrite with a longer and a shorter
// value, delete, delete-tree, CAS, and a delete of a key deleted before.
func churn(t *testing.T, s *Store, n int) uint64 {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	idx := uint64(1)
	register(t, s, idx, &structs.RegisterRequest{Node: "churn", Address: "10.0.0.1"})
	sessions := []string{}
	for i := 0; i < n; i++ {
		idx++
		key := fmt.Sprintf("k/%d/%d", i%7, rng.Intn(n))
		val := make([]byte, rng.Intn(300))
		rng.Read(val)
		switch rng.Intn(9) {
		case 0, 1, 2:
			set(t, s, idx, key, string(val))
		case 3:
			if err := s.KVSDelete(idx, key); err != nil {
				t.Fatal(err)
			}
		case 4:
			ent := &structs.DirEntry{Key: key, Value: val, Flags: uint64(rng.Intn(1 << 20))}
			ent.ModifyIndex = uint64(rng.Intn(int(idx)))
			if _, err := s.KVSSetCAS(idx, ent); err != nil {
				t.Fatal(err)
			}
		case 5:
			if i%50 == 0 {
				if err := s.KVSDeleteTree(idx, fmt.Sprintf("k/%d/", i%7)); err != nil {
					t.Fatal(err)
				}
			}
		case 6:
			sess := &structs.Session{ID: fmt.Sprintf("s-%d-%d", n, i), Node: "churn", Name: string(val[:len(val)%20]),
				Behavior: []structs.SessionBehavior{structs.SessionKeysRelease, structs.SessionKeysDelete}[i%2]}
			if err := s.SessionCreate(idx, sess); err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, sess.ID)
		case 7:
			if len(sessions) > 0 {
				ent := &structs.DirEntry{Key: key, Value: val, Session: sessions[rng.Intn(len(sessions))]}
				lock := s.KVSLock
				if i%3 == 0 {
					lock = s.KVSUnlock
				}
				if _, err := lock(idx, ent); err != nil {
					t.Fatal(err)
				}
			}
		case 8:
			if len(sessions) > 0 && i%4 == 0 {
				j := rng.Intn(len(sessions))
				if err := s.SessionDestroy(idx, sessions[j]); err != nil {
					t.Fatal(err)
				}
				sessions = append(sessions[:j], sessions[j+1:]...)
			}
		}
	}
	return idx
}

func dump(t *testing.T, s *Store, idx uint64) []byte {
	t.Helper()
	snap := s.Snapshot(structs.SnapshotHeader{LastIndex: idx})
	defer snap.Release()
	var buf bytes.Buffer
	if err := snap.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	size, err := snap.Size()
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(buf.Len()) {
		t.Fatalf("Size() = %d but Dump wrote %d bytes", size, buf.Len())
	}
	return buf.Bytes()
}

func TestDumpSizeMatchesDumpAfterChurn(t *testing.T) {
	s := testStore(t)
	for _, n := range []int{0, 10, 2000} {
		idx := churn(t, s, n)
		dump(t, s, idx)
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	s := testStore(t)
	idx := churn(t, s, 3000)
	first := dump(t, s, idx)
	restored, h, err := Restore(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if h.LastIndex != idx {
		t.Fatalf("header index %d, want %d", h.LastIndex, idx)
	}
	// The restored store dumps to the same bytes and knows its size.
	if second := dump(t, restored, idx); !bytes.Equal(first, second) {
		t.Fatal("a restored store does not dump to the same bytes")
	}
	i1, e1, _ := s.KVSList(nil, "")
	i2, e2, _ := restored.KVSList(nil, "")
	if i1 != i2 || !reflect.DeepEqual(e1, e2) {
		t.Fatalf("list differs after restore: index %d vs %d, %d vs %d entries", i1, i2, len(e1), len(e2))
	}
	locked := 0
	for _, e := range e2 {
		if e.Session != "" {
			locked++
		}
	}
	_, s1, _ := s.SessionList(nil, "")
	_, s2, _ := restored.SessionList(nil, "")
	if locked == 0 || len(s2) == 0 || !reflect.DeepEqual(s1, s2) {
		t.Fatalf("sessions and locks did not round-trip: %d locked keys, %d vs %d sessions", locked, len(s1), len(s2))
	}
}

// TestRestoreSharesUnchangedValues: a store built beside the current one
// takes the current copy of every value that did not change, and only
// those, whether the dump holds its keys in order or not; what it holds
// is what a plain restore gives.
func TestRestoreSharesUnchangedValues(t *testing.T) {
	archived := testStore(t)
	current := testStore(t)
	for i := 0; i < 60; i++ {
		key := fmt.Sprintf("k/%02d", i)
		set(t, archived, uint64(i+1), key, fmt.Sprintf("value %d", i))
		switch i % 3 {
		case 0:
			set(t, current, uint64(i+1), key, fmt.Sprintf("value %d", i))
		case 1:
			set(t, current, uint64(i+1), key, "changed since")
		}
	}
	set(t, current, 99, "z/only/here", "current")
	inOrder := dump(t, archived, 60)
	for name, data := range map[string][]byte{"in order": inOrder, "reversed": reversedDump(t, inOrder)} {
		b, err := NewBuilder(current)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := snapshot.ReadState(bytes.NewReader(data), b.Record); err != nil {
			t.Fatal(err)
		}
		shared, err := b.Store()
		if err != nil {
			t.Fatal(err)
		}
		plain, _, err := Restore(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		_, got, _ := shared.KVSList(nil, "")
		_, want, _ := plain.KVSList(nil, "")
		if !reflect.DeepEqual(got, want) || len(got) != 60 {
			t.Fatalf("%s: a sharing restore differs from a plain one", name)
		}
		for i, e := range got {
			_, cur, _ := current.KVSGet(nil, e.Key)
			same := cur != nil && &cur.Value[0] == &e.Value[0]
			if same != (i%3 == 0) {
				t.Fatalf("%s: %s shares its value: %v, want %v", name, e.Key, same, i%3 == 0)
			}
		}
	}
}

// reversedDump is dump data with its KV records in reverse order.
func reversedDump(t *testing.T, data []byte) []byte {
	t.Helper()
	var kvs []*structs.DirEntry
	var others []func(*snapshot.StateEncoder) error
	h, err := snapshot.ReadState(bytes.NewReader(data), func(mt structs.MessageType, rec interface{}) error {
		if e, ok := rec.(*structs.DirEntry); ok {
			// Its Value views the reader's buffer.
			c := *e
			c.Value = bytes.Clone(e.Value)
			if rec = &c; mt == structs.KVSRequestType {
				kvs = append(kvs, &c)
				return nil
			}
		}
		others = append(others, func(enc *snapshot.StateEncoder) error { return enc.Record(mt, rec) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc, err := snapshot.NewStateEncoder(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(kvs) - 1; i >= 0; i-- {
		if err := enc.Record(structs.KVSRequestType, kvs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, write := range others {
		if err := write(enc); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestSnapshotIsPointInTime(t *testing.T) {
	s := testStore(t)
	set(t, s, 1, "a", "before")
	snap := s.Snapshot(structs.SnapshotHeader{LastIndex: 1})
	defer snap.Release()
	set(t, s, 2, "a", "after")
	set(t, s, 3, "b", "new")
	var buf bytes.Buffer
	if err := snap.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	restored, _, err := Restore(&buf)
	if err != nil {
		t.Fatal(err)
	}
	_, ents, _ := restored.KVSList(nil, "")
	if len(ents) != 1 || string(ents[0].Value) != "before" {
		t.Fatalf("snapshot saw later writes: %+v", ents)
	}
}

// BenchmarkRestore builds a store from a dump of 100,000 KV entries of
// 512 bytes: the FSM's half of a restore.
func BenchmarkRestore(b *testing.B) {
	s, _ := NewStore()
	value := make([]byte, 512)
	for i := 0; i < 100000; i++ {
		if err := s.KVSSet(uint64(i+1), &structs.DirEntry{Key: fmt.Sprintf("bench/%06d", i), Value: value}); err != nil {
			b.Fatal(err)
		}
	}
	snap := s.Snapshot(structs.SnapshotHeader{LastIndex: 100000})
	var buf bytes.Buffer
	if err := snap.Dump(&buf); err != nil {
		b.Fatal(err)
	}
	snap.Release()
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Restore(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
