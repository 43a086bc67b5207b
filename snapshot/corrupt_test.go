package snapshot

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

func testMetaJSON(t testing.TB, size int64) []byte {
	t.Helper()
	b, err := json.Marshal(testMeta(size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// smallState is the dump inside smallArchive.
func smallState(t testing.TB) []byte {
	_, recs := smallArchive(t)
	return dumpBytes(t, structs.SnapshotHeader{LastIndex: 4711}, recs)
}

// archiveOf is a valid archive of state, with meta.json made to match
// and then changed by edit (if not nil), and the sums made to match that.
func archiveOf(t testing.TB, state []byte, edit func(*raft.SnapshotMeta)) []byte {
	t.Helper()
	m := testMeta(int64(len(state)))
	if edit != nil {
		edit(m)
	}
	meta, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return snapshottest.Zip(t, snapshottest.ValidEntries(meta, state, zip.Deflate)...)
}

func TestTruncated(t *testing.T) {
	data, _ := smallArchive(t)
	if err := verifyBytes(t, data); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n++ {
		err := verifyBytes(t, data[:n])
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(data), err)
		}
	}
	wantErr(t, verifyBytes(t, data[:len(data)/2]), ErrCorrupt, "not a valid zip archive")
	wantErr(t, verifyBytes(t, nil), ErrCorrupt, "only 0 bytes")
}

// TestBitFlips flips every bit of each entry's data, and every byte of
// the whole archive: each change must be caught, unless it leaves every
// entry's contents as they were (as a flip in a zip timestamp, or in the
// padding after deflate's last block, does).
func TestBitFlips(t *testing.T) {
	data, _ := smallArchive(t)
	orig := snapshottest.Unpack(t, data)
	check := func(t *testing.T, at int64, mask byte) {
		d := bytes.Clone(data)
		d[at] ^= mask
		err := verifyBytes(t, d)
		if err == nil {
			got := snapshottest.Unpack(t, d)
			for name, b := range orig {
				if !bytes.Equal(got[name], b) {
					t.Fatalf("flip %#x at %d changed %s and was not caught", mask, at, name)
				}
			}
			return
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("flip %#x at %d: %v", mask, at, err)
		}
	}
	for _, name := range []string{MetaName, StateName, SumsName} {
		t.Run(name, func(t *testing.T) {
			from, to := snapshottest.DataRegion(t, data, name)
			for at := from; at < to; at++ {
				for bit := 0; bit < 8; bit++ {
					check(t, at, 1<<bit)
				}
			}
		})
	}
	t.Run("whole archive", func(t *testing.T) {
		for at := int64(0); at < int64(len(data)); at++ {
			check(t, at, 0x41)
		}
	})
}

func TestEntries(t *testing.T) {
	state := smallState(t)
	meta := testMetaJSON(t, int64(len(state)))
	valid := snapshottest.ValidEntries(meta, state, zip.Deflate)
	m, s, c := valid[0], valid[1], valid[2]
	renamed := func(e snapshottest.Entry, name string) snapshottest.Entry { e.Name = name; return e }
	stored := func(name string, data []byte) snapshottest.Entry {
		return snapshottest.Entry{Name: name, Data: data, Method: zip.Store}
	}
	cases := []struct {
		name    string
		entries []snapshottest.Entry
		words   []string
	}{
		{"missing meta.json", []snapshottest.Entry{s, c}, []string{"missing entry meta.json"}},
		{"missing state.bin", []snapshottest.Entry{m, c}, []string{"missing entry state.bin"}},
		{"missing SHA256SUMS", []snapshottest.Entry{m, s}, []string{"missing entry SHA256SUMS"}},
		{"extra entry", []snapshottest.Entry{m, s, c, stored("README", []byte("hi"))}, []string{`unexpected entry "README"`}},
		{"duplicate meta.json", []snapshottest.Entry{m, m, s, c}, []string{`duplicate entry "meta.json"`}},
		{"duplicate state.bin last", []snapshottest.Entry{m, s, c, s}, []string{`duplicate entry "state.bin"`}},
		{"renamed", []snapshottest.Entry{renamed(m, "Meta.json"), s, c}, []string{`unexpected entry "Meta.json"`}},
		{"parent path", []snapshottest.Entry{renamed(m, "../meta.json"), s, c}, []string{`"../meta.json" is a path`}},
		{"subdirectory", []snapshottest.Entry{m, renamed(s, "a/state.bin"), c}, []string{`"a/state.bin" is a path`}},
		{"absolute path", []snapshottest.Entry{m, renamed(s, "/state.bin"), c}, []string{`"/state.bin" is a path`}},
		{"backslash", []snapshottest.Entry{m, s, renamed(c, `x\SHA256SUMS`), c}, []string{`is a path`}},
		{"directory", []snapshottest.Entry{m, s, c, stored("dir/", nil)}, []string{`"dir/" is a directory`}},
		{"directory named meta.json", []snapshottest.Entry{stored("meta.json/", nil), s, c}, []string{`"meta.json/" is a directory`}},
		{"no entries", nil, []string{"not a zip archive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, verifyBytes(t, snapshottest.Zip(t, tc.entries...)), ErrCorrupt, tc.words...)
		})
	}
	// Entries may come in any order; a valid set is accepted.
	if err := verifyBytes(t, snapshottest.Zip(t, c, s, m)); err != nil {
		t.Fatalf("reordered entries: %v", err)
	}
	if err := verifyBytes(t, snapshottest.Zip(t, stored(MetaName, meta), s, c)); err != nil {
		t.Fatalf("stored entry: %v", err)
	}
}

func TestNotZip(t *testing.T) {
	wantErr(t, verifyBytes(t, []byte("PK")), ErrCorrupt, "only 2 bytes")
	wantErr(t, verifyBytes(t, []byte("hello, world")), ErrCorrupt, "not a zip archive", "68656c6c")

	// Consul's own format: a gzipped tar of the same three files.
	state := smallState(t)
	meta := testMetaJSON(t, int64(len(state)))
	err := verifyBytes(t, snapshottest.TarGz(t, snapshottest.ValidEntries(meta, state, zip.Store)...))
	wantErr(t, err, ErrCorrupt, "Consul tar.gz snapshots are not supported yet")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("%v does not wrap errors.ErrUnsupported", err)
	}
}

