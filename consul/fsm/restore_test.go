package fsm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/consulcompat/consul/consul/staging"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := testutil.FindLeaks(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// localStaged is Staged over a real staging directory with no peers:
// OpenStaged fails with ErrStopping once stop is closed and the dump is
// not there, as a server's does when it shuts down.
type localStaged struct {
	store *staging.Store
	stop  chan struct{}

	mu      sync.Mutex
	dropped int
	applied map[string]uint64
}

func newLocalStaged(t *testing.T) *localStaged {
	t.Helper()
	store, _, err := staging.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return &localStaged{store: store, stop: make(chan struct{}), applied: map[string]uint64{}}
}

func (l *localStaged) OpenStaged(sum []byte, _ int64) (io.ReadCloser, error) {
	rc, _, err := l.store.Open(sum)
	if err == nil {
		return rc, nil
	}
	<-l.stop
	return nil, ErrStopping
}

func (l *localStaged) DropStaged(sum []byte) {
	l.mu.Lock()
	l.dropped++
	l.mu.Unlock()
	l.store.Remove(sum)
}

func (l *localStaged) Applied(sum []byte, index uint64) {
	l.mu.Lock()
	l.applied[string(sum)] = index
	l.mu.Unlock()
}

// stage puts dump in the staging directory and returns its SHA-256.
func (l *localStaged) stage(t *testing.T, dump []byte) []byte {
	t.Helper()
	w, err := l.store.Create(int64(len(dump)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Write(dump)
	sum := sha256.Sum256(dump)
	if err := w.Commit(sum[:]); err != nil {
		t.Fatal(err)
	}
	return sum[:]
}

// newFSM is an FSM over staged.
func newFSM(t *testing.T, staged Staged) *FSM {
	t.Helper()
	f, err := New(hclog.NewNullLogger(), staged)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// set applies a KV set of key=value at Raft index, and fails the test on
// an error.
func set(t *testing.T, f *FSM, index uint64, key, value string) {
	t.Helper()
	buf, err := structs.Encode(structs.KVSRequestType, &structs.KVSRequest{
		Op: structs.KVSet, DirEnt: structs.DirEntry{Key: key, Value: []byte(value)}})
	if err != nil {
		t.Fatal(err)
	}
	if resp := f.Apply(&raft.Log{Index: index, Term: 1, Data: buf}); resp != nil {
		t.Fatal(resp)
	}
}

// get is key's entry in f's state, nil if none.
func get(t *testing.T, f *FSM, key string) *structs.DirEntry {
	t.Helper()
	_, e, err := f.State().KVSGet(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// dumpOf is f's state dump.
func dumpOf(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, _ := f.SnapshotState()
	defer snap.Release()
	var buf bytes.Buffer
	if err := snap.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stagedState stages the dump of a state holding key=value, written at
// index, and returns the dump and its SHA-256.
func stagedState(t *testing.T, staged *localStaged, index uint64, key, value string) ([]byte, []byte) {
	t.Helper()
	source := newFSM(t, nil)
	set(t, source, index, key, value)
	dump := dumpOf(t, source)
	return dump, staged.stage(t, dump)
}

// restoreEntry is the log entry that restores the dump sum.
func restoreEntry(t *testing.T, index uint64, sum []byte, size int) *raft.Log {
	t.Helper()
	buf, err := structs.Encode(structs.RestoreRequestType, &structs.RestoreRequest{ID: "test", SHA256: sum, Size: int64(size)})
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Term: 2, Data: buf}
}

// TestRestoreEntrySwitchesTheState: applying a restore entry replaces the
// state by the staged dump's, wakes readers of the old one, and reports
// the dump as applied at its index.
func TestRestoreEntrySwitchesTheState(t *testing.T) {
	staged := newLocalStaged(t)
	dump, sum := stagedState(t, staged, 5, "restored", "new")

	f := newFSM(t, staged)
	set(t, f, 3, "current", "old")
	abandoned := f.State().AbandonCh()
	if resp := f.Apply(restoreEntry(t, 10, sum, len(dump))); resp != nil {
		t.Fatal(resp)
	}
	if e := get(t, f, "restored"); e == nil || string(e.Value) != "new" {
		t.Fatalf("restored key: %+v", e)
	}
	if e := get(t, f, "current"); e != nil {
		t.Fatalf("the old state survived the restore: %+v", e)
	}
	select {
	case <-abandoned:
	default:
		t.Fatal("readers of the old state were not woken")
	}
	if staged.applied[string(sum)] != 10 {
		t.Fatalf("applied = %v, want the dump at index 10", staged.applied)
	}
}

// TestRestoreEntryLiftsLaterIndexes: after a restore of a state whose
// indexes run past the log's, every later write carries an index above
// them, every server numbering alike (the offset travels in Raft's own
// snapshots), and a restore of an older state keeps the indexes rising.
func TestRestoreEntryLiftsLaterIndexes(t *testing.T) {
	staged := newLocalStaged(t)
	dump, sum := stagedState(t, staged, 1000, "far", "ahead")

	f := newFSM(t, staged)
	set(t, f, 3, "a", "1")
	if resp := f.Apply(restoreEntry(t, 4, sum, len(dump))); resp != nil {
		t.Fatal(resp)
	}
	set(t, f, 5, "b", "2")
	if e := get(t, f, "b"); e == nil || e.ModifyIndex <= 1000 {
		t.Fatalf("a write after the restore carries index %d, not above the restored 1000", e.ModifyIndex)
	}
	if got := f.AppliedIndex(); got != get(t, f, "b").ModifyIndex {
		t.Fatalf("AppliedIndex = %d, want the last write's %d", got, get(t, f, "b").ModifyIndex)
	}

	// A server that installs this FSM's snapshot numbers the next entry
	// as this one does.
	other := newFSM(t, staged)
	if err := other.Restore(io.NopCloser(bytes.NewReader(dumpOf(t, f)))); err != nil {
		t.Fatal(err)
	}
	set(t, f, 6, "c", "3")
	set(t, other, 6, "c", "3")
	if a, b := get(t, f, "c").ModifyIndex, get(t, other, "c").ModifyIndex; a != b {
		t.Fatalf("the same entry got index %d on one server and %d on the other", a, b)
	}

	// Restoring an old, low state again does not lower the offset.
	low := newFSM(t, nil)
	set(t, low, 2, "old", "x")
	lowDump := dumpOf(t, low)
	lowSum := staged.stage(t, lowDump)
	before := f.AppliedIndex()
	if resp := f.Apply(restoreEntry(t, 7, lowSum, len(lowDump))); resp != nil {
		t.Fatal(resp)
	}
	set(t, f, 8, "d", "4")
	if e := get(t, f, "d"); e.ModifyIndex <= before {
		t.Fatalf("index %d after a restore of an older state, not above %d before it", e.ModifyIndex, before)
	}
}

// TestRestoreEntryAdoptsTheOfferedStore: the leader's store, built from
// the upload, is taken instead of decoding the dump again; an offer of
// another dump is left alone.
func TestRestoreEntryAdoptsTheOfferedStore(t *testing.T) {
	staged := newLocalStaged(t)
	dump, sum := stagedState(t, staged, 5, "k", "v")

	f := newFSM(t, staged)
	b, err := state.NewBuilder(f.State())
	if err != nil {
		t.Fatal(err)
	}
	h, err := snapshot.ReadState(bytes.NewReader(dump), b.Record)
	if err != nil {
		t.Fatal(err)
	}
	f.OfferRestore(sum, b, h)
	// The staged dump is removed: only the offer can serve the entry.
	staged.store.Remove(sum)
	if resp := f.Apply(restoreEntry(t, 9, sum, len(dump))); resp != nil {
		t.Fatal(resp)
	}
	if e := get(t, f, "k"); e == nil || string(e.Value) != "v" {
		t.Fatalf("state after adopting the offer: %+v", e)
	}
	f.WithdrawRestore(sum) // a no-op once adopted

	other := newFSM(t, staged)
	b2, _ := state.NewBuilder(nil)
	other.OfferRestore([]byte("another dump"), b2, structs.SnapshotHeader{})
	sum2 := staged.stage(t, dump)
	if resp := other.Apply(restoreEntry(t, 9, sum2, len(dump))); resp != nil {
		t.Fatal(resp)
	}
	if other.takeOffer([]byte("another dump")) == nil {
		t.Fatal("an offer of another dump was taken")
	}
}

// TestRestoreEntryFetchesADamagedDumpAgain: a staged dump the disk
// damaged is dropped and opened again, not applied.
func TestRestoreEntryFetchesADamagedDumpAgain(t *testing.T) {
	staged := newLocalStaged(t)
	dump, sum := stagedState(t, staged, 5, "k", "v")
	path := staged.store.Dir() + "/" + fmt.Sprintf("%x", sum) + ".dump"
	testutil.FlipByte(t, path)

	f := newFSM(t, &refetch{localStaged: staged, good: dump})
	if resp := f.Apply(restoreEntry(t, 9, sum, len(dump))); resp != nil {
		t.Fatal(resp)
	}
	if staged.dropped != 1 {
		t.Fatalf("the damaged dump was dropped %d times, want once", staged.dropped)
	}
	if e := get(t, f, "k"); e == nil || string(e.Value) != "v" {
		t.Fatalf("state after the second try: %+v", e)
	}
}

// refetch stages the good dump again when it is opened after a drop, as
// a fetch from a peer would.
type refetch struct {
	*localStaged
	good []byte
}

func (r *refetch) OpenStaged(sum []byte, size int64) (io.ReadCloser, error) {
	if !r.store.Has(sum) {
		w, _ := r.store.Create(int64(len(r.good)))
		w.Write(r.good)
		if err := w.Commit(sum); err != nil {
			return nil, err
		}
	}
	return r.localStaged.OpenStaged(sum, size)
}

// TestRestoreEntryWhenStopping: a restore entry whose dump cannot be had
// before the server stops leaves the state as it was, and the FSM then
// neither applies later entries nor takes snapshots, so that the state
// behind the log is never written down; the next start applies it again.
func TestRestoreEntryWhenStopping(t *testing.T) {
	staged := newLocalStaged(t)
	f := newFSM(t, staged)
	set(t, f, 3, "current", "old")
	close(staged.stop)
	missing := sha256.Sum256([]byte("never staged"))
	resp := f.Apply(restoreEntry(t, 4, missing[:], 12))
	if err, ok := resp.(error); !ok || !errors.Is(err, ErrStopping) {
		t.Fatalf("Apply = %v, want ErrStopping", resp)
	}
	if e := get(t, f, "current"); e == nil {
		t.Fatal("the state changed")
	}
	buf, _ := structs.Encode(structs.KVSRequestType, &structs.KVSRequest{Op: structs.KVSet, DirEnt: structs.DirEntry{Key: "later"}})
	if resp := f.Apply(&raft.Log{Index: 5, Term: 2, Data: buf}); resp == nil {
		t.Fatal("an entry after the unapplied restore was applied")
	}
	if _, err := f.Snapshot(); err == nil {
		t.Fatal("a snapshot was taken of a state behind the log")
	}
}
