package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// TestMain fails the package if a test leaves a goroutine behind, such
// as the decoder of an upload's stream.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := testutil.FindLeaks(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// fsmWith is an FSM whose state holds key=value, written at index.
func fsmWith(t *testing.T, index uint64, key, value string) *FSM {
	t.Helper()
	f, err := New(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	buf, err := structs.Encode(structs.KVSRequestType, &structs.KVSRequest{
		Op: structs.KVSet, DirEnt: structs.DirEntry{Key: key, Value: []byte(value)}})
	if err != nil {
		t.Fatal(err)
	}
	if resp := f.Apply(&raft.Log{Index: index, Term: 1, Data: buf}); resp != nil {
		t.Fatal(resp)
	}
	return f
}

// dumpOf is f's state dump, as Raft's copy of a snapshot holds it.
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

// archiveOf is an archive of f's state, as a save writes it.
func archiveOf(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, _ := f.SnapshotState()
	defer snap.Release()
	size, err := snap.Size()
	if err != nil {
		t.Fatal(err)
	}
	meta := &raft.SnapshotMeta{Version: 1, ID: "test", Index: snap.LastIndex(), Term: 1, Size: size}
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, meta, snap.Dump); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openUpload opens archive as the snapshot endpoint does, building the new
// store beside f's; the test's end closes the stream and drops the store.
func openUpload(t *testing.T, f *FSM, archive []byte) (*state.Builder, *snapshot.StateStream) {
	t.Helper()
	b, err := state.NewBuilder(f.State())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Discard)
	_, st, err := snapshot.OpenStream(bytes.NewReader(archive), b.Record)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return b, st
}

// restoreCopy is what raft.Restore does with the dump: it copies it
// whole, then has the FSM restore the copy.
func restoreCopy(f *FSM, dump io.Reader) error {
	cp, err := io.ReadAll(dump)
	if err != nil {
		return err
	}
	return f.Restore(io.NopCloser(bytes.NewReader(cp)))
}

func valueOf(t *testing.T, f *FSM, key string) string {
	t.Helper()
	_, e, err := f.State().KVSGet(nil, key)
	if err != nil {
		t.Fatal(err)
	}
	if e == nil {
		return ""
	}
	return string(e.Value)
}

func TestRestoreUploadAdoptsTheBuiltStore(t *testing.T) {
	source := fsmWith(t, 7, "k", "uploaded")
	f := fsmWith(t, 3, "k", "current")
	b, st := openUpload(t, f, archiveOf(t, source))
	err := f.RestoreUpload(b, st, func(dump io.Reader) error { return restoreCopy(f, dump) })
	if err != nil {
		t.Fatal(err)
	}
	if v := valueOf(t, f, "k"); v != "uploaded" {
		t.Fatalf("k = %q after the restore", v)
	}
	snap, _ := f.SnapshotState()
	defer snap.Release()
	if snap.LastIndex() != 7 {
		t.Fatalf("last index %d, want the upload's 7", snap.LastIndex())
	}
}

// TestRestoreUploadRefusesACopyThatDiffers: Raft's copy is checked
// against the upload, even when it is a dump that decodes.
func TestRestoreUploadRefusesACopyThatDiffers(t *testing.T) {
	f := fsmWith(t, 3, "k", "current")
	b, st := openUpload(t, f, archiveOf(t, fsmWith(t, 7, "k", "uploaded")))
	other := dumpOf(t, fsmWith(t, 9, "k", "other"))
	err := f.RestoreUpload(b, st, func(dump io.Reader) error {
		if _, err := io.Copy(io.Discard, dump); err != nil {
			return err
		}
		return f.Restore(io.NopCloser(bytes.NewReader(other)))
	})
	if err == nil || !strings.Contains(err.Error(), "differs from the upload") {
		t.Fatalf("got %v, want a copy that differs", err)
	}
	if v := valueOf(t, f, "k"); v != "current" {
		t.Fatalf("k = %q after a refused restore", v)
	}
}

// TestRestoreDuringAnUnfinishedUpload: a snapshot installed while the
// upload still streams (by a new leader, say) is decoded from its own
// dump, and the upload is adopted afterwards all the same.
func TestRestoreDuringAnUnfinishedUpload(t *testing.T) {
	f := fsmWith(t, 3, "k", "current")
	b, st := openUpload(t, f, archiveOf(t, fsmWith(t, 7, "k", "uploaded")))
	err := f.RestoreUpload(b, st, func(dump io.Reader) error {
		if err := f.Restore(io.NopCloser(bytes.NewReader(dumpOf(t, fsmWith(t, 9, "k", "installed"))))); err != nil {
			return err
		}
		if v := valueOf(t, f, "k"); v != "installed" {
			t.Errorf("k = %q after a snapshot installed mid-upload", v)
		}
		return restoreCopy(f, dump)
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := valueOf(t, f, "k"); v != "uploaded" {
		t.Fatalf("k = %q after the restore", v)
	}
}

// TestRestoreAfterRestoreUploadReturned: once Raft gave up on a user
// restore, its upload is withdrawn, though its stream ended cleanly.
func TestRestoreAfterRestoreUploadReturned(t *testing.T) {
	f := fsmWith(t, 3, "k", "current")
	b, st := openUpload(t, f, archiveOf(t, fsmWith(t, 7, "k", "uploaded")))
	refused := errors.New("raft refused the restore")
	err := f.RestoreUpload(b, st, func(dump io.Reader) error {
		if _, err := io.Copy(io.Discard, dump); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("got %v, want restore's own error", err)
	}
	if err := f.Restore(io.NopCloser(bytes.NewReader(dumpOf(t, fsmWith(t, 9, "k", "installed"))))); err != nil {
		t.Fatal(err)
	}
	if v := valueOf(t, f, "k"); v != "installed" {
		t.Fatalf("k = %q, want the installed snapshot's", v)
	}
}
