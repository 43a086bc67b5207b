package snapshot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
)

// countingWriter counts what is written to it, and the calls.
type countingWriter struct {
	n     int64
	calls int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.calls++
	return len(p), nil
}

// TestSizes checks that RecordSize and HeaderSize are exactly what the
// encoder writes, across the msgpack length classes of values and keys.
func TestSizes(t *testing.T) {
	for _, last := range []uint64{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 32, math.MaxUint64} {
		var cw countingWriter
		if _, err := NewStateEncoder(&cw, structs.SnapshotHeader{LastIndex: last}); err != nil {
			t.Fatal(err)
		}
		n, err := HeaderSize(structs.SnapshotHeader{LastIndex: last})
		if err != nil || n != cw.n || cw.calls != 1 {
			t.Fatalf("LastIndex %d: HeaderSize %d, %v; wrote %d bytes in %d calls", last, n, err, cw.n, cw.calls)
		}
	}

	var recs []testRecord
	for _, size := range []int{0, 1, 31, 32, 255, 256, 65535, 65536, structs.MaxKVSize, 3 << 20} {
		value := bytes.Repeat([]byte{0xa5}, size)
		key := strings.Repeat("ключ/🔑/", size/1000+1)
		recs = append(recs,
			testRecord{structs.KVSRequestType, &structs.DirEntry{Key: key, Value: value, Flags: math.MaxUint64, Session: "s"}},
			testRecord{structs.TombstoneRequestType, &structs.DirEntry{Key: key[:len(key)/2]}},
			testRecord{structs.IndexRequestType, &structs.IndexEntry{Key: key, Value: uint64(size)}},
		)
	}
	recs = append(recs, testRecord{structs.KVSRequestType, &structs.DirEntry{Key: "nil value"}})
	recs = append(recs, makeRecords(rand.New(rand.NewPCG(2, 3)), 200)...)

	var cw countingWriter
	enc, err := NewStateEncoder(&cw, structs.SnapshotHeader{LastIndex: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		before, calls := cw.n, cw.calls
		if err := enc.Record(r.t, r.rec); err != nil {
			t.Fatal(err)
		}
		n, err := RecordSize(r.t, r.rec)
		if err != nil {
			t.Fatal(err)
		}
		if n != cw.n-before || cw.calls != calls+1 {
			t.Fatalf("record %d: RecordSize %d, Record wrote %d bytes in %d calls", i, n, cw.n-before, cw.calls-calls)
		}
	}

	// And the records read back as written, big ones included.
	hdr := structs.SnapshotHeader{LastIndex: 1}
	_, got := readRecords(t, bytes.NewReader(dumpBytes(t, hdr, recs)))
	sameRecords(t, got, recs)
}

// unencodable fails to encode (go-msgpack encodes nearly anything, so it
// has to be told to fail).
type unencodable struct{}

func (unencodable) CodecEncodeSelf(*codec.Encoder) { panic(errors.New("cannot encode")) }
func (unencodable) CodecDecodeSelf(*codec.Decoder) {}

func TestRecordSizeError(t *testing.T) {
	if _, err := RecordSize(structs.KVSRequestType, unencodable{}); err == nil || !strings.Contains(err.Error(), "cannot encode") {
		t.Fatalf("got %v for a value msgpack cannot encode", err)
	}
	enc, err := NewStateEncoder(io.Discard, structs.SnapshotHeader{})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Record(structs.KVSRequestType, unencodable{}); err == nil {
		t.Fatal("Record: no error")
	}
	if err := enc.Record(structs.KVSRequestType, &structs.DirEntry{Key: "k"}); err != nil {
		t.Fatalf("Record after a failed one: %v", err)
	}
	// The pooled encoder is fine afterwards.
	n, err := RecordSize(structs.IndexRequestType, &structs.IndexEntry{Key: "k"})
	if err != nil || n < 2 {
		t.Fatal(n, err)
	}
}

func TestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are only meaningful without -race")
	}
	e := &structs.DirEntry{Key: "some/key/ключ", Value: bytes.Repeat([]byte("v"), 512), RaftIndex: structs.RaftIndex{CreateIndex: 1, ModifyIndex: 2}}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := RecordSize(structs.KVSRequestType, e); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("RecordSize: %v allocations per call", n)
	}
	enc, err := NewStateEncoder(io.Discard, structs.SnapshotHeader{})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if err := enc.Record(structs.KVSRequestType, e); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Record: %v allocations per call", n)
	}
}

