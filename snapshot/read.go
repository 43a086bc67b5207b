package snapshot

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/flate"
)

// archive is a verified archive: its metadata and where state.bin is.
type archive struct {
	meta     *raft.SnapshotMeta
	state    *zip.File
	stateSum []byte
}

// verify checks everything about an archive, passing each record of the
// state dump to fn (if not nil), and returns what a reader needs next.
// With scanOnly the records are delimited and typed but not decoded.
func verify(r io.ReaderAt, size int64, fn recordFunc, mode readMode) (*archive, error) {
	files, err := openZip(r, size)
	if err != nil {
		return nil, err
	}
	sums, err := readSums(files[SumsName])
	if err != nil {
		return nil, err
	}
	meta, err := readMeta(files[MetaName], sums[MetaName])
	if err != nil {
		return nil, err
	}
	a := &archive{meta: meta, state: files[StateName], stateSum: sums[StateName]}
	if err := a.verifyState(fn, mode); err != nil {
		return nil, err
	}
	return a, nil
}

// gzipMagic is how a Consul tar.gz archive starts.
var gzipMagic = []byte{0x1f, 0x8b}

// checkMagic refuses an archive whose first four bytes are not a zip
// local header, saying so plainly for a Consul tar.gz.
func checkMagic(magic []byte) error {
	if bytes.HasPrefix(magic, gzipMagic) {
		return &formatError{
			kinds: []error{ErrCorrupt, errors.ErrUnsupported},
			msg:   "archive is gzip-compressed: Consul tar.gz snapshots are not supported yet",
		}
	}
	if !bytes.Equal(magic, zipMagic) {
		return corruptf("not a zip archive (starts with %x)", magic)
	}
	return nil
}

