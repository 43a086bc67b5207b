package staging

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func stage(t *testing.T, s *Store, data []byte) []byte {
	t.Helper()
	w, err := s.Create(int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if err := w.Commit(sum[:]); err != nil {
		t.Fatal(err)
	}
	return sum[:]
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestStageOpenRemove(t *testing.T) {
	s, _, err := Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("dump"), 1000)
	sum := stage(t, s, data)
	if !s.Has(sum) {
		t.Fatal("Has: false after Commit")
	}
	r, size, err := s.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) || size != int64(len(data)) {
		t.Fatalf("read back %d bytes (size %d), %v", len(got), size, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || !bytes.Equal(list[0].SHA256, sum) || list[0].Size != int64(len(data)) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := s.Remove(sum); err != nil || s.Has(sum) {
		t.Fatalf("Remove: %v, still there: %v", err, s.Has(sum))
	}
	if err := s.Remove(sum); err != nil {
		t.Fatalf("Remove of a dump already gone: %v", err)
	}
	if _, _, err := s.Open(sum); !errors.Is(err, ErrNotStaged) {
		t.Fatalf("Open after Remove: %v, want ErrNotStaged", err)
	}
}

func TestCommitRefusesWhatWasNotAnnounced(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("the dump")
	good := sha256.Sum256(data)
	for _, tc := range []struct {
		name  string
		size  int64
		write []byte
		sum   []byte
	}{
		{"fewer bytes", int64(len(data)) + 1, data, good[:]},
		{"another SHA-256", int64(len(data)), data, make([]byte, sha256.Size)},
	} {
		w, err := s.Create(tc.size)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(tc.write); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(tc.sum); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: Commit = %v, want ErrMismatch", tc.name, err)
		}
	}
	w, err := s.Create(3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); !errors.Is(err, ErrMismatch) {
		t.Errorf("writing past the size: %v, want ErrMismatch", err)
	}
	w.Abort()
	if left := files(t, dir); len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
}

func TestOpenChecksTheBytesAgain(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	sum := stage(t, s, []byte("a dump the disk will damage"))
	path := filepath.Join(dir, files(t, dir)[0])
	b, _ := os.ReadFile(path)
	b[3] ^= 1
	os.WriteFile(path, b, 0o600)
	r, _, err := s.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadAll(r); !errors.Is(err, ErrMismatch) {
		t.Fatalf("reading a damaged dump: %v, want ErrMismatch", err)
	}
}

func TestOpenRemovesPartFilesAndCreateChecksSpace(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "123.part"), []byte("half a dump"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not ours"), 0o600)
	s, removed, err := Open(dir, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || filepath.Base(removed[0].Path) != "123.part" || removed[0].Size != 11 {
		t.Fatalf("removed %v", removed)
	}
	if left := files(t, dir); len(left) != 1 || left[0] != "notes.txt" {
		t.Fatalf("left %v", left)
	}
	if _, err := s.Create(10); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Create with a reserve no disk has: %v, want ErrNoSpace", err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("List counts files that are not dumps: %+v", list)
	}
}
