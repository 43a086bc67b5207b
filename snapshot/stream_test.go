package snapshot

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
)

// TestStreamRoundTrip: a streamed read of what Write wrote gives the
// metadata, the state bytes, every record (fresh values, in order), the
// header and the sum.
func TestStreamRoundTrip(t *testing.T) {
	testutil.CheckLeaks(t)
	for _, perType := range []int{0, 3, 3000} {
		recs := makeRecords(rand.New(rand.NewPCG(5, uint64(perType))), perType)
		data, meta := writeArchive(t, recs)
		var got []testRecord
		smeta, st, err := OpenStream(bytes.NewReader(data), func(mt structs.MessageType, rec interface{}) error {
			got = append(got, kept(mt, rec))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		state, err := io.ReadAll(st)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if !reflect.DeepEqual(smeta, meta) || smeta.Size != int64(len(state)) {
			t.Fatalf("meta %+v, want %+v", smeta, meta)
		}
		sameRecords(t, got, recs)
		if st.Header().LastIndex != 4711 {
			t.Fatalf("header %+v", st.Header())
		}
		if sum := sha256.Sum256(state); !bytes.Equal(st.Sum(), sum[:]) {
			t.Fatal("Sum is not the SHA-256 of state.bin")
		}
		if err := verifyBytes(t, data); err != nil {
			t.Fatal(err)
		}
	}
}

// sizedArchive is a valid archive whose local headers carry the sizes,
// with no data descriptors, as zip tools writing to a file do.
func sizedArchive(t testing.TB, method uint16) []byte {
	t.Helper()
	state := smallState(t)
	entries := snapshottest.ValidEntries(testMetaJSON(t, int64(len(state))), state, method)
	for i := range entries {
		entries[i].Sized = true
	}
	return snapshottest.ZipWithComment(t, "made by a zip tool", entries...)
}

// TestStreamAccepts covers the valid archives a streamed restore takes:
// Write's, with state.bin stored or deflated, and archives whose local
// headers carry the sizes (any method), with a comment.
func TestStreamAccepts(t *testing.T) {
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		if _, _, err := streamBytes(sizedArchive(t, method)); err != nil {
			t.Errorf("method %d: %v", method, err)
		}
	}
	// Write stores random state.bin and deflates text.
	random := makeRecords(rand.New(rand.NewPCG(11, 11)), 500)
	text := []testRecord{}
	for i := 0; i < 3000; i++ {
		text = append(text, testRecord{structs.KVSRequestType, &structs.DirEntry{Key: "k", Value: []byte(strings.Repeat("text ", 50))}})
	}
	for _, recs := range [][]testRecord{random, text} {
		data, _ := writeArchive(t, recs)
		if _, _, err := streamBytes(data); err != nil {
			t.Error(err)
		}
	}
}

// TestStreamHoldsBackTheEnd: when anything after state.bin's last byte is
// wrong, the reader fails before it hands out that byte, so a consumer
// never holds a complete state from a bad archive.
func TestStreamHoldsBackTheEnd(t *testing.T) {
	data, meta := writeArchive(t, makeRecords(rand.New(rand.NewPCG(12, 12)), 20))
	sumsAt, _ := snapshottest.DataRegion(t, data, SumsName)
	dirAt := centralHeader(t, data, MetaName)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"trailing byte", append(bytes.Clone(data), 0), "data after the end"},
		{"no central directory", data[:dirAt], "truncated"},
		{"truncated sums", data[:sumsAt+3], "SHA256SUMS"},
		{"wrong sums", func() []byte {
			d := bytes.Clone(data)
			d[sumsAt+10] ^= 0x20
			return d
		}(), "SHA256SUMS"},
		{"directory names another entry", func() []byte {
			d := bytes.Clone(data)
			copy(d[dirAt+centralHeaderLen:], "beta.json")
			return d
		}(), "central directory names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			_, st, err := OpenStream(bytes.NewReader(tc.data), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			n, err := io.Copy(io.Discard, st)
			wantErr(t, err, ErrCorrupt, tc.want)
			if n >= meta.Size {
				t.Fatalf("handed out %d bytes, all of state.bin", n)
			}
			if st.Err() == nil || st.Sum() != nil {
				t.Fatal("the stream does not remember its failure")
			}
		})
	}
}

// TestStreamEmptyBlocks: a deflate stream of empty blocks, which never
// yields a byte, is cut off after a bounded read, not followed forever.
func TestStreamEmptyBlocks(t *testing.T) {
	state := smallState(t)
	archive := snapshottest.Zip(t,
		snapshottest.Entry{Name: MetaName, Data: testMetaJSON(t, int64(len(state))), Method: zip.Deflate, Sized: true},
		snapshottest.Entry{Name: StateName, Method: zip.Deflate})
	// A local header for state.bin with a data descriptor, then endless
	// empty stored blocks (BFINAL 0, BTYPE 00, LEN 0, NLEN 0xffff).
	stateAt, _ := snapshottest.DataRegion(t, archive, StateName)
	src := &endless{head: archive[:stateAt], block: []byte{0, 0, 0, 0xff, 0xff}}
	_, st, err := OpenStream(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = io.Copy(io.Discard, st)
	wantErr(t, err, ErrCorrupt, "state.bin", "runs on")
	if src.n > 4<<20 {
		t.Fatalf("read %d bytes of empty blocks", src.n)
	}
}

// endless yields head, then block over and over.
type endless struct {
	head, block []byte
	n           int64 // bytes of blocks read
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		return n, nil
	}
	for i := range p {
		p[i] = e.block[e.n%int64(len(e.block))]
		e.n++
	}
	return len(p), nil
}