// TestReadStateReaders reads a dump of many records through readers that
// return a byte or half a buffer at a time, and through a caller's
// bufio.Reader, which ReadState must consume exactly.
func TestReadStateReaders(t *testing.T) {
	recs := makeRecords(rand.New(rand.NewPCG(4, 4)), 1000)
	dump := dumpBytes(t, structs.SnapshotHeader{LastIndex: 9}, recs)
	for name, r := range map[string]io.Reader{
		"one byte":    iotest.OneByteReader(bytes.NewReader(dump)),
		"half":        iotest.HalfReader(bytes.NewReader(dump)),
		"data EOF":    iotest.DataErrReader(bytes.NewReader(dump)),
		"bufio small": bufio.NewReaderSize(bytes.NewReader(dump), 16),
		"bufio":       bufio.NewReader(bytes.NewReader(dump)),
	} {
		t.Run(name, func(t *testing.T) {
			hdr, got := readRecords(t, r)
			if hdr.LastIndex != 9 {
				t.Fatal(hdr)
			}
			sameRecords(t, got, recs)
		})
	}
}

func TestReadStateErrors(t *testing.T) {
	hdr := structs.SnapshotHeader{LastIndex: 3}
	headerOnly := dumpBytes(t, hdr, nil)
	one := dumpBytes(t, hdr, []testRecord{{structs.KVSRequestType, &structs.DirEntry{Key: "k", Value: []byte("v")}}})
	kv := byte(structs.KVSRequestType)
	// rec prefixes a record of type KVS to msgpack bytes.
	rec := func(b ...byte) []byte { return append(append(bytes.Clone(headerOnly), kv), b...) }
	be32 := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	nested := rec(0x81, 0xa1, 'X')
	for i := 0; i < 100000; i++ {
		nested = append(nested, 0x91)
	}
	nested = append(nested, 0xc0)

	cases := []struct {
		name  string
		dump  []byte
		kind  error
		words []string
	}{
		{"empty", nil, ErrCorrupt, []string{"empty state dump"}},
		{"header not a map", []byte{0x01}, ErrCorrupt, []string{"header does not decode", "not a msgpack map"}},
		{"header wrong field type", []byte{0x81, 0xa9, 'L', 'a', 's', 't', 'I', 'n', 'd', 'e', 'x', 0xa1, 'x'}, ErrCorrupt, []string{"header does not decode"}},
		{"unknown type", append(bytes.Clone(headerOnly), 200, 0x80), ErrCorrupt, []string{"unknown record type 200 (record 1 at offset"}},
		{"lone type byte", append(bytes.Clone(one), kv), ErrCorrupt, []string{"record 2 (KVS)", "truncated"}},
		{"invalid byte", rec(0x81, 0xc1), ErrCorrupt, []string{"invalid msgpack byte 0xc1"}},
		{"str32 with no data", rec(append([]byte{0x81, 0xa3, 'K', 'e', 'y', 0xdb}, be32(60<<20)...)...), ErrCorrupt, []string{"truncated"}},
		{"bin32 over the record limit", rec(append([]byte{0x81, 0xa5, 'V', 'a', 'l', 'u', 'e', 0xc6}, be32(math.MaxUint32)...)...), ErrTooLarge, []string{"larger than 64 MiB"}},
		{"ext32 over the record limit", rec(append([]byte{0x81, 0xa1, 'X', 0xc9}, be32(math.MaxUint32)...)...), ErrTooLarge, []string{"larger than 64 MiB"}},
		{"array32 of 4G elements", rec(append([]byte{0x81, 0xa1, 'X', 0xdd}, be32(math.MaxUint32)...)...), ErrTooLarge, []string{"larger than 64 MiB"}},
		{"map32 of 4G pairs", rec(append([]byte{0xdf}, be32(math.MaxUint32)...)...), ErrTooLarge, []string{"larger than 64 MiB"}},
		{"array32 declared, cut short", rec(append([]byte{0x81, 0xa1, 'X', 0xdd}, be32(1<<20)...)...), ErrCorrupt, []string{"truncated"}},
		{"deep nesting", nested, ErrCorrupt, []string{"does not decode"}},
		{"key not a string", rec(0x81, 0x01, 0x02), ErrCorrupt, []string{"does not decode"}},
		{"value of wrong type", rec(0x81, 0xa5, 'F', 'l', 'a', 'g', 's', 0xa1, 'x'), ErrCorrupt, []string{"does not decode"}},
		{"nil record", rec(0xc0), ErrCorrupt, []string{"not a msgpack map"}},
		{"record without a key", rec(0x81, 0xa5, 'F', 'l', 'a', 'g', 's', 0x01), ErrCorrupt, []string{"record 1 (KVS)", "empty key"}},
		// Verification reuses one value per type; the second record must
		// not inherit the first one's key.
		{"second record without a key", append(append(bytes.Clone(one), kv), 0x81, 0xa5, 'F', 'l', 'a', 'g', 's', 0x01), ErrCorrupt, []string{"record 2 (KVS)", "empty key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ReadState(bytes.NewReader(tc.dump), func(structs.MessageType, interface{}) error { return nil })
			runtime.ReadMemStats(&after)
			wantErr(t, err, tc.kind, tc.words...)
			// Verification alone (no fn) must reject it the same way.
			_, err = ReadState(bytes.NewReader(tc.dump), nil)
			wantErr(t, err, tc.kind, tc.words...)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Fatalf("allocated %d bytes for a %d-byte dump", grew, len(tc.dump))
			}
		})
	}

	// Every truncation of a valid dump fails, except at record boundaries.
	dump := dumpBytes(t, hdr, makeRecords(rand.New(rand.NewPCG(5, 5)), 3))
	boundaries := map[int]bool{len(dump): true}
	pos, _ := HeaderSize(hdr)
	for _, r := range makeRecords(rand.New(rand.NewPCG(5, 5)), 3) {
		boundaries[int(pos)] = true
		n, _ := RecordSize(r.t, r.rec)
		pos += n
	}
	for n := 0; n <= len(dump); n++ {
		_, err := ReadState(bytes.NewReader(dump[:n]), nil)
		if boundaries[n] != (err == nil) {
			t.Fatalf("dump cut at %d of %d: %v", n, len(dump), err)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("dump cut at %d: %v", n, err)
		}
	}
}

