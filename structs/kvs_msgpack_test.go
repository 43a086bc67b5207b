package structs

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// codecEncode is the reference: what the reflective codec writes for e.
func codecEncode(t testing.TB, e *DirEntry) []byte {
	t.Helper()
	var b []byte
	if err := codec.NewEncoderBytes(&b, MsgpackHandle).Encode(e); err != nil {
		t.Fatalf("codec encode: %v", err)
	}
	return b
}

// codecDecode is what the reflective codec decodes b to.
func codecDecode(b []byte) (DirEntry, error) {
	var e DirEntry
	err := codec.NewDecoderBytes(b, MsgpackHandle).Decode(&e)
	return e, err
}

func randBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)}).Read(b)
	return b
}

// dirEntryCases covers every length and integer form boundary.
func dirEntryCases() map[string]*DirEntry {
	cases := map[string]*DirEntry{
		"zero":             {},
		"nil value":        {Key: "k", Value: nil},
		"empty value":      {Key: "k", Value: []byte{}},
		"session":          {Key: "k", Value: []byte("v"), Session: "5b3c6a0e-9c8f-4d21-8a55-0d5e1f6a7b8c"},
		"empty session":    {Key: "k", Value: []byte("v"), Session: ""},
		"one-byte session": {Key: "k", Session: "s"},
		"everything": {
			LockIndex: 3, Key: "service/web/leader", Flags: 42, Value: []byte("10.0.0.1"),
			Session: "sess", RaftIndex: RaftIndex{CreateIndex: 1000, ModifyIndex: 70000},
		},
	}
	for _, n := range []int{0, 1, 31, 32, 255, 256, 65535, 65536} {
		cases[fmt.Sprintf("value len %d", n)] = &DirEntry{Key: "k", Value: randBytes(n, uint64(n))}
	}
	for _, n := range []int{0, 31, 32, 255, 256, 65535, 65536} {
		cases[fmt.Sprintf("key len %d", n)] = &DirEntry{Key: strings.Repeat("k", n), Value: []byte("v")}
		cases[fmt.Sprintf("session len %d", n)] = &DirEntry{Key: "k", Session: strings.Repeat("s", n)}
	}
	uints := []uint64{0, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64}
	for i, u := range uints {
		// Rotated so that each value lands in each field.
		cases[fmt.Sprintf("uint %d", u)] = &DirEntry{
			LockIndex: u,
			Flags:     uints[(i+1)%len(uints)],
			Key:       "k",
			RaftIndex: RaftIndex{
				CreateIndex: uints[(i+2)%len(uints)],
				ModifyIndex: uints[(i+3)%len(uints)],
			},
		}
	}
	return cases
}

func TestDirEntryMsgpackMatchesCodec(t *testing.T) {
	for name, e := range dirEntryCases() {
		t.Run(name, func(t *testing.T) {
			want := codecEncode(t, e)
			if got := e.AppendMsgpack(nil); !bytes.Equal(got, want) {
				t.Fatalf("AppendMsgpack differs from codec:\n got % x\nwant % x", head(got), head(want))
			}
			prefix := []byte("prefix")
			if got := e.AppendMsgpack(prefix); !bytes.Equal(got, append(prefix, want...)) {
				t.Fatalf("AppendMsgpack(prefix) does not append")
			}
			if got := e.MsgpackSize(); got != len(want) {
				t.Fatalf("MsgpackSize = %d, codec wrote %d bytes", got, len(want))
			}

			wantDec, err := codecDecode(want)
			if err != nil {
				t.Fatalf("codec decode: %v", err)
			}
			// Stale fields must not survive, Session in particular, which
			// the encoding leaves out when empty.
			got := DirEntry{LockIndex: 9, Key: "stale", Value: []byte("stale"), Session: "stale",
				RaftIndex: RaftIndex{CreateIndex: 9, ModifyIndex: 9}}
			in := bytes.Clone(want)
			if !got.DecodeMsgpackCanonical(in) {
				t.Fatalf("DecodeMsgpackCanonical refused the codec's encoding % x", head(want))
			}
			clear(in) // Value must not alias the input.
			if !reflect.DeepEqual(got, wantDec) {
				t.Fatalf("DecodeMsgpackCanonical = %+v, codec decodes %+v", brief(got), brief(wantDec))
			}
		})
	}
}

