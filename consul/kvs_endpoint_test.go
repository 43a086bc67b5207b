package consul

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
)

func kvPut(t *testing.T, s *Server, key, value string) {
	t.Helper()
	var ok bool
	args := structs.KVSRequest{Op: structs.KVSet, DirEnt: structs.DirEntry{Key: key, Value: []byte(value)}}
	if err := s.RPC("KVS.Apply", &args, &ok); err != nil || !ok {
		t.Fatalf("put %s: ok=%v err=%v", key, ok, err)
	}
}

func kvGet(t *testing.T, s *Server, key string) *structs.DirEntry {
	t.Helper()
	var out structs.IndexedDirEntries
	if err := s.RPC("KVS.Get", &structs.KeyRequest{Key: key}, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Entries) == 0 {
		return nil
	}
	return out.Entries[0]
}

func TestKVSApplyAndGetThroughRaft(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "a/b", "hello")
	e := kvGet(t, s, "a/b")
	if e == nil || string(e.Value) != "hello" || e.CreateIndex == 0 {
		t.Fatalf("got %+v", e)
	}
	var ok bool
	cas := structs.KVSRequest{Op: structs.KVCAS, DirEnt: structs.DirEntry{Key: "a/b", Value: []byte("x")}}
	cas.DirEnt.ModifyIndex = e.ModifyIndex + 100
	if err := s.RPC("KVS.Apply", &cas, &ok); err != nil || ok {
		t.Fatalf("stale cas: ok=%v err=%v", ok, err)
	}
}

func TestKVSApplyRejectsBadInput(t *testing.T) {
	s := testServer(t, nil)
	var ok bool
	err := s.RPC("KVS.Apply", &structs.KVSRequest{Op: structs.KVSet}, &ok)
	if !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("empty key: %v", err)
	}
	big := structs.KVSRequest{Op: structs.KVSet, DirEnt: structs.DirEntry{Key: "k", Value: make([]byte, structs.MaxKVSize+1)}}
	if err := s.RPC("KVS.Apply", &big, &ok); !errors.Is(err, structs.ErrTooLarge) {
		t.Fatalf("huge value: %v", err)
	}
	other := structs.KVSRequest{Datacenter: "dc9", Op: structs.KVSet, DirEnt: structs.DirEntry{Key: "k"}}
	if err := s.RPC("KVS.Apply", &other, &ok); !errors.Is(err, structs.ErrNoDCPath) {
		t.Fatalf("other dc: %v", err)
	}
}

func TestKVSBlockingGetWakesOnWrite(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "watched", "1")
	first := kvGet(t, s, "watched")
	done := make(chan *structs.IndexedDirEntries, 1)
	go func() {
		var out structs.IndexedDirEntries
		args := structs.KeyRequest{Key: "watched", QueryOptions: structs.QueryOptions{MinQueryIndex: first.ModifyIndex, MaxQueryTime: time.Minute}}
		if err := s.RPC("KVS.Get", &args, &out); err != nil {
			t.Error(err)
		}
		done <- &out
	}()
	select {
	case <-done:
		t.Fatal("blocking query returned before any write")
	case <-time.After(100 * time.Millisecond):
	}
	kvPut(t, s, "watched", "2")
	select {
	case out := <-done:
		if out.Index <= first.ModifyIndex || string(out.Entries[0].Value) != "2" {
			t.Fatalf("woke with index %d and %+v", out.Index, out.Entries)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not wake on a write")
	}
}

func TestKVSBlockingGetTimesOut(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "k", "v")
	e := kvGet(t, s, "k")
	var out structs.IndexedDirEntries
	args := structs.KeyRequest{Key: "k", QueryOptions: structs.QueryOptions{MinQueryIndex: e.ModifyIndex, MaxQueryTime: 50 * time.Millisecond}}
	if err := s.RPC("KVS.Get", &args, &out); err != nil {
		t.Fatal(err)
	}
	if out.Index != e.ModifyIndex {
		t.Fatalf("timed-out query reported index %d, want %d", out.Index, e.ModifyIndex)
	}
}

func TestTxnApplyAtomicThroughRaft(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "exists", "v")
	args := structs.TxnRequest{Ops: structs.TxnOps{
		{KV: &structs.TxnKVOp{Verb: structs.KVSet, DirEnt: structs.DirEntry{Key: "t1", Value: []byte("a")}}},
		{KV: &structs.TxnKVOp{Verb: structs.KVCheckNotExists, DirEnt: structs.DirEntry{Key: "exists"}}},
	}}
	var resp structs.TxnResponse
	if err := s.RPC("Txn.Apply", &args, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Errors) != 1 || resp.Errors[0].What != `key "exists" exists` {
		t.Fatalf("errors = %+v", resp.Errors)
	}
	if kvGet(t, s, "t1") != nil {
		t.Fatal("rolled-back transaction left a write")
	}
	tooMany := structs.TxnRequest{}
	for i := 0; i <= structs.MaxTxnOps; i++ {
		tooMany.Ops = append(tooMany.Ops, &structs.TxnOp{KV: &structs.TxnKVOp{Verb: structs.KVSet, DirEnt: structs.DirEntry{Key: fmt.Sprint(i)}}})
	}
	if err := s.RPC("Txn.Apply", &tooMany, &resp); !errors.Is(err, structs.ErrTooLarge) {
		t.Fatalf("65 ops: %v", err)
	}
}

func TestStateSurvivesRestartAndCompaction(t *testing.T) {
	c := testConfig(t)
	c.RaftConfig.TrailingLogs = 10
	s := testServer(t, c)
	for i := 0; i < 50; i++ {
		kvPut(t, s, fmt.Sprintf("key/%03d", i), fmt.Sprint(i))
	}
	// Compact: raft snapshots the FSM and drops the log before it.
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	for i := 50; i < 60; i++ {
		kvPut(t, s, fmt.Sprintf("key/%03d", i), fmt.Sprint(i))
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	// Same data dir, new process state: Raft restores its snapshot, then
	// replays the log after it.
	c2 := testConfig(t)
	c2.DataDir = c.DataDir
	s2 := testServer(t, c2)
	for i := 0; i < 60; i++ {
		e := kvGet(t, s2, fmt.Sprintf("key/%03d", i))
		if e == nil || string(e.Value) != fmt.Sprint(i) {
			t.Fatalf("key/%03d after restart: %+v", i, e)
		}
	}
}

func TestLeaderReapsOldTombstones(t *testing.T) {
	c := testConfig(t)
	c.TombstoneTTL = 300 * time.Millisecond
	c.TombstoneGranularity = 50 * time.Millisecond
	s := testServer(t, c)
	kvPut(t, s, "gone/a", "1")
	kvPut(t, s, "gone/b", "2")
	var ok bool
	del := structs.KVSRequest{Op: structs.KVDeleteTree, DirEnt: structs.DirEntry{Key: "gone/"}}
	if err := s.RPC("KVS.Apply", &del, &ok); err != nil {
		t.Fatal(err)
	}
	store := s.fsm.State()
	if !store.HasTombstonesUpTo(^uint64(0)) {
		t.Fatal("a delete left no tombstone")
	}
	testutil.Retry(t, 10*time.Second, "the tombstones are reaped", func() error {
		if s.fsm.State().HasTombstonesUpTo(^uint64(0)) {
			return errors.New("tombstones older than the TTL were not reaped")
		}
		return nil
	})
	// The dump still knows its exact size after the reap.
	archive, _ := save(t, s, false)
	if _, err := snapshot.Verify(bytes.NewReader(archive), int64(len(archive))); err != nil {
		t.Fatal(err)
	}
}