func TestSums(t *testing.T) {
	state := smallState(t)
	meta := testMetaJSON(t, int64(len(state)))
	metaHex := fmt.Sprintf("%x", sha256.Sum256(meta))
	stateHex := fmt.Sprintf("%x", sha256.Sum256(state))
	zeros := strings.Repeat("0", 64)
	cases := []struct {
		name  string
		sums  string
		kind  error
		words []string
	}{
		{"wrong meta.json sum", zeros + "  meta.json\n" + stateHex + "  state.bin\n", ErrCorrupt, []string{"meta.json: sha256 mismatch"}},
		{"wrong state.bin sum", metaHex + "  meta.json\n" + zeros + "  state.bin\n", ErrCorrupt, []string{"state.bin: sha256 mismatch"}},
		{"uppercase hex", strings.ToUpper(metaHex) + "  meta.json\n" + stateHex + "  state.bin\n", ErrCorrupt, []string{"line 1", "lowercase hex"}},
		{"not hex", metaHex + "  meta.json\n" + "g" + stateHex[1:] + "  state.bin\n", ErrCorrupt, []string{"line 2", "lowercase hex"}},
		{"short hex", metaHex[2:] + "  meta.json\n" + stateHex + "  state.bin\n", ErrCorrupt, []string{"line 1", "62 hex digits"}},
		{"extra line", metaHex + "  meta.json\n" + stateHex + "  state.bin\n" + zeros + "  other\n", ErrCorrupt, []string{"has 3 lines"}},
		{"blank line", metaHex + "  meta.json\n" + stateHex + "  state.bin\n\n", ErrCorrupt, []string{"has 3 lines"}},
		{"missing line", metaHex + "  meta.json\n", ErrCorrupt, []string{"has 1 lines"}},
		{"empty", "", ErrCorrupt, []string{"SHA256SUMS: does not end with a newline"}},
		{"no final newline", metaHex + "  meta.json\n" + stateHex + "  state.bin", ErrCorrupt, []string{"newline"}},
		{"swapped", stateHex + "  state.bin\n" + metaHex + "  meta.json\n", ErrCorrupt, []string{`line 1 names "state.bin"`}},
		{"wrong name", metaHex + "  meta.json\n" + stateHex + "  state.dat\n", ErrCorrupt, []string{`line 2 names "state.dat"`}},
		{"binary marker", metaHex + " *meta.json\n" + stateHex + "  state.bin\n", ErrCorrupt, []string{"line 1 is not"}},
		{"crlf", metaHex + "  meta.json\r\n" + stateHex + "  state.bin\r\n", ErrCorrupt, []string{`"meta.json\r"`}},
		{"too large", strings.Repeat("#", 5000) + "\n", ErrTooLarge, []string{"SHA256SUMS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries := snapshottest.ValidEntries(meta, state, zip.Deflate)
			entries[2].Data = []byte(tc.sums)
			data := snapshottest.Zip(t, entries...)
			wantErr(t, verifyBytes(t, data), tc.kind, tc.words...)
		})
	}
}

