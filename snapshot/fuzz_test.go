package snapshot

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
)

// FuzzRead feeds arbitrary bytes to the archive reader: it must never
// panic, must fail only with ErrCorrupt or ErrTooLarge, and whatever it
// accepts must read back cleanly and agree with Inspect.
func FuzzRead(f *testing.F) {
	data, recs := smallArchive(f)
	f.Add(data)
	state := dumpBytes(f, structs.SnapshotHeader{LastIndex: 4711}, recs)
	meta := testMetaJSON(f, int64(len(state)))
	f.Add(snapshottest.Zip(f, snapshottest.ValidEntries(meta, state, zip.Store)...))
	f.Add(snapshottest.Zip(f, snapshottest.ValidEntries(meta, state[:len(state)-1], zip.Store)...))
	f.Add(snapshottest.Zip(f, snapshottest.ValidEntries(meta, state, zip.Store)[:2]...))
	headerOnly, _ := writeArchive(f, nil)
	f.Add(headerOnly)
	f.Add(data[:len(data)/2])
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Add([]byte("PK\x03\x04"))
	// A deflate bomb, honest and declaring no state.bin.
	bomb := snapshottest.NewBomb(f, 8, 512<<10, false)
	f.Add(bomb.Archive(f, bomb.Size))
	f.Add(bomb.Archive(f, 0))

	old := MaxStateSize
	MaxStateSize = 8 << 20
	f.Cleanup(func() { MaxStateSize = old })

	f.Fuzz(func(t *testing.T, data []byte) {
		meta, rc, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			if _, err2 := Verify(bytes.NewReader(data), int64(len(data))); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("Read: %v; Verify: %v", err, err2)
			}
			return
		}
		defer rc.Close()
		counts := map[structs.MessageType]int{}
		if _, err := ReadState(rc, func(t structs.MessageType, _ interface{}) error {
			counts[t]++
			return nil
		}); err != nil {
			t.Fatalf("verified archive does not read back: %v", err)
		}
		info, err := Inspect(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("Read accepts but Inspect says %v", err)
		}
		if !reflect.DeepEqual(info.Meta, *meta) || len(info.Records) != len(counts) {
			t.Fatalf("Inspect %+v disagrees with Read %+v, %v", info, meta, counts)
		}
		for _, st := range info.Records {
			if counts[st.Type] != st.Count {
				t.Fatalf("Inspect counts %d %s, read %d", st.Count, st.Name, counts[st.Type])
			}
		}
	})
}

