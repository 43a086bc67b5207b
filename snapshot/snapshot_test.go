package snapshot

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// testRecord is one record of a state dump.
type testRecord struct {
	t   structs.MessageType
	rec interface{}
}

// makeRecords returns perType records of each type a dump may hold, with
// random values and keys that are not all ASCII.
func makeRecords(rng *rand.Rand, perType int) []testRecord {
	var recs []testRecord
	for i := 0; i < perType; i++ {
		value := make([]byte, rng.IntN(2048))
		for j := range value {
			value[j] = byte(rng.Uint32())
		}
		e := &structs.DirEntry{
			LockIndex: rng.Uint64N(10),
			Key:       fmt.Sprintf("kv/ключ/键/🔑/%d/%x", i, rng.Uint64()),
			Flags:     rng.Uint64(),
			Value:     value,
			RaftIndex: structs.RaftIndex{CreateIndex: uint64(i + 1), ModifyIndex: uint64(i + 2)},
		}
		if i%7 == 0 {
			e.Session = fmt.Sprintf("%08x-session", rng.Uint32())
		}
		recs = append(recs, testRecord{structs.KVSRequestType, e})
	}
	for i := 0; i < perType; i++ {
		recs = append(recs, testRecord{structs.TombstoneRequestType, &structs.DirEntry{
			Key:       fmt.Sprintf("gone/%d/ü", i),
			RaftIndex: structs.RaftIndex{ModifyIndex: uint64(1000 + i)},
		}})
	}
	for i := 0; i < perType; i++ {
		recs = append(recs, testRecord{structs.IndexRequestType, &structs.IndexEntry{
			Key:   fmt.Sprintf("table-%d", i),
			Value: rng.Uint64(),
		}})
	}
	return recs
}

// dumpOf returns the dump function that writes hdr and recs.
func dumpOf(hdr structs.SnapshotHeader, recs []testRecord) func(io.Writer) error {
	return func(w io.Writer) error {
		enc, err := NewStateEncoder(w, hdr)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := enc.Record(r.t, r.rec); err != nil {
				return err
			}
		}
		return nil
	}
}