// TestStreamErrors: an error from fn comes back as it is and stops the
// read; a failing source is not reported as a corrupt archive; closing
// early ends the decoder.
func TestStreamErrors(t *testing.T) {
	testutil.CheckLeaks(t)
	data, _ := writeArchive(t, makeRecords(rand.New(rand.NewPCG(13, 13)), 300))

	errStop := errors.New("store refuses the record")
	_, st, err := OpenStream(bytes.NewReader(data), func(structs.MessageType, interface{}) error { return errStop })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, st); err != errStop {
		t.Fatalf("got %v, want fn's error as it is", err)
	}
	st.Close()

	errNet := errors.New("connection reset")
	_, st, err = OpenStream(&failingReader{r: bytes.NewReader(data[:len(data)/2]), err: errNet}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, st)
	if !errors.Is(err, errNet) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want the source's error, not ErrCorrupt", err)
	}
	st.Close()

	_, st, err = OpenStream(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, st, 1000)
	st.Close()
	if _, err := st.Read(make([]byte, 10)); err == nil {
		t.Fatal("read after close succeeded")
	}
}

// withZip64End inserts a zip64 end of central directory record and its
// locator (with totalDisks) before the end record of data, and saturates
// the end record's fields as sat says: entries, size, offset.
func withZip64End(t *testing.T, data []byte, totalDisks uint32, sat [3]bool) []byte {
	t.Helper()
	end := bytes.LastIndex(data, []byte("PK\x05\x06"))
	dirSize := binary.LittleEndian.Uint32(data[end+12:])
	dirAt := binary.LittleEndian.Uint32(data[end+16:])
	z := make([]byte, end64Len+end64LocatorLen)
	binary.LittleEndian.PutUint32(z[0:], end64Sig)
	binary.LittleEndian.PutUint64(z[4:], end64Len-12)
	binary.LittleEndian.PutUint64(z[24:], 3)
	binary.LittleEndian.PutUint64(z[32:], 3)
	binary.LittleEndian.PutUint64(z[40:], uint64(dirSize))
	binary.LittleEndian.PutUint64(z[48:], uint64(dirAt))
	binary.LittleEndian.PutUint32(z[56:], end64LocatorSig)
	binary.LittleEndian.PutUint64(z[64:], uint64(end))
	binary.LittleEndian.PutUint32(z[72:], totalDisks)
	tail := bytes.Clone(data[end:])
	if sat[0] {
		binary.LittleEndian.PutUint16(tail[8:], uint16max)
		binary.LittleEndian.PutUint16(tail[10:], uint16max)
	}
	if sat[1] {
		binary.LittleEndian.PutUint32(tail[12:], uint32max)
	}
	if sat[2] {
		binary.LittleEndian.PutUint32(tail[16:], uint32max)
	}
	return append(append(bytes.Clone(data[:end]), z...), tail...)
}

// TestStreamRefusesWhatReadRefuses: archives that the stream, parsing
// front to back, could read differently from a reader that goes by the
// central directory (archive/zip): each is refused by both.
func TestStreamRefusesWhatReadRefuses(t *testing.T) {
	data, _ := writeArchive(t, makeRecords(rand.New(rand.NewPCG(14, 14)), 5))
	end := bytes.LastIndex(data, []byte("PK\x05\x06"))

	fakeEnd := append([]byte("PK\x05\x06"), make([]byte, 18)...)
	withComment := append(bytes.Clone(data), fakeEnd...)
	binary.LittleEndian.PutUint16(withComment[end+20:], uint16(len(fakeEnd)))

	noDescriptor := bytes.Clone(data)
	at := centralHeader(t, noDescriptor, MetaName) + 8
	binary.LittleEndian.PutUint16(noDescriptor[at:], binary.LittleEndian.Uint16(noDescriptor[at:])&^flagDataDescriptor)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"an end record in the comment", withComment, "comment"},
		{"zip64 locator counting no disk", withZip64End(t, data, 0, [3]bool{true, true, true}), "disks"},
		{"zip64 with only the size saturated", withZip64End(t, data, 1, [3]bool{false, true, false}), "saturated"},
		{"central directory without the data descriptor flag", noDescriptor, "flags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := streamBytes(tc.data)
			wantErr(t, err, ErrCorrupt, tc.want)
			if verifyBytes(t, tc.data) == nil {
				t.Log("Verify accepts it; the stream is stricter")
			}
		})
	}
	// A zip64 end as Go's writer puts it, every field saturated, is read.
	if _, _, err := streamBytes(withZip64End(t, data, 1, [3]bool{true, true, true})); err != nil {
		t.Fatalf("zip64 end: %v", err)
	}
	if err := verifyBytes(t, withZip64End(t, data, 1, [3]bool{true, true, true})); err != nil {
		t.Fatalf("zip64 end, Verify: %v", err)
	}
}

// TestStreamStoredSizes: a stored entry whose local header gives other
// sizes for its data and its contents is refused.
func TestStreamStoredSizes(t *testing.T) {
	data := sizedArchive(t, zip.Store)
	binary.LittleEndian.PutUint32(data[18:], binary.LittleEndian.Uint32(data[18:])+10)
	_, _, err := streamBytes(data)
	wantErr(t, err, ErrCorrupt, "meta.json", "stored")
	verifyBytes(t, data)
}
