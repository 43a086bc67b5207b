// Package snapshottest forges snapshot archives for the tests of any
// package: zips of entries with chosen names, order, contents, methods
// and layout; valid archives of a state dump; deflate bombs. It trusts
// whatever it is given, so that tests can build the archives a restore
// must refuse. It does not import snapshot, whose own tests use it.
package snapshottest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"hash/crc32"
	"io"
	"testing"
)

// The entry names, as the snapshot package spells them.
const (
	metaName  = "meta.json"
	stateName = "state.bin"
	sumsName  = "SHA256SUMS"
)

// flagDataDescriptor marks a zip entry whose CRC and sizes follow its
// data.
const flagDataDescriptor = 0x8

// Entry is one entry of a forged archive.
type Entry struct {
	// Name is written as it is: a path, a directory or a duplicate too.
	Name string
	// Data is the entry's contents.
	Data []byte
	// Method is zip.Store or zip.Deflate.
	Method uint16
	// Sized puts the CRC and sizes in the local header, with no data
	// descriptor, as zip tools writing to a file do; otherwise they
	// follow the data in a data descriptor, as a save writes them.
	Sized bool

	// raw, set by Bomb, says Data is already deflated, to size bytes
	// whose CRC is crc.
	raw  bool
	crc  uint32
	size uint64
}

// Zip writes entries, in order, as a zip archive.
func Zip(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	return ZipWithComment(t, "", entries...)
}

// ZipWithComment is Zip with an archive comment.
func ZipWithComment(t testing.TB, comment string, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if err := e.write(zw); err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
	}
	if err := zw.SetComment(comment); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e Entry) write(zw *zip.Writer) error {
	if !e.Sized && !e.raw {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: e.Method})
		if err != nil {
			return err
		}
		_, err = w.Write(e.Data)
		return err
	}
	body, crc, size := e.Data, e.crc, e.size
	if !e.raw {
		crc, size = crc32.ChecksumIEEE(e.Data), uint64(len(e.Data))
		if e.Method == zip.Deflate {
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
			fw.Write(e.Data)
			fw.Close()
			body = buf.Bytes()
		}
	}
	fh := &zip.FileHeader{
		Name: e.Name, Method: e.Method, CRC32: crc,
		CompressedSize64: uint64(len(body)), UncompressedSize64: size,
	}
	if !e.Sized {
		fh.Flags = flagDataDescriptor
	}
	w, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// ValidEntries are the entries of a valid archive of meta.json and
// state.bin, each compressed by method, with SHA256SUMS to match, in the
// order a save writes them.
func ValidEntries(meta, state []byte, method uint16) []Entry {
	return []Entry{
		{Name: metaName, Data: meta, Method: method},
		{Name: stateName, Data: state, Method: method},
		{Name: sumsName, Data: Sums(meta, state), Method: method},
	}
}

// Sums is what SHA256SUMS holds for meta and state.
func Sums(meta, state []byte) []byte {
	m, s := sha256.Sum256(meta), sha256.Sum256(state)
	return sumsOf(m[:], s[:])
}

// sumsOf is what SHA256SUMS holds for these hashes of meta.json and
// state.bin.
func sumsOf(metaSum, stateSum []byte) []byte {
	return fmt.Appendf(nil, "%x  %s\n%x  %s\n", metaSum, metaName, stateSum, stateName)
}

// TarGz writes entries, in order, as a gzipped tar: the format Consul
// writes its snapshots in. Only Name and Data apply.
func TarGz(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.Name, Mode: 0o600, Size: int64(len(e.Data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Unpack returns the contents of a zip archive's entries by name.
func Unpack(t testing.TB, archive []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// DataRegion is where the named entry's data, as stored, lies in a zip
// archive: from its first byte to just after its last.
func DataRegion(t testing.TB, archive []byte, name string) (from, to int64) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			return off, off + int64(f.CompressedSize64)
		}
	}
	t.Fatalf("no entry %s", name)
	return 0, 0
}