// dumpBytes returns the state dump of hdr and recs.
func dumpBytes(t testing.TB, hdr structs.SnapshotHeader, recs []testRecord) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := dumpOf(hdr, recs)(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stateSize adds up the sizes the state store would keep.
func stateSize(t testing.TB, hdr structs.SnapshotHeader, recs []testRecord) int64 {
	t.Helper()
	n, err := HeaderSize(hdr)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		m, err := RecordSize(r.t, r.rec)
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	return n
}

func testMeta(size int64) *raft.SnapshotMeta {
	return &raft.SnapshotMeta{
		Version: raft.SnapshotVersionMax,
		ID:      "2-4711-1700000000000",
		Index:   4711,
		Term:    2,
		Configuration: raft.Configuration{Servers: []raft.Server{
			{Suffrage: raft.Voter, ID: "server-1", Address: "127.0.0.1:8300"},
			{Suffrage: raft.Nonvoter, ID: "server-2", Address: "127.0.0.2:8300"},
		}},
		ConfigurationIndex: 12,
		Size:               size,
	}
}

// writeArchive writes an archive of recs and returns it with its meta.
func writeArchive(t testing.TB, recs []testRecord) ([]byte, *raft.SnapshotMeta) {
	t.Helper()
	hdr := structs.SnapshotHeader{LastIndex: 4711}
	meta := testMeta(stateSize(t, hdr, recs))
	var buf bytes.Buffer
	if err := Write(&buf, meta, dumpOf(hdr, recs)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), meta
}

// smallArchive is a valid archive of a few records, small enough to
// corrupt at every byte.
func smallArchive(t testing.TB) ([]byte, []testRecord) {
	t.Helper()
	recs := makeRecords(rand.New(rand.NewPCG(7, 7)), 2)
	for _, r := range recs {
		if e, ok := r.rec.(*structs.DirEntry); ok && len(e.Value) > 40 {
			e.Value = e.Value[:40]
		}
	}
	data, _ := writeArchive(t, recs)
	return data, recs
}

// verifyBytes returns what Verify says of data, after checking that a
// streamed read refuses whatever Verify refuses and, when both accept,
// reads the same contents. The stream may refuse more: damage that leaves
// the contents intact (a flag or size in a local header that archive/zip
// ignores, bytes after deflate's last block) and archives it cannot
// delimit; TestStreamAccepts covers the archives it must take.
func verifyBytes(t testing.TB, data []byte) error {
	t.Helper()
	meta, err := Verify(bytes.NewReader(data), int64(len(data)))
	smeta, state, serr := streamBytes(data)
	switch {
	case err != nil && serr == nil:
		t.Fatalf("Verify says %v, but the stream accepts the archive", err)
	case serr != nil && !errors.Is(serr, ErrCorrupt) && !errors.Is(serr, ErrTooLarge):
		t.Fatalf("stream error wraps neither sentinel: %v", serr)
	case serr != nil && strings.Contains(serr.Error(), "\n"):
		t.Fatalf("stream error %q is not one line", serr)
	case err == nil && serr != nil:
		t.Logf("Verify accepts the archive; the stream refuses it: %v", serr)
	case err == nil && serr == nil:
		_, rc, rerr := Read(bytes.NewReader(data), int64(len(data)))
		if rerr != nil {
			t.Fatal(rerr)
		}
		defer rc.Close()
		want, rerr := io.ReadAll(rc)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if !reflect.DeepEqual(meta, smeta) || !bytes.Equal(state, want) {
			t.Fatal("the stream and Read disagree on the archive's contents")
		}
	}
	return err
}

// streamBytes reads data with OpenStream, checking every record.
func streamBytes(data []byte) (*raft.SnapshotMeta, []byte, error) {
	meta, st, err := OpenStream(bytes.NewReader(data), nil)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	state, err := io.ReadAll(st)
	if err != nil {
		return nil, nil, err
	}
	return meta, state, nil
}

// kept copies what a test keeps of a record fn received: a KV entry's
// Value views the reader's buffer.
func kept(mt structs.MessageType, rec interface{}) testRecord {
	if e, ok := rec.(*structs.DirEntry); ok {
		c := *e
		c.Value = bytes.Clone(e.Value)
		rec = &c
	}
	return testRecord{mt, rec}
}

// readRecords decodes a whole dump into records.
func readRecords(t testing.TB, r io.Reader) (structs.SnapshotHeader, []testRecord) {
	t.Helper()
	var got []testRecord
	hdr, err := ReadState(r, func(mt structs.MessageType, rec interface{}) error {
		got = append(got, kept(mt, rec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hdr, got
}

func sameRecords(t testing.TB, got, want []testRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].t != want[i].t || !reflect.DeepEqual(got[i].rec, want[i].rec) {
			t.Fatalf("record %d: got %s %+v, want %s %+v", i, got[i].t, got[i].rec, want[i].t, want[i].rec)
		}
	}
}

// wantErr checks that err wraps kind and mentions each of words.
func wantErr(t testing.TB, err, kind error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %q does not wrap %q", err, kind)
	}
	t.Log(err)
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q is not one line", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not mention %q", err, w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	recs := makeRecords(rand.New(rand.NewPCG(1, 2)), 3000)
	data, meta := writeArchive(t, recs)

	gotMeta, rc, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotMeta, meta) {
		t.Fatalf("meta: got %+v, want %+v", gotMeta, meta)
	}
	hdr, got := readRecords(t, rc)
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if hdr.LastIndex != 4711 {
		t.Fatalf("header: got %+v", hdr)
	}
	sameRecords(t, got, recs)

	vMeta, err := Verify(bytes.NewReader(data), int64(len(data)))
	if err != nil || !reflect.DeepEqual(vMeta, meta) {
		t.Fatalf("Verify: %+v, %v", vMeta, err)
	}
}

// TestArchiveLayout checks the archive as any zip tool would see it.
func TestArchiveLayout(t *testing.T) {
	data, recs := smallArchive(t)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	contents := map[string][]byte{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Deflate || f.Flags&0x8 == 0 {
			t.Errorf("%s: method %d, flags %#x: want deflate with a data descriptor", f.Name, f.Method, f.Flags)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		contents[f.Name] = b
	}
	if want := []string{MetaName, StateName, SumsName}; !reflect.DeepEqual(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	wantSums := fmt.Sprintf("%x  meta.json\n%x  state.bin\n", sha256.Sum256(contents[MetaName]), sha256.Sum256(contents[StateName]))
	if string(contents[SumsName]) != wantSums {
		t.Fatalf("SHA256SUMS:\n%s\nwant:\n%s", contents[SumsName], wantSums)
	}
	if !bytes.Equal(contents[StateName], dumpBytes(t, structs.SnapshotHeader{LastIndex: 4711}, recs)) {
		t.Fatal("state.bin is not the dump")
	}
	if !strings.Contains(string(contents[MetaName]), `"Index":4711`) {
		t.Fatalf("meta.json: %s", contents[MetaName])
	}
}

func TestInspect(t *testing.T) {
	recs := makeRecords(rand.New(rand.NewPCG(3, 4)), 500)
	data, meta := writeArchive(t, recs)
	info, err := Inspect(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.Meta, *meta) || info.StateSize != meta.Size {
		t.Fatalf("meta %+v size %d", info.Meta, info.StateSize)
	}
	want := map[structs.MessageType]*RecordStat{}
	total, _ := HeaderSize(structs.SnapshotHeader{LastIndex: 4711})
	for _, r := range recs {
		st := want[r.t]
		if st == nil {
			st = &RecordStat{Type: r.t, Name: r.t.String()}
			want[r.t] = st
		}
		n, _ := RecordSize(r.t, r.rec)
		st.Count++
		st.Size += n
		total += n
	}
	wantList := []RecordStat{*want[structs.KVSRequestType], *want[structs.TombstoneRequestType], *want[structs.IndexRequestType]}
	if !reflect.DeepEqual(info.Records, wantList) {
		t.Fatalf("records %+v, want %+v", info.Records, wantList)
	}
	if total != info.StateSize {
		t.Fatalf("record sizes add up to %d, state is %d", total, info.StateSize)
	}
	if info.Records[0].Name != "KVS" {
		t.Fatalf("name %q", info.Records[0].Name)
	}
}

// TestHeaderOnly checks that a dump with no records is a valid archive.
func TestHeaderOnly(t *testing.T) {
	data, meta := writeArchive(t, nil)
	info, err := Inspect(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Records) != 0 || info.StateSize != meta.Size {
		t.Fatalf("%+v", info)
	}
	_, rc, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hdr, got := readRecords(t, rc)
	if hdr.LastIndex != 4711 || len(got) != 0 {
		t.Fatalf("%+v %d", hdr, len(got))
	}
}

// TestWriteFailure checks that a dump that fails or writes the wrong
// number of bytes yields an error and an archive no reader accepts.
func TestWriteFailure(t *testing.T) {
	recs := makeRecords(rand.New(rand.NewPCG(5, 6)), 200)
	hdr := structs.SnapshotHeader{LastIndex: 4711}
	size := stateSize(t, hdr, recs)
	boom := errors.New("state store went away")
	cases := []struct {
		name string
		size int64
		dump func(io.Writer) error
		msg  string
	}{
		{"dump error midway", size, func(w io.Writer) error {
			if err := dumpOf(hdr, recs[:300])(w); err != nil {
				return err
			}
			return boom
		}, "state store went away"},
		{"short dump", size + 1, dumpOf(hdr, recs), fmt.Sprintf("dump wrote %d bytes, but meta.Size is %d", size, size+1)},
		{"long dump", size - 1, dumpOf(hdr, recs), "more than meta.Size"},
		{"long dump ignoring errors", 10, func(w io.Writer) error {
			_ = dumpOf(hdr, recs)(w)
			return nil
		}, "more than meta.Size"},
		{"empty dump", size, func(io.Writer) error { return nil }, "dump wrote 0 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, testMeta(c.size), c.dump)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Write: %v, want error mentioning %q", err, c.msg)
			}
			if c.name == "dump error midway" && !errors.Is(err, boom) {
				t.Fatalf("error %v does not wrap the dump's", err)
			}
			if buf.Len() == 0 {
				t.Fatal("nothing written before the failure")
			}
			wantErr(t, verifyBytes(t, buf.Bytes()), ErrCorrupt)
		})
	}
}