// TestDirEntryMsgpackView: the view decode gives what the copying one
// gives, with a Value that points into the input and cannot grow into it.
func TestDirEntryMsgpackView(t *testing.T) {
	for name, e := range dirEntryCases() {
		b := e.AppendMsgpack(nil)
		var copied, viewed DirEntry
		if !copied.DecodeMsgpackCanonical(b) || !viewed.DecodeMsgpackCanonicalView(b) {
			t.Fatalf("%s: refused", name)
		}
		if !reflect.DeepEqual(copied, viewed) {
			t.Fatalf("%s: view %+v, copy %+v", name, brief(viewed), brief(copied))
		}
		if len(viewed.Value) == 0 {
			continue
		}
		if &viewed.Value[0] != &b[len(b)-len(viewed.Value)] || cap(viewed.Value) != len(viewed.Value) {
			t.Fatalf("%s: Value does not view the input's last bytes, capped", name)
		}
	}
}

func TestDirEntryMsgpackTruncated(t *testing.T) {
	for name, e := range dirEntryCases() {
		b := e.AppendMsgpack(nil)
		for i := range b {
			// Every prefix of the small encodings; around the headers and
			// the end of the large ones, to keep the test fast.
			if len(b) > 4096 && i > 64 && i < len(b)-64 {
				continue
			}
			var got DirEntry
			if got.DecodeMsgpackCanonical(b[:i]) {
				t.Fatalf("%s: accepted the first %d of %d bytes", name, i, len(b))
			}
		}
	}
}

// mpField is one map entry of a hand-built encoding: a field name (written
// as fixstr) and its already encoded value.
type mpField struct {
	name string
	val  []byte
}

func mpMapOf(fields []mpField) []byte {
	b := []byte{0x80 | byte(len(fields))}
	for _, f := range fields {
		b = append(b, 0xa0|byte(len(f.name)))
		b = append(b, f.name...)
		b = append(b, f.val...)
	}
	return b
}

func TestDirEntryMsgpackRefusesNonCanonical(t *testing.T) {
	e := &DirEntry{Key: "k", Flags: 1, Value: []byte("v"), RaftIndex: RaftIndex{CreateIndex: 2, ModifyIndex: 3}}
	base := []mpField{
		{"CreateIndex", []byte{2}},
		{"Flags", []byte{1}},
		{"Key", []byte{0xa1, 'k'}},
		{"LockIndex", []byte{0}},
		{"ModifyIndex", []byte{3}},
		{"Value", []byte{0xc4, 1, 'v'}},
	}
	canonical := mpMapOf(base)
	if want := codecEncode(t, e); !bytes.Equal(canonical, want) {
		t.Fatalf("hand-built base % x, codec writes % x", canonical, want)
	}
	if got := new(DirEntry); !got.DecodeMsgpackCanonical(canonical) {
		t.Fatalf("base encoding refused")
	}

	// with returns base with the value of field name replaced.
	with := func(name string, val ...byte) []byte {
		fs := slices.Clone(base)
		for i := range fs {
			if fs[i].name == name {
				fs[i].val = val
			}
		}
		return mpMapOf(fs)
	}
	// reorder returns base's fields in the order given by idx.
	reorder := func(idx ...int) []byte {
		var fs []mpField
		for _, i := range idx {
			fs = append(fs, base[i])
		}
		return mpMapOf(fs)
	}
	insert := func(at int, f mpField) []byte {
		fs := append(slices.Clone(base[:at]), f)
		return mpMapOf(append(fs, base[at:]...))
	}

	cases := map[string][]byte{
		"uint8 for fixint":      with("CreateIndex", 0xcc, 2),
		"uint16 for fixint":     with("Flags", 0xcd, 0, 1),
		"uint32 for fixint":     with("LockIndex", 0xce, 0, 0, 0, 0),
		"uint64 for fixint":     with("ModifyIndex", 0xcf, 0, 0, 0, 0, 0, 0, 0, 3),
		"int8 for fixint":       with("CreateIndex", 0xd0, 2),
		"int64 for fixint":      with("Flags", 0xd3, 0, 0, 0, 0, 0, 0, 0, 1),
		"str8 for fixstr":       with("Key", 0xd9, 1, 'k'),
		"str16 for fixstr":      with("Key", 0xda, 0, 1, 'k'),
		"str32 for fixstr":      with("Key", 0xdb, 0, 0, 0, 1, 'k'),
		"bin for Key":           with("Key", 0xc4, 1, 'k'),
		"nil for Key":           with("Key", 0xc0),
		"bin16 for bin8":        with("Value", 0xc5, 0, 1, 'v'),
		"bin32 for bin8":        with("Value", 0xc6, 0, 0, 0, 1, 'v'),
		"str for Value":         with("Value", 0xa1, 'v'),
		"map16 header":          append([]byte{0xde, 0, 6}, canonical[1:]...),
		"map32 header":          append([]byte{0xdf, 0, 0, 0, 6}, canonical[1:]...),
		"two fields swapped":    reorder(1, 0, 2, 3, 4, 5),
		"declaration order":     reorder(3, 2, 1, 5, 0, 4),
		"missing Flags":         reorder(0, 2, 3, 4, 5),
		"missing Value":         reorder(0, 1, 2, 3, 4),
		"duplicate Flags":       reorder(0, 1, 1, 2, 3, 4, 5),
		"unknown field last":    insert(6, mpField{"Extra", []byte{1}}),
		"unknown field first":   insert(0, mpField{"Extra", []byte{1}}),
		"empty Session written": insert(5, mpField{"Session", []byte{0xa0}}),
		"nil Session written":   insert(5, mpField{"Session", []byte{0xc0}}),
		"Session after Value":   insert(6, mpField{"Session", []byte{0xa1, 's'}}),
		"lower-case field name": mpMapOf(append([]mpField{{"createIndex", []byte{2}}}, base[1:]...)),
		"trailing byte":         append(bytes.Clone(canonical), 0),
		"trailing value":        append(bytes.Clone(canonical), canonical...),
		"map length one short":  append([]byte{0x85}, canonical[1:]...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			// Only encodings the codec accepts are interesting: they are
			// what a lax fast path could get wrong.
			if _, err := codecDecode(b); err != nil {
				t.Fatalf("the codec refuses % x too: %v", b, err)
			}
			var got DirEntry
			if got.DecodeMsgpackCanonical(b) {
				t.Fatalf("accepted % x as %+v", b, got)
			}
		})
	}
}