// FuzzReadState feeds arbitrary bytes to the state dump decoder: it must
// never panic, must fail only with ErrCorrupt or ErrTooLarge, and
// whatever it accepts must survive a round trip through the encoder.
func FuzzReadState(f *testing.F) {
	hdr := structs.SnapshotHeader{LastIndex: 77}
	recs := makeRecords(rand.New(rand.NewPCG(8, 8)), 2)
	dump := dumpBytes(f, hdr, recs)
	f.Add(dump)
	f.Add(dumpBytes(f, hdr, nil))
	f.Add(dump[:len(dump)-1])
	f.Add(append(bytes.Clone(dump), 77, 0x80))
	f.Add([]byte{})
	f.Add([]byte{0x81, 0xa9, 'L', 'a', 's', 't', 'I', 'n', 'd', 'e', 'x', 0x05, 0x02, 0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x80, 0x10, 0x81, 0xa3, 'K', 'e', 'y', 0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01})

	f.Fuzz(func(t *testing.T, data []byte) {
		var got []testRecord
		h, err := ReadState(bytes.NewReader(data), func(mt structs.MessageType, rec interface{}) error {
			got = append(got, kept(mt, rec))
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		again := dumpBytes(t, h, got)
		var back []testRecord
		h2, err := ReadState(bytes.NewReader(again), func(mt structs.MessageType, rec interface{}) error {
			back = append(back, kept(mt, rec))
			return nil
		})
		if err != nil || h2 != h {
			t.Fatalf("re-encoded dump: %v, header %+v vs %+v", err, h2, h)
		}
		sameRecords(t, back, got)
		if n, err := io.Copy(io.Discard, bytes.NewReader(again)); err != nil || n != stateSize(t, h, got) {
			t.Fatalf("sizes: wrote %d, RecordSize says %d", n, stateSize(t, h, got))
		}
	})
}

// FuzzEntries fuzzes the contents of the three entries inside a well-formed
// zip, which random changes to whole archives seldom reach past the zip
// CRCs: meta.json and SHA256SUMS parsing, and the checks between them.
func FuzzEntries(f *testing.F) {
	state := smallState(f)
	meta := testMetaJSON(f, int64(len(state)))
	f.Add(meta, snapshottest.Sums(meta, state), state)
	f.Add([]byte(`{"Index":1,"Size":0}`), []byte("x  meta.json\n"), []byte{0x80})
	f.Add([]byte(`{"Index":1,"Size":1}`), snapshottest.Sums([]byte(`{"Index":1,"Size":1}`), []byte{0x80}), []byte{0x80})

	old := MaxStateSize
	MaxStateSize = 8 << 20
	f.Cleanup(func() { MaxStateSize = old })

	f.Fuzz(func(t *testing.T, meta, sums, state []byte) {
		// Most inputs would fail on the sums alone; fix them up half the
		// time so that the checks behind them are reached.
		if len(sums) > 0 && sums[0]&1 == 1 {
			sums = snapshottest.Sums(meta, state)
		}
		data := snapshottest.Zip(t,
			snapshottest.Entry{Name: MetaName, Data: meta, Method: zip.Store},
			snapshottest.Entry{Name: StateName, Data: state, Method: zip.Store},
			snapshottest.Entry{Name: SumsName, Data: sums, Method: zip.Store})
		info, err := Inspect(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		if info.StateSize != int64(len(state)) || info.Meta.Index == 0 {
			t.Fatalf("accepted %+v for a %d-byte state", info, len(state))
		}
		if !bytes.Equal(sums, snapshottest.Sums(meta, state)) {
			t.Fatalf("accepted sums %q", sums)
		}
	})
}

// FuzzStream feeds arbitrary bytes to the streamed reader a restore uses:
// it must never panic, must fail only with ErrCorrupt or ErrTooLarge, and
// whatever it accepts, Read must accept too and read the same way, byte
// for byte and record for record.
func FuzzStream(f *testing.F) {
	data, _ := smallArchive(f)
	f.Add(data)
	f.Add(data[:len(data)-1])
	f.Add(append(bytes.Clone(data), 0))
	f.Add(sizedArchive(f, zip.Store))
	f.Add(sizedArchive(f, zip.Deflate))
	headerOnly, _ := writeArchive(f, nil)
	f.Add(headerOnly)
	f.Add([]byte("PK\x03\x04"))
	// A deflate bomb, honest and declaring no state.bin.
	bomb := snapshottest.NewBomb(f, 8, 512<<10, false)
	f.Add(bomb.Archive(f, bomb.Size))
	f.Add(bomb.Archive(f, 0))

	old := MaxStateSize
	MaxStateSize = 8 << 20
	f.Cleanup(func() { MaxStateSize = old })

	f.Fuzz(func(t *testing.T, data []byte) {
		var got []testRecord
		meta, st, err := OpenStream(bytes.NewReader(data), func(mt structs.MessageType, rec interface{}) error {
			got = append(got, kept(mt, rec))
			return nil
		})
		var state []byte
		if err == nil {
			state, err = io.ReadAll(st)
			st.Close()
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		rmeta, rc, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("the stream accepts what Read refuses: %v", err)
		}
		defer rc.Close()
		want, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(state, want) || !reflect.DeepEqual(meta, rmeta) {
			t.Fatalf("the stream and Read disagree (%v)", err)
		}
		hdr, wantRecs := readRecords(t, bytes.NewReader(want))
		if hdr != st.Header() {
			t.Fatalf("header %+v, want %+v", st.Header(), hdr)
		}
		sameRecords(t, got, wantRecs)
	})
}