// openZip checks the archive's magic bytes and its entries: exactly the
// three names, each once, none a directory or a path.
func openZip(r io.ReaderAt, size int64) (map[string]*zip.File, error) {
	var magic [4]byte
	if size < int64(len(magic)) {
		return nil, corruptf("archive is only %d bytes long", size)
	}
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, corruptCause(err, "cannot read the archive")
	}
	if err := checkMagic(magic[:]); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	// ErrInsecurePath comes with a usable reader; the name checks below
	// say precisely what is wrong.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, corruptCause(err, "not a valid zip archive")
	}
	// klauspost's inflate is the faster one (make bench).
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	files := make(map[string]*zip.File, 3)
	for _, f := range zr.File {
		name := f.Name
		switch {
		case strings.HasSuffix(name, "/") || f.Mode().IsDir():
			return nil, corruptf("entry %q is a directory", name)
		case strings.ContainsAny(name, `/\`):
			return nil, corruptf("entry %q is a path; entries must be plain file names", name)
		case name != MetaName && name != StateName && name != SumsName:
			return nil, corruptf("unexpected entry %q", name)
		case files[name] != nil:
			return nil, corruptf("duplicate entry %q", name)
		}
		files[name] = f
	}
	for _, name := range []string{MetaName, StateName, SumsName} {
		if files[name] == nil {
			return nil, corruptf("missing entry %s", name)
		}
	}
	if err := checkLocalHeaders(r, size, zr.File); err != nil {
		return nil, err
	}
	return files, nil
}

// readSmall reads a whole small entry, up to limit bytes, to its end so
// that its CRC is checked.
func readSmall(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, tooLargef("%s: declares %d bytes, more than the %d allowed", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, corruptCause(err, "%s", f.Name)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, entryError(f.Name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLargef("%s: more than the %d bytes allowed", f.Name, limit)
	}
	return data, nil
}

// readSums parses SHA256SUMS: exactly one line `<64 lowercase hex>  <name>`
// for meta.json and one for state.bin, in that order, as sha256sum writes
// them.
func readSums(f *zip.File) (map[string][]byte, error) {
	data, err := readSmall(f, maxSumsSize)
	if err != nil {
		return nil, err
	}
	return parseSums(data)
}

// parseSums parses the contents of SHA256SUMS.
func parseSums(data []byte) (map[string][]byte, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, corruptf("%s: does not end with a newline", SumsName)
	}
	lines := strings.Split(string(data[:len(data)-1]), "\n")
	want := []string{MetaName, StateName}
	if len(lines) != len(want) {
		return nil, corruptf("%s: has %d lines, want %d (%s then %s)", SumsName, len(lines), len(want), MetaName, StateName)
	}
	sums := make(map[string][]byte, len(want))
	for i, line := range lines {
		hexSum, name, ok := strings.Cut(line, "  ")
		if !ok {
			return nil, corruptf("%s: line %d is not `<sha256>  <name>`", SumsName, i+1)
		}
		if name != want[i] {
			return nil, corruptf("%s: line %d names %q, want %s", SumsName, i+1, name, want[i])
		}
		sum, err := parseHexSum(hexSum)
		if err != nil {
			return nil, corruptCause(err, "%s: line %d", SumsName, i+1)
		}
		sums[name] = sum
	}
	return sums, nil
}

// parseHexSum decodes a SHA-256 written as 64 lowercase hex digits.
func parseHexSum(s string) ([]byte, error) {
	if len(s) != 2*sha256.Size {
		return nil, fmt.Errorf("sha256 has %d hex digits, want %d", len(s), 2*sha256.Size)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return nil, fmt.Errorf("sha256 has %q at %d, want lowercase hex", c, i)
		}
	}
	return hex.DecodeString(s)
}

// readMeta reads meta.json, checks its sum, and decodes and checks it.
func readMeta(f *zip.File, sum []byte) (*raft.SnapshotMeta, error) {
	data, err := readSmall(f, maxMetaSize)
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(data); !bytes.Equal(got[:], sum) {
		return nil, corruptf("%s: sha256 mismatch", MetaName)
	}
	return parseMeta(data)
}

// parseMeta decodes and checks the contents of meta.json.
func parseMeta(data []byte) (*raft.SnapshotMeta, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, corruptf("%s: not a JSON object", MetaName)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var meta raft.SnapshotMeta
	if err := dec.Decode(&meta); err != nil {
		return nil, corruptCause(err, "%s: not valid JSON", MetaName)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, corruptf("%s: data after the JSON object", MetaName)
	}
	if err := checkMeta(&meta); err != nil {
		return nil, corruptCause(err, "%s", MetaName)
	}
	if meta.Size > MaxStateSize {
		return nil, tooLargef("%s: Size %d is over MaxStateSize (%d)", MetaName, meta.Size, MaxStateSize)
	}
	return &meta, nil
}

// entryError describes a failure to read an entry's contents.
func entryError(name string, err error) error {
	if errors.Is(err, zip.ErrFormat) {
		// What archive/zip says when an entry inflates to more bytes than
		// the zip directory declares for it.
		return corruptCause(err, "%s: more data than the zip declares", name)
	}
	return corruptCause(err, "%s", name)
}

// checkMeta checks the fields of the metadata that a restore relies on.
func checkMeta(meta *raft.SnapshotMeta) error {
	switch {
	case meta.Version < raft.SnapshotVersionMin || meta.Version > raft.SnapshotVersionMax:
		return fmt.Errorf("unsupported Version %d (want %d to %d)", meta.Version, raft.SnapshotVersionMin, raft.SnapshotVersionMax)
	case meta.Index == 0:
		return errors.New("Index is 0")
	case meta.Size < 0:
		return fmt.Errorf("Size is negative (%d)", meta.Size)
	}
	return nil
}

// verifyState reads state.bin to its end, checking its length, CRC and
// SHA-256, and decodes every record.
func (a *archive) verifyState(fn recordFunc, mode readMode) error {
	f := a.state
	if f.UncompressedSize64 > uint64(MaxStateSize) {
		return tooLargef("%s: declares %d bytes, over MaxStateSize (%d)", StateName, f.UncompressedSize64, MaxStateSize)
	}
	if f.UncompressedSize64 != uint64(a.meta.Size) {
		return corruptf("%s: Size is %d, but the zip says %s is %d bytes", MetaName, a.meta.Size, StateName, f.UncompressedSize64)
	}
	limit := MaxStateSize
	er, err := a.openState(limit, func() error {
		return tooLargef("%s: more than MaxStateSize (%d bytes)", StateName, limit)
	})
	if err != nil {
		return err
	}
	defer er.Close()
	_, err = readState(bufio.NewReaderSize(er, 64<<10), fn, mode)
	if err == nil {
		// readState saw io.EOF, which er gives only once length, CRC and
		// SHA-256 all check out.
		return nil
	}
	if er.err != nil && er.err != io.EOF {
		return er.err
	}
	// The dump does not decode. If its bytes are not the ones summed,
	// that is the better reason to give, so read on to find out.
	if _, derr := io.Copy(io.Discard, er); derr != nil {
		return derr
	}
	return err
}

// sizeMismatch reports a state.bin whose length is not meta.json's Size.
func (a *archive) sizeMismatch(got int64) error {
	return corruptf("%s: Size is %d, but %s holds %d bytes", MetaName, a.meta.Size, StateName, got)
}

// openState opens state.bin for a read that checks it on the way: past
// limit bytes the read fails with over(); at its end, unless its length,
// CRC and SHA-256 are right, it fails with ErrCorrupt instead of io.EOF.
func (a *archive) openState(limit int64, over func() error) (*entryReader, error) {
	rc, err := a.state.Open()
	if err != nil {
		return nil, corruptCause(err, "%s", StateName)
	}
	return &entryReader{a: a, rc: rc, h: sha256.New(), limit: limit, over: over}, nil
}

// entryReader reads state.bin, hashing and counting it.
type entryReader struct {
	a     *archive
	rc    io.ReadCloser
	h     hash.Hash
	n     int64
	limit int64
	over  func() error
	err   error // sticky: io.EOF once checked, or why the read failed
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.rc.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	switch {
	case r.n > r.limit:
		r.err = r.over()
		return 0, r.err
	case err == io.EOF:
		r.err = r.atEOF()
	case err != nil:
		r.err = entryError(StateName, err)
	}
	return n, r.err
}

// atEOF checks what a reader of state.bin has seen as a whole.
func (r *entryReader) atEOF() error {
	if !bytes.Equal(r.h.Sum(nil), r.a.stateSum) {
		return corruptf("%s: sha256 mismatch", StateName)
	}
	if r.n != r.a.meta.Size {
		return r.a.sizeMismatch(r.n)
	}
	return io.EOF
}

func (r *entryReader) Close() error {
	if r.err == nil {
		r.err = errors.New("snapshot: read after close")
	}
	return r.rc.Close()
}