func TestMeta(t *testing.T) {
	state := smallState(t)
	size := int64(len(state))
	good := testMetaJSON(t, size)
	withField := func(field, value string) []byte {
		var m map[string]interface{}
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		var v interface{}
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatal(err)
		}
		m[field] = v
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name  string
		meta  []byte
		kind  error
		words []string
	}{
		{"not JSON", []byte("{not json"), ErrCorrupt, []string{"meta.json: not valid JSON"}},
		{"array", []byte("[1, 2]"), ErrCorrupt, []string{"meta.json: not a JSON object"}},
		{"null", []byte("null"), ErrCorrupt, []string{"not a JSON object"}},
		{"empty", nil, ErrCorrupt, []string{"not a JSON object"}},
		{"trailing garbage", append(bytes.Clone(good), "x"...), ErrCorrupt, []string{"data after the JSON object"}},
		{"two objects", append(bytes.Clone(good), good...), ErrCorrupt, []string{"data after the JSON object"}},
		{"wrong type", withField("Index", `"4711"`), ErrCorrupt, []string{"not valid JSON"}},
		{"size too big", withField("Size", fmt.Sprint(size+1)), ErrCorrupt, []string{fmt.Sprintf("Size is %d, but the zip says state.bin is %d bytes", size+1, size)}},
		{"size too small", withField("Size", fmt.Sprint(size-1)), ErrCorrupt, []string{"Size is"}},
		{"size negative", withField("Size", "-5"), ErrCorrupt, []string{"Size is negative"}},
		{"size huge", withField("Size", fmt.Sprint(int64(1)<<40)), ErrTooLarge, []string{"over MaxStateSize"}},
		{"version", withField("Version", "2"), ErrCorrupt, []string{"meta.json: unsupported Version 2"}},
		{"version negative", withField("Version", "-1"), ErrCorrupt, []string{"unsupported Version -1"}},
		{"index 0", withField("Index", "0"), ErrCorrupt, []string{"meta.json: Index is 0"}},
		{"no index", []byte(fmt.Sprintf(`{"Version":1,"Size":%d}`, size)), ErrCorrupt, []string{"Index is 0"}},
		{"larger than 1 MiB", append(bytes.Clone(good), bytes.Repeat([]byte(" "), 1<<20)...), ErrTooLarge, []string{"meta.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := snapshottest.Zip(t, snapshottest.ValidEntries(tc.meta, state, zip.Deflate)...)
			wantErr(t, verifyBytes(t, data), tc.kind, tc.words...)
		})
	}
	// Unknown fields are fine, and so is whitespace around the object.
	for _, meta := range [][]byte{withField("FutureField", `{"a":[1,2]}`), append(append([]byte("\n "), good...), "\n"...)} {
		if err := verifyBytes(t, snapshottest.Zip(t, snapshottest.ValidEntries(meta, state, zip.Deflate)...)); err != nil {
			t.Fatalf("%s: %v", meta, err)
		}
	}
}

func TestStateDump(t *testing.T) {
	hdr := structs.SnapshotHeader{LastIndex: 4711}
	good := smallState(t)
	headerOnly := dumpBytes(t, hdr, nil)
	kv := dumpBytes(t, hdr, []testRecord{{structs.KVSRequestType, &structs.DirEntry{Key: "a", Value: []byte("b")}}})
	record := kv[len(headerOnly):]
	garbage := make([]byte, 500)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name  string
		state []byte
		words []string
	}{
		{"empty", nil, []string{"state.bin: empty state dump"}},
		{"unknown record type", cat(good, []byte{77}, record[1:]), []string{"state.bin: unknown record type 77"}},
		{"type not allowed in a dump", cat(headerOnly, []byte{byte(structs.TxnRequestType)}, record[1:]), []string{"unknown record type 8"}},
		{"garbage", garbage, []string{"state.bin"}},
		{"garbage after header", cat(headerOnly, garbage), []string{"state.bin"}},
		{"trailing type byte", cat(good, []byte{byte(structs.KVSRequestType)}), []string{"truncated"}},
		{"trailing partial record", cat(good, record[:len(record)-1]), []string{"truncated"}},
		{"partial header", headerOnly[:len(headerOnly)-1], []string{"header is truncated"}},
		{"record not a map", cat(headerOnly, []byte{byte(structs.KVSRequestType), 0x93, 1, 2, 3}), []string{"not a msgpack map"}},
		{"record of wrong shape", cat(headerOnly, []byte{byte(structs.IndexRequestType), 0x81, 0xa5, 'V', 'a', 'l', 'u', 'e', 0xa1, 'x'}), []string{"record 1 (Index) at offset", "does not decode"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := archiveOf(t, tc.state, nil)
			wantErr(t, verifyBytes(t, data), ErrCorrupt, tc.words...)
		})
	}
	if err := verifyBytes(t, archiveOf(t, headerOnly, nil)); err != nil {
		t.Fatalf("header-only dump: %v", err)
	}
}

