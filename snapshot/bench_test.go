package snapshot

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/consulcompat/consul/structs"
)

// benchRecords are 100,000 KV records of 512 random bytes each.
func benchRecords() []testRecord {
	rng := rand.New(rand.NewPCG(42, 42))
	recs := make([]testRecord, 100000)
	for i := range recs {
		value := make([]byte, 512)
		for j := range value {
			value[j] = byte(rng.Uint32())
		}
		recs[i] = testRecord{structs.KVSRequestType, &structs.DirEntry{
			Key:       "service/web/config/" + string(rune('a'+i%26)) + "/" + string(rune('a'+i/26%26)) + "/" + string(rune('0'+i%10)),
			Value:     value,
			RaftIndex: structs.RaftIndex{CreateIndex: uint64(i + 1), ModifyIndex: uint64(i + 1)},
		}}
	}
	return recs
}

func BenchmarkWrite(b *testing.B) {
	recs := benchRecords()
	hdr := structs.SnapshotHeader{LastIndex: 100000}
	meta := testMeta(stateSize(b, hdr, recs))
	dump := dumpOf(hdr, recs)
	b.SetBytes(meta.Size)
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, meta, dump); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead measures what a restore costs this package: Read's full
// verification pass, then decoding every record from the reader it
// returns.
func BenchmarkRead(b *testing.B) {
	data, meta := writeArchive(b, benchRecords())
	b.SetBytes(meta.Size)
	b.ReportAllocs()
	for b.Loop() {
		_, rc, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if _, err := ReadState(rc, func(structs.MessageType, interface{}) error { n++; return nil }); err != nil || n != 100000 {
			b.Fatal(n, err)
		}
		rc.Close()
	}
}

// BenchmarkVerify is the verification pass alone.
func BenchmarkVerify(b *testing.B) {
	data, meta := writeArchive(b, benchRecords())
	b.SetBytes(meta.Size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256 hashes as many bytes as the benchmarks above move, for
// scale.
func BenchmarkSHA256(b *testing.B) {
	hdr := structs.SnapshotHeader{LastIndex: 100000}
	dump := dumpBytes(b, hdr, benchRecords())
	b.SetBytes(int64(len(dump)))
	for b.Loop() {
		sha256.Sum256(dump)
	}
}

// BenchmarkInspect counts the records of an archive, checking its sums.
func BenchmarkInspect(b *testing.B) {
	data, meta := writeArchive(b, benchRecords())
	b.SetBytes(meta.Size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inspect(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAll is the plain pass Inspect is measured against:
// inflate state.bin, buffered and streaming, and decode every record.
func BenchmarkDecodeAll(b *testing.B) {
	data, meta := writeArchive(b, benchRecords())
	b.SetBytes(meta.Size)
	b.ReportAllocs()
	for b.Loop() {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		f, err := zr.Open(StateName)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if _, err := ReadState(bufio.NewReaderSize(f, 64<<10), func(structs.MessageType, interface{}) error { n++; return nil }); err != nil || n != 100000 {
			b.Fatal(n, err)
		}
		f.Close()
	}
}