func TestWriteRejectsBadMeta(t *testing.T) {
	dump := func(io.Writer) error { t.Fatal("dump called"); return nil }
	for _, c := range []struct {
		name string
		meta *raft.SnapshotMeta
	}{
		{"nil", nil},
		{"index 0", func() *raft.SnapshotMeta { m := testMeta(1); m.Index = 0; return m }()},
		{"version", func() *raft.SnapshotMeta { m := testMeta(1); m.Version = 9; return m }()},
		{"negative size", testMeta(-1)},
	} {
		if err := Write(io.Discard, c.meta, dump); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	defer func(old int64) { MaxStateSize = old }(MaxStateSize)
	MaxStateSize = 100
	err := Write(io.Discard, testMeta(101), dump)
	wantErr(t, err, ErrTooLarge, "MaxStateSize")
}

// TestWriteStreams checks that the archive's first bytes leave before
// the dump starts, and that the archive is not held back whole: at most
// the probe, the pipeline's blocks and the write buffers are in flight.
func TestWriteStreams(t *testing.T) {
	recs := makeRecords(rand.New(rand.NewPCG(9, 9)), 10000)
	hdr := structs.SnapshotHeader{LastIndex: 4711}
	size := stateSize(t, hdr, recs)
	out := &testutil.Buffer{}
	var atStart, atEnd int
	err := Write(out, testMeta(size), func(w io.Writer) error {
		atStart = out.Len()
		if !bytes.Contains(out.Bytes(), []byte(MetaName)) {
			t.Errorf("meta.json's header has not left when the dump starts (%d bytes out)", atStart)
		}
		err := dumpOf(hdr, recs)(w)
		atEnd = out.Len()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Random values do not compress: all but what is in flight has left.
	inFlight := int64(probeSize + (pipelineDepth+1)*pipelineBlock + 4*64<<10)
	if size < 2*inFlight {
		t.Fatalf("dump of %d bytes is too small for this test", size)
	}
	if int64(atEnd) < size-inFlight {
		t.Fatalf("only %d of about %d bytes out when the dump ended", atEnd, size)
	}
	if err := verifyBytes(t, out.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// TestStateMethodFollowsTheData: a dump of random values is stored, one
// of text deflated; both read back.
func TestStateMethodFollowsTheData(t *testing.T) {
	hdr := structs.SnapshotHeader{LastIndex: 1}
	text := make([]testRecord, 3000)
	for i := range text {
		text[i] = testRecord{structs.KVSRequestType, &structs.DirEntry{Key: fmt.Sprintf("cfg/%d", i),
			Value: []byte(`{"service": "web", "port": 8080, "enabled": true, "tags": ["blue", "canary"]}`)}}
	}
	for name, tc := range map[string]struct {
		recs []testRecord
		want uint16
	}{
		"random": {makeRecords(rand.New(rand.NewPCG(5, 5)), 3000), zip.Store},
		"text":   {text, zip.Deflate},
	} {
		size := stateSize(t, hdr, tc.recs)
		var out bytes.Buffer
		if err := Write(&out, testMeta(size), dumpOf(hdr, tc.recs)); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == StateName && f.Method != tc.want {
				t.Errorf("%s: state.bin method %d, want %d", name, f.Method, tc.want)
			}
		}
		if err := verifyBytes(t, out.Bytes()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// mutableReaderAt lets a test change an archive after it was verified.
type mutableReaderAt struct{ b []byte }

func (m *mutableReaderAt) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(m.b).ReadAt(p, off)
}

// TestReadCloserDetectsChange checks that the reader Read returns fails,
// rather than ending cleanly, when state.bin changes after verification.
func TestReadCloserDetectsChange(t *testing.T) {
	data, _ := writeArchive(t, makeRecords(rand.New(rand.NewPCG(11, 12)), 300))
	from, to := snapshottest.DataRegion(t, data, StateName)
	for _, at := range []int64{from + 10, from + (to-from)/2, to - 3} {
		m := &mutableReaderAt{b: bytes.Clone(data)}
		_, rc, err := Read(m, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		m.b[at] ^= 0x10
		_, err = io.Copy(io.Discard, rc)
		wantErr(t, err, ErrCorrupt, "state.bin")
		if _, err := rc.Read(make([]byte, 10)); err == nil || err == io.EOF {
			t.Fatalf("read after failure: %v", err)
		}
		rc.Close()
	}
}

// TestReadCloserCRC checks that the zip CRC is checked at the end of the
// reader Read returns, with contents changed in a way deflate accepts.
func TestReadCloserCRC(t *testing.T) {
	state := dumpBytes(t, structs.SnapshotHeader{LastIndex: 1}, makeRecords(rand.New(rand.NewPCG(1, 1)), 5))
	meta := testMetaJSON(t, int64(len(state)))
	data := snapshottest.Zip(t, snapshottest.ValidEntries(meta, state, zip.Store)...)
	m := &mutableReaderAt{b: bytes.Clone(data)}
	_, rc, err := Read(m, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	// Stored, so one byte changes one byte of state.bin.
	i := bytes.Index(m.b, state)
	m.b[i+len(state)-1] ^= 1
	_, err = io.Copy(io.Discard, rc)
	wantErr(t, err, ErrCorrupt, "state.bin", "checksum")
}
