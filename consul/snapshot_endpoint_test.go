package consul

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
)

// save takes an archive through SnapshotRPC, as the HTTP handler does.
func save(t *testing.T, s *Server, stale bool) ([]byte, uint64) {
	t.Helper()
	var buf bytes.Buffer
	var index uint64
	args := structs.SnapshotRequest{Op: structs.SnapshotSave, AllowStale: stale}
	err := s.SnapshotRPC(&args, nil, func(r *structs.SnapshotResponse) (io.Writer, error) {
		index = r.Index
		return &buf, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), index
}

func restore(s *Server, archive []byte) error {
	return restoreFrom(s, bytes.NewReader(archive))
}

// restoreFrom restores the archive that upload reads.
func restoreFrom(s *Server, upload io.Reader) error {
	args := structs.SnapshotRequest{Op: structs.SnapshotRestore}
	return s.SnapshotRPC(&args, upload, func(*structs.SnapshotResponse) (io.Writer, error) {
		return io.Discard, nil
	})
}

func TestSnapshotSaveRestoreRoundTrip(t *testing.T) {
	s := testServer(t, nil)
	for i := 0; i < 100; i++ {
		kvPut(t, s, fmt.Sprintf("k/%d", i), fmt.Sprint(i))
	}
	archive, index := save(t, s, false)
	meta, err := snapshot.Verify(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	if meta.Index != index || index == 0 {
		t.Fatalf("meta index %d, reply index %d", meta.Index, index)
	}
	var ok bool
	del := structs.KVSRequest{Op: structs.KVDeleteTree, DirEnt: structs.DirEntry{Key: "k/"}}
	if err := s.RPC("KVS.Apply", &del, &ok); err != nil {
		t.Fatal(err)
	}
	kvPut(t, s, "after", "save")
	if err := restore(s, archive); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if e := kvGet(t, s, fmt.Sprintf("k/%d", i)); e == nil || string(e.Value) != fmt.Sprint(i) {
			t.Fatalf("k/%d after restore: %+v", i, e)
		}
	}
	if kvGet(t, s, "after") != nil {
		t.Fatal("a key written after the save survived the restore")
	}
	if !s.IsLeader() {
		t.Fatal("server lost leadership across a restore")
	}
	// Writes go on after a restore, and a restore into a fresh server works.
	kvPut(t, s, "after", "restore")
	fresh := testServer(t, nil)
	if err := restore(fresh, archive); err != nil {
		t.Fatal(err)
	}
	if e := kvGet(t, fresh, "k/42"); e == nil || string(e.Value) != "42" {
		t.Fatalf("fresh server after restore: %+v", e)
	}
}

func TestSnapshotSaveOfEmptyState(t *testing.T) {
	s := testServer(t, nil)
	archive, index := save(t, s, false)
	if index == 0 {
		t.Fatal("an empty state's archive has index 0")
	}
	if err := restore(s, archive); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotRestoreRejectsCorruptArchive(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "precious", "data")
	archive, _ := save(t, s, false)
	kvPut(t, s, "later", "write")
	cases := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("this is not a zip archive"),
		"truncated": archive[:len(archive)/2],
		"bit flip":  flip(t, archive),
	}
	for name, bad := range cases {
		err := restore(s, bad)
		if !errors.Is(err, snapshot.ErrCorrupt) {
			t.Fatalf("%s: got %v, want ErrCorrupt", name, err)
		}
		if e := kvGet(t, s, "later"); e == nil {
			t.Fatalf("%s: a rejected restore changed the state", name)
		}
		if !s.IsLeader() {
			t.Fatalf("%s: server lost leadership", name)
		}
	}
	// Raft's snapshot store is where a streamed upload goes: a rejected
	// one must leave nothing there.
	if left, _ := filepath.Glob(filepath.Join(s.config.DataDir, "raft", "snapshots", "*")); len(left) != 0 {
		t.Fatalf("rejected uploads left files: %v", left)
	}
}

// flip changes one bit in the middle of state.bin's compressed data.
func flip(t *testing.T, b []byte) []byte {
	t.Helper()
	from, to := snapshottest.DataRegion(t, b, snapshot.StateName)
	c := append([]byte(nil), b...)
	c[from+(to-from)/2] ^= 0x40
	return c
}