func TestReadStateUnknownFields(t *testing.T) {
	// A record from a newer server, with a field this one does not know.
	hdr := dumpBytes(t, structs.SnapshotHeader{LastIndex: 3}, nil)
	dump := append(hdr, byte(structs.IndexRequestType),
		0x83, 0xa3, 'K', 'e', 'y', 0xa1, 'k',
		0xa9, 'P', 'a', 'r', 't', 'i', 't', 'i', 'o', 'n', 0x92, 0xa1, 'p', 0xc7, 2, 9, 0, 0,
		0xa5, 'V', 'a', 'l', 'u', 'e', 0x07)
	_, got := readRecords(t, bytes.NewReader(dump))
	sameRecords(t, got, []testRecord{{structs.IndexRequestType, &structs.IndexEntry{Key: "k", Value: 7}}})
}

func TestReadStateFuncError(t *testing.T) {
	dump := dumpBytes(t, structs.SnapshotHeader{}, makeRecords(rand.New(rand.NewPCG(6, 6)), 10))
	stop := errors.New("stop")
	n := 0
	_, err := ReadState(bytes.NewReader(dump), func(structs.MessageType, interface{}) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	if err != stop || n != 5 {
		t.Fatalf("err %v after %d records", err, n)
	}
}

// failingReader fails after its data.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

func TestReadStateReadError(t *testing.T) {
	dump := dumpBytes(t, structs.SnapshotHeader{}, makeRecords(rand.New(rand.NewPCG(6, 6)), 10))
	boom := errors.New("connection reset")
	for _, cut := range []int{0, 3, len(dump) / 2, len(dump)} {
		_, err := ReadState(&failingReader{bytes.NewReader(dump[:cut]), boom}, nil)
		if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut %d: %v", cut, err)
		}
	}
}
