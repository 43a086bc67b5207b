// Package staging keeps the state dumps of restores on disk, one file per
// dump named for its SHA-256, from the moment a server receives one until
// the log no longer needs it. A dump is written to a part file and
// renamed into place only once its length and SHA-256 are the ones
// announced and it is on disk (fsync'd, directory too): a file with a
// dump's name always holds that whole dump.
package staging

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Errors callers branch on.
var (
	// ErrNotStaged is Open's answer for a dump this store does not hold.
	ErrNotStaged = errors.New("staging: no such dump")
	// ErrNoSpace is Create's answer when the dump would not fit.
	ErrNoSpace = errors.New("staging: not enough disk space")
	// ErrMismatch is Commit's answer, and an opened dump's read error at
	// its end, when the bytes are not the dump announced.
	ErrMismatch = errors.New("staging: the dump does not match its SHA-256 or size")
)

const (
	// dumpSuffix ends the name of a staged dump: <hex sha256>.dump.
	dumpSuffix = ".dump"
	// partSuffix ends the name of a dump being written.
	partSuffix = ".part"
)

// Store is the staging directory of one server. It is safe for concurrent
// use: each dump has its own file, and renames are atomic.
type Store struct {
	dir string
	// reserve is the free space a dump must leave on the file system.
	reserve int64
}

// Part is a part file a crash left, which Open removed.
type Part struct {
	Path string
	Size int64
}

// Open opens (creating it if needed) the staging directory dir, where a
// new dump must leave reserve bytes free. It removes the part files a
// crash left and says which.
func Open(dir string, reserve int64) (*Store, []Part, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("staging: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*"+partSuffix))
	if err != nil {
		return nil, nil, fmt.Errorf("staging: %w", err)
	}
	var parts []Part
	for _, p := range paths {
		part := Part{Path: p}
		if info, err := os.Stat(p); err == nil {
			part.Size = info.Size()
		}
		if err := os.Remove(p); err != nil {
			return nil, nil, fmt.Errorf("staging: remove a part file a crash left: %w", err)
		}
		parts = append(parts, part)
	}
	return &Store{dir: dir, reserve: reserve}, parts, nil
}

// Dir is the staging directory.
func (s *Store) Dir() string { return s.dir }

// path is where the dump with SHA-256 sum lives.
func (s *Store) path(sum []byte) string {
	return filepath.Join(s.dir, hex.EncodeToString(sum)+dumpSuffix)
}

// Create starts writing a dump of size bytes. It fails with ErrNoSpace
// when the dump would leave less than the reserve free.
func (s *Store) Create(size int64) (*Writer, error) {
	if size < 0 {
		return nil, fmt.Errorf("staging: negative size %d", size)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err == nil {
		if free := int64(st.Bavail) * st.Bsize; free < size+s.reserve {
			return nil, fmt.Errorf("%w: %s has %d bytes free; a dump of %d bytes needs %d more kept free",
				ErrNoSpace, s.dir, free, size, s.reserve)
		}
	}
	f, err := os.CreateTemp(s.dir, "*"+partSuffix)
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	return &Writer{store: s, f: f, h: sha256.New(), size: size}, nil
}

// Writer writes one dump. Write, then Commit or Abort; Abort after Commit
// does nothing, so a deferred Abort is always safe.
type Writer struct {
	store *Store
	f     *os.File
	h     hash.Hash
	n     int64
	size  int64
	done  bool
}

// Write appends p; more bytes than the size announced are an error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.size {
		return 0, fmt.Errorf("%w: more than the %d bytes announced", ErrMismatch, w.size)
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Commit checks that the dump is size bytes with SHA-256 sum, puts it on
// disk and gives it its name. On any failure the part file is removed.
func (w *Writer) Commit(sum []byte) error {
	defer w.Abort()
	if w.n != w.size || !bytes.Equal(w.h.Sum(nil), sum) {
		return fmt.Errorf("%w: got %d bytes with SHA-256 %x, want %d with %x", ErrMismatch, w.n, w.h.Sum(nil), w.size, sum)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	if err := os.Rename(w.f.Name(), w.store.path(sum)); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	w.done = true
	return syncDir(w.store.dir)
}

// Abort drops the part file.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	return nil
}

// Open opens the dump with SHA-256 sum, and gives its size. Reading it to
// its end checks the bytes again: a dump the disk damaged since it was
// staged ends with ErrMismatch instead of io.EOF.
func (s *Store) Open(sum []byte) (io.ReadCloser, int64, error) {
	f, err := os.Open(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %x", ErrNotStaged, sum)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("staging: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("staging: %w", err)
	}
	return &checkedReader{f: f, h: sha256.New(), sum: sum}, info.Size(), nil
}

// checkedReader reads a staged dump and checks its SHA-256 at the end.
type checkedReader struct {
	f   *os.File
	h   hash.Hash
	sum []byte
}

func (r *checkedReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF && !bytes.Equal(r.h.Sum(nil), r.sum) {
		return n, fmt.Errorf("%w: %s was damaged on disk", ErrMismatch, r.f.Name())
	}
	return n, err
}

func (r *checkedReader) Close() error { return r.f.Close() }

// Has tells whether the store holds the dump with SHA-256 sum.
func (s *Store) Has(sum []byte) bool {
	_, err := os.Stat(s.path(sum))
	return err == nil
}

// Remove deletes the dump with SHA-256 sum, if the store holds it.
func (s *Store) Remove(sum []byte) error {
	if err := os.Remove(s.path(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("staging: %w", err)
	}
	return nil
}

// Staged describes a dump the store holds.
type Staged struct {
	SHA256  []byte
	Size    int64
	ModTime time.Time
}

// List describes every dump the store holds.
func (s *Store) List() ([]Staged, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	var out []Staged
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), dumpSuffix)
		if !ok || e.IsDir() {
			continue
		}
		sum, err := hex.DecodeString(name)
		if err != nil || len(sum) != sha256.Size {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Staged{SHA256: sum, Size: info.Size(), ModTime: info.ModTime()})
	}
	return out, nil
}