func TestSnapshotSaveIsPointInTimeUnderWrites(t *testing.T) {
	s := testServer(t, nil)
	for i := 0; i < 200; i++ {
		kvPut(t, s, fmt.Sprintf("base/%d", i), "v")
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var ok bool
				args := structs.KVSRequest{Op: structs.KVSet, DirEnt: structs.DirEntry{Key: fmt.Sprintf("w%d/%d", w, i), Value: []byte("x")}}
				if err := s.RPC("KVS.Apply", &args, &ok); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	defer func() { close(stop); wg.Wait() }()
	for round := 0; round < 5; round++ {
		archive, index := save(t, s, false)
		meta, state, err := snapshot.Read(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatal(err)
		}
		// Every record in the archive was written at or before its index.
		_, err = snapshot.ReadState(state, func(typ structs.MessageType, rec interface{}) error {
			if e, ok := rec.(*structs.DirEntry); ok && typ == structs.KVSRequestType && e.ModifyIndex > index {
				return fmt.Errorf("key %s modified at %d is in an archive of index %d", e.Key, e.ModifyIndex, index)
			}
			return nil
		})
		state.Close()
		if err != nil || meta.Index != index {
			t.Fatalf("round %d: %v (meta index %d, reply %d)", round, err, meta.Index, index)
		}
	}
}

func TestSnapshotStaleSaveAndOtherDatacenter(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "k", "v")
	if archive, _ := save(t, s, true); len(archive) == 0 {
		t.Fatal("stale save wrote nothing")
	}
	args := structs.SnapshotRequest{Datacenter: "elsewhere", Op: structs.SnapshotSave}
	err := s.SnapshotRPC(&args, nil, func(*structs.SnapshotResponse) (io.Writer, error) {
		t.Fatal("reply started for an unknown datacenter")
		return nil, nil
	})
	if !errors.Is(err, structs.ErrNoDCPath) {
		t.Fatalf("got %v", err)
	}
}

func TestRestoreWakesBlockingQueries(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "watched", "old")
	archive, _ := save(t, s, false)
	kvPut(t, s, "watched", "new")
	cur := kvGet(t, s, "watched")
	done := make(chan *structs.IndexedDirEntries, 1)
	go func() {
		var out structs.IndexedDirEntries
		args := structs.KeyRequest{Key: "watched", QueryOptions: structs.QueryOptions{MinQueryIndex: cur.ModifyIndex, MaxQueryTime: time.Minute}}
		if err := s.RPC("KVS.Get", &args, &out); err != nil {
			t.Error(err)
		}
		done <- &out
	}()
	time.Sleep(50 * time.Millisecond)
	if err := restore(s, archive); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		// The restored state is older, so its index went back: the reply
		// carries the restored value, and clients reset on a lower index.
		if len(out.Entries) != 1 || string(out.Entries[0].Value) != "old" {
			t.Fatalf("woke with %+v", out.Entries)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a restore did not wake a blocking query")
	}
}

// TestRestoreRefusesDumpTheStoreCannotHold: an archive whose hashes are
// right but whose dump holds a record the state store would refuse must
// be rejected before Raft sees it, since Raft stops the server when a
// restore fails halfway.
func TestRestoreRefusesDumpTheStoreCannotHold(t *testing.T) {
	s := testServer(t, nil)
	kvPut(t, s, "keep", "me")
	archive := snapshottest.Archive(t, 5, snapshottest.Record{Type: structs.KVSRequestType, Value: &structs.DirEntry{Key: "", Value: []byte("no key")}})
	if err := restore(s, archive); !errors.Is(err, snapshot.ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if e := kvGet(t, s, "keep"); e == nil || !s.IsLeader() {
		t.Fatal("state or leadership lost")
	}
}

// TestSnapshotRestoreLimit: an archive whose meta.json declares a
// state.bin over the restore limit is refused as too large, saying where
// the limit comes from, and changes nothing; one that fits restores. The
// default limit is a twentieth of the memory.
func TestSnapshotRestoreLimit(t *testing.T) {
	c := testConfig(t)
	c.RestoreMaxStateBytes = 4 << 20
	s := testServer(t, c)
	kvPut(t, s, "precious", "data")
	fits, _ := save(t, s, false)
	kvPut(t, s, "later", "write")

	bomb := snapshottest.NewBomb(t, 16, 512<<10, false) // 8 MiB
	err := restore(s, bomb.Archive(t, bomb.Size))
	if !errors.Is(err, snapshot.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	want := fmt.Sprintf("state.bin would be %d bytes (8.0 MiB), over the limit of 4194304 bytes (4.0 MiB), set by limits.restore_max_state_bytes; raise it to restore this archive", bomb.Size)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q, want it to say %q", err, want)
	}
	if e := kvGet(t, s, "later"); e == nil || !s.IsLeader() {
		t.Fatal("a refused restore changed the state or cost the leadership")
	}
	if left, _ := filepath.Glob(filepath.Join(s.config.DataDir, "raft", "snapshots", "*")); len(left) != 0 {
		t.Fatalf("a refused restore left files: %v", left)
	}
	if err := restore(s, fits); err != nil {
		t.Fatal(err)
	}
	if kvGet(t, s, "later") != nil || kvGet(t, s, "precious") == nil {
		t.Fatal("the archive under the limit was not restored")
	}

	mem, _ := machineMemory("/")
	unset := &Server{config: DefaultConfig()}
	if limit, source := unset.restoreLimit(); mem == 0 || limit != mem/20 || !strings.Contains(source, "a twentieth of this server's") {
		t.Fatalf("default limit %d (%s), memory %d", limit, source, mem)
	}
}