// centralHeader finds the central directory record of name.
func centralHeader(t testing.TB, data []byte, name string) int {
	t.Helper()
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("PK\x01\x02"))
		if j < 0 {
			t.Fatalf("no central directory record for %s", name)
		}
		i += j
		n := int(binary.LittleEndian.Uint16(data[i+28:]))
		if string(data[i+46:i+46+n]) == name {
			return i
		}
		i += 4
	}
}

// Offsets of the sizes in a central directory record.
const (
	centralCompressedSize   = 20
	centralUncompressedSize = 24
)

// TestDeclaredSizes lies about entry sizes in the central directory.
func TestDeclaredSizes(t *testing.T) {
	data, _ := smallArchive(t)
	for _, name := range []string{MetaName, StateName, SumsName} {
		for _, field := range []int{centralCompressedSize, centralUncompressedSize} {
			for _, delta := range []uint32{1, 1000, 1 << 31} {
				t.Run(fmt.Sprintf("%s/%d/+%d", name, field, delta), func(t *testing.T) {
					d := bytes.Clone(data)
					at := centralHeader(t, d, name) + field
					binary.LittleEndian.PutUint32(d[at:], binary.LittleEndian.Uint32(d[at:])+delta)
					err := verifyBytes(t, d)
					if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
						t.Fatalf("%v", err)
					}
				})
			}
		}
	}
}

// TestDeflateBomb checks that entries that inflate far beyond the limits
// are refused, whether their sizes are declared honestly or not, without
// inflating them whole.
func TestDeflateBomb(t *testing.T) {
	defer func(old int64) { MaxStateSize = old }(MaxStateSize)
	MaxStateSize = 1 << 20

	hdr := structs.SnapshotHeader{LastIndex: 1}
	var recs []testRecord
	for i := 0; i < 8; i++ {
		recs = append(recs, testRecord{structs.KVSRequestType, &structs.DirEntry{Key: fmt.Sprint(i), Value: make([]byte, 512<<10)}})
	}
	state := dumpBytes(t, hdr, recs) // 4 MiB of almost only zeros
	honest := archiveOf(t, state, nil)
	if len(honest) > 64<<10 {
		t.Fatalf("the bomb is %d bytes", len(honest))
	}
	wantErr(t, verifyBytes(t, honest), ErrTooLarge, "over MaxStateSize")

	// The archive claims a small state.bin, everywhere.
	lying := archiveOf(t, state, func(m *raft.SnapshotMeta) { m.Size = 1000 })
	at := centralHeader(t, lying, StateName) + centralUncompressedSize
	binary.LittleEndian.PutUint32(lying[at:], 1000)
	wantErr(t, verifyBytes(t, lying), ErrCorrupt, "state.bin: more data than the zip declares")

	// Only the zip directory lies.
	lying = bytes.Clone(honest)
	at = centralHeader(t, lying, StateName) + centralUncompressedSize
	binary.LittleEndian.PutUint32(lying[at:], 1000)
	wantErr(t, verifyBytes(t, lying), ErrTooLarge)

	// meta.json: two megabytes of spaces, honest, then lying.
	state = smallState(t)
	meta := append(testMetaJSON(t, int64(len(state))), bytes.Repeat([]byte(" "), 2<<20)...)
	metaBomb := snapshottest.Zip(t, snapshottest.ValidEntries(meta, state, zip.Deflate)...)
	wantErr(t, verifyBytes(t, metaBomb), ErrTooLarge, "meta.json")
	at = centralHeader(t, metaBomb, MetaName) + centralUncompressedSize
	binary.LittleEndian.PutUint32(metaBomb[at:], 100)
	wantErr(t, verifyBytes(t, metaBomb), ErrCorrupt, "meta.json: more data than the zip declares")
}

// TestLocalHeadersMustAgree: an archive whose local headers say other
// than its central directory, or that does not start with its first
// entry, is refused.
func TestLocalHeadersMustAgree(t *testing.T) {
	data, _ := smallArchive(t)
	edit := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(data)) }
	nameAt := int(localHeaderLen) // the first entry's name, meta.json
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"renamed in the local header", edit(func(b []byte) []byte { b[nameAt+8] = 'N'; return b }), `names "meta.jsoN", the central directory "meta.json"`},
		{"method changed in the local header", edit(func(b []byte) []byte { b[8] = 0; return b }), "says method 0"},
		{"junk before the first entry", append([]byte("junk"), data...), "not a zip archive"},
		{"a fake header before the first entry", append([]byte("PK\x03\x04junk"), data...), "local header at offset 0 names"},
	} {
		if err := verifyBytes(t, tc.data); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrCorrupt mentioning %q", tc.name, err, tc.want)
		}
	}
}
