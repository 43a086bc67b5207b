// Package snapshot reads and writes the snapshot archive: a zip holding
// meta.json (Raft snapshot metadata), state.bin (the state dump) and
// SHA256SUMS, written in that order (the reader takes any order). It knows
// nothing of servers or HTTP: it takes readers and writers, verifies, and
// returns typed errors.
package snapshot

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/flate"
)

// Entry names, in archive order.
const (
	MetaName  = "meta.json"
	StateName = "state.bin"
	SumsName  = "SHA256SUMS"
)

// Sentinel errors; every error Read, Verify and Inspect return wraps one
// of them. A Consul tar.gz archive, recognised by its gzip magic bytes, is
// refused with an error that also wraps errors.ErrUnsupported.
var (
	// ErrCorrupt marks an archive or state dump that fails a check.
	ErrCorrupt = structs.ErrSnapshotCorrupt
	// ErrTooLarge marks an archive or entry over a size limit.
	ErrTooLarge = structs.ErrSnapshotTooLarge
)

// MaxStateSize bounds state.bin, counted in bytes actually read, never
// trusting a size the archive declares. Write refuses a meta.Size over it,
// so that it never produces an archive that Read would reject. It is the
// format's ceiling; a restore sets its own, lower one with WithStateLimit.
var MaxStateSize int64 = 16 << 30

// maxMetaSize bounds meta.json, and maxSumsSize SHA256SUMS.
const (
	maxMetaSize = 1 << 20
	maxSumsSize = 4 << 10
)