func FuzzDirEntryMsgpack(f *testing.F) {
	for _, e := range []*DirEntry{
		{},
		{Key: "k", Value: []byte{}},
		{LockIndex: 200, Key: "a/b", Flags: 70000, Value: []byte("hello"), Session: "sess",
			RaftIndex: RaftIndex{CreateIndex: 1 << 33, ModifyIndex: math.MaxUint64}},
		{Key: strings.Repeat("k", 40), Value: randBytes(300, 1)},
	} {
		f.Add(e.AppendMsgpack(nil))
	}
	f.Add([]byte{0x86, 0xab})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		var got DirEntry
		if !got.DecodeMsgpackCanonical(in) {
			return
		}
		clear(in) // Value must not alias the input.
		want, err := codecDecode(b)
		if err != nil {
			t.Fatalf("accepted % x, which the codec refuses: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded % x to %+v, the codec to %+v", b, got, want)
		}
		if enc := got.AppendMsgpack(nil); !bytes.Equal(enc, b) {
			t.Fatalf("accepted % x, which re-encodes as % x", b, enc)
		}
		if n := got.MsgpackSize(); n != len(b) {
			t.Fatalf("MsgpackSize = %d for an encoding of %d bytes", n, len(b))
		}
	})
}

// head shortens a long encoding for a failure message.
func head(b []byte) []byte {
	if len(b) > 96 {
		return b[:96]
	}
	return b
}

// brief shortens long fields for a failure message.
func brief(e DirEntry) DirEntry {
	if len(e.Key) > 40 {
		e.Key = e.Key[:40] + "..."
	}
	if len(e.Session) > 40 {
		e.Session = e.Session[:40] + "..."
	}
	e.Value = head(e.Value)
	return e
}

func benchDirEntry() *DirEntry {
	return &DirEntry{Key: "bench/00012345", Value: randBytes(512, 42),
		RaftIndex: RaftIndex{CreateIndex: 123456, ModifyIndex: 123789}}
}

var benchSink *DirEntry

func BenchmarkDirEntryEncodeCodec(b *testing.B) {
	e := benchDirEntry()
	buf := make([]byte, 0, 1024)
	enc := codec.NewEncoderBytes(&buf, MsgpackHandle)
	b.ReportAllocs()
	for b.Loop() {
		// Reused encoder and buffer, as snapshot.StateEncoder does.
		buf = buf[:0]
		enc.ResetBytes(&buf)
		if err := enc.Encode(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDirEntryAppendMsgpack(b *testing.B) {
	e := benchDirEntry()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendMsgpack(buf[:0])
	}
}

func BenchmarkDirEntryDecodeCodec(b *testing.B) {
	data := benchDirEntry().AppendMsgpack(nil)
	dec := codec.NewDecoderBytes(data, MsgpackHandle)
	b.ReportAllocs()
	for b.Loop() {
		dec.ResetBytes(data)
		benchSink = new(DirEntry)
		if err := dec.Decode(benchSink); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDirEntryDecodeCanonical(b *testing.B) {
	data := benchDirEntry().AppendMsgpack(nil)
	b.ReportAllocs()
	for b.Loop() {
		benchSink = new(DirEntry)
		if !benchSink.DecodeMsgpackCanonical(data) {
			b.Fatal("refused")
		}
	}
}