// Write streams an archive to w: meta.json from meta, then state.bin as
// written by dump, then SHA256SUMS. Nothing is staged: bytes reach w as
// dump produces them (through a 64 KiB buffer, flushed once meta.json is
// out, so that a client sees the response start at once). It fails if
// dump fails or writes other than meta.Size bytes, and then leaves the
// archive without its central directory, so that no reader accepts it.
func Write(w io.Writer, meta *raft.SnapshotMeta, dump func(io.Writer) error) error {
	if meta == nil {
		return errors.New("snapshot: no metadata")
	}
	if err := checkMeta(meta); err != nil {
		return fmt.Errorf("snapshot: meta: %w", err)
	}
	if meta.Size > MaxStateSize {
		return tooLargef("%s: Size %d is over MaxStateSize (%d)", MetaName, meta.Size, MaxStateSize)
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("snapshot: encode %s: %w", MetaName, err)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, newFlateWriter)
	now := time.Now()
	create := func(name string, method uint16) (io.Writer, error) {
		fh := &zip.FileHeader{Name: name, Method: method, Modified: now}
		fh.SetMode(0o644)
		ew, err := zw.CreateHeader(fh)
		if err != nil {
			return nil, fmt.Errorf("snapshot: write %s: %w", name, err)
		}
		return ew, nil
	}

	mw, err := create(MetaName, zip.Deflate)
	if err != nil {
		return err
	}
	if _, err := mw.Write(metaJSON); err != nil {
		return fmt.Errorf("snapshot: write %s: %w", MetaName, err)
	}
	metaSum := sha256.Sum256(metaJSON)

	// The first bytes leave at once, before the dump is probed.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("snapshot: write %s: %w", MetaName, err)
	}
	var pipe *pipeline
	// Hashed on the pipeline's goroutine, which has less to do than the
	// one that walks the state and encodes it.
	stateSum := sha256.New()
	probe := &probeWriter{open: func(method uint16) (io.Writer, error) {
		// Creating state.bin closes meta.json's entry.
		sw, err := create(StateName, method)
		if err != nil {
			return nil, err
		}
		pipe = newPipeline(io.MultiWriter(sw, stateSum))
		return pipe, nil
	}}
	dw := &dumpWriter{w: probe, limit: meta.Size}
	// Records arrive a few hundred bytes at a time; batching them makes
	// the hand-over, hashing, CRC and compression work on large blocks.
	db := bufio.NewWriterSize(dw, 64<<10)
	err = dump(db)
	if err == nil {
		err = db.Flush()
	}
	if err == nil {
		err = probe.finish()
	}
	// Close even after a failure: it ends the pipeline's goroutine.
	if pipe != nil {
		if perr := pipe.Close(); err == nil && perr != nil {
			err = fmt.Errorf("snapshot: write %s: %w", StateName, perr)
		}
	}
	if err != nil {
		return fmt.Errorf("snapshot: dump state: %w", err)
	}
	if dw.n != meta.Size {
		return fmt.Errorf("snapshot: dump wrote %d bytes, but meta.Size is %d", dw.n, meta.Size)
	}

	cw, err := create(SumsName, zip.Deflate)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(cw, "%x  %s\n%x  %s\n", metaSum, MetaName, stateSum.Sum(nil), StateName); err != nil {
		return fmt.Errorf("snapshot: write %s: %w", SumsName, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("snapshot: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("snapshot: write: %w", err)
	}
	return nil
}

// dumpWriter passes the state dump on to its zip entry, counting it, and
// refuses to go past the size meta.json announced.
type dumpWriter struct {
	w     io.Writer
	n     int64
	limit int64
	err   error
}

func (d *dumpWriter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if int64(len(p)) > d.limit-d.n {
		d.err = fmt.Errorf("dump wrote more than meta.Size (%d bytes)", d.limit)
		return 0, d.err
	}
	n, err := d.w.Write(p)
	d.n += int64(n)
	if err != nil {
		d.err = err
	}
	return n, err
}

// flateWriters recycles compressors across archives: each holds about
// a megabyte of tables. klauspost/compress at level 1 is the deflate
// chosen by measurement (make bench): it stores incompressible blocks
// without trying to compress them, and compresses text as well as the
// standard library's level 1, at several times its speed.
var flateWriters sync.Pool

func newFlateWriter(w io.Writer) (io.WriteCloser, error) {
	fw, _ := flateWriters.Get().(*flate.Writer)
	if fw == nil {
		var err error
		if fw, err = flate.NewWriter(w, flate.BestSpeed); err != nil {
			return nil, err
		}
	} else {
		fw.Reset(w)
	}
	return &pooledFlate{fw: fw}, nil
}

// pooledFlate returns its compressor to the pool when closed.
type pooledFlate struct {
	fw *flate.Writer
}

func (p *pooledFlate) Write(b []byte) (int, error) {
	if p.fw == nil {
		return 0, errors.New("snapshot: write to closed compressor")
	}
	return p.fw.Write(b)
}

func (p *pooledFlate) Close() error {
	if p.fw == nil {
		return nil
	}
	err := p.fw.Close()
	flateWriters.Put(p.fw)
	p.fw = nil
	return err
}

// Read verifies a whole archive (names, sizes, CRCs, SHA-256 sums, meta,
// and that the state dump decodes completely with known record types) and
// then returns its metadata and a reader of state.bin. That reader checks
// state.bin again as it goes (CRC, length and SHA-256, at its end), so
// that an archive changed under it fails with ErrCorrupt instead of
// reaching io.EOF; the caller must read it to io.EOF and close it.
func Read(r io.ReaderAt, size int64) (*raft.SnapshotMeta, io.ReadCloser, error) {
	a, err := verify(r, size, nil, decodeReused)
	if err != nil {
		return nil, nil, err
	}
	rc, err := a.openState(a.meta.Size, func() error {
		return corruptf("%s: longer than meta.json's Size (%d bytes)", StateName, a.meta.Size)
	})
	if err != nil {
		return nil, nil, err
	}
	return a.meta, rc, nil
}

// Verify does every check Read does and returns the metadata.
func Verify(r io.ReaderAt, size int64) (*raft.SnapshotMeta, error) {
	a, err := verify(r, size, nil, decodeReused)
	if err != nil {
		return nil, err
	}
	return a.meta, nil
}

// RecordStat counts the records of one type in a state dump.
type RecordStat struct {
	Type  structs.MessageType
	Name  string
	Count int
	// Size is the bytes these records take in state.bin, type bytes
	// included.
	Size int64
}

// Info describes an archive for `consul snapshot inspect`.
type Info struct {
	Meta raft.SnapshotMeta
	// Records has one entry per record type present, by ascending type.
	Records []RecordStat
	// StateSize is the size of state.bin.
	StateSize int64
}

// Inspect checks an archive's integrity (entries, sizes, CRCs, both
// SHA-256 sums, meta.json, record framing and types) and counts its
// records by type. Unlike Read and Verify it does not decode the records,
// which makes it many times faster: an archive Inspect accepts may still
// hold a record that a restore refuses.
func Inspect(r io.ReaderAt, size int64) (*Info, error) {
	stats := make(map[structs.MessageType]*RecordStat)
	count := func(t structs.MessageType, _ interface{}, n int64) error {
		st := stats[t]
		if st == nil {
			st = &RecordStat{Type: t, Name: t.String()}
			stats[t] = st
		}
		st.Count++
		st.Size += n
		return nil
	}
	a, err := verify(r, size, count, scanOnly)
	if err != nil {
		return nil, err
	}
	info := &Info{Meta: *a.meta, StateSize: a.meta.Size}
	for _, st := range stats {
		info.Records = append(info.Records, *st)
	}
	sort.Slice(info.Records, func(i, j int) bool { return info.Records[i].Type < info.Records[j].Type })
	return info, nil
}
