package snapshottest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/consulcompat/consul/structs"
)

// Bomb is a state dump of KV entries holding zeros, kept deflated.
type Bomb struct {
	// Size is the dump's length: state.bin's size in an honest archive.
	Size int64

	deflated []byte
	crc      uint32
	sum      []byte
}

// NewBomb makes a dump of records KV entries of valueSize zero bytes
// each, under the keys bomb/00000000, bomb/00000001 ..., or all under
// the one key "bomb" if sameKey. It deflates about a thousandfold, as
// far as deflate goes.
func NewBomb(t testing.TB, records, valueSize int, sameKey bool) *Bomb {
	t.Helper()
	hdr := dumpHeader(t, 1)
	zeros := make([]byte, valueSize)
	// The value's deflated form, ended by a sync flush so that it is
	// byte-aligned and does not end the stream: it can follow any block.
	var z bytes.Buffer
	fw, err := flate.NewWriter(&z, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(zeros)
	fw.Flush()

	b := &Bomb{}
	crc, sha := crc32.NewIEEE(), sha256.New()
	var out bytes.Buffer
	// Each record's bytes up to its value go in a stored block, then the
	// value's blocks: deflated, the dump is these pieces back to back.
	add := func(plain []byte) {
		out.WriteByte(0) // BFINAL 0, BTYPE 00 (stored)
		binary.Write(&out, binary.LittleEndian, uint16(len(plain)))
		binary.Write(&out, binary.LittleEndian, ^uint16(len(plain)))
		out.Write(plain)
		crc.Write(plain)
		sha.Write(plain)
		b.Size += int64(len(plain))
	}
	add(hdr)
	key := func(i int) string {
		if sameKey {
			return "bomb"
		}
		return fmt.Sprintf("bomb/%08d", i)
	}
	ent := &structs.DirEntry{Key: key(0), Value: zeros, RaftIndex: structs.RaftIndex{CreateIndex: 1, ModifyIndex: 1}}
	rec := ent.AppendMsgpack([]byte{byte(structs.KVSRequestType)})
	// AppendMsgpack writes Value last. The keys are all of one length, so
	// that the records differ only in the key's bytes: encoding each one
	// would copy its value, which costs more than all the rest.
	prefix := rec[:len(rec)-valueSize]
	at := bytes.Index(prefix, []byte(key(0)))
	for i := 0; i < records; i++ {
		copy(prefix[at:], key(i))
		add(prefix)
		out.Write(z.Bytes())
		crc.Write(zeros)
		sha.Write(zeros)
		b.Size += int64(valueSize)
	}
	out.Write([]byte{0x03, 0x00}) // a final, empty block of fixed codes
	b.deflated, b.crc, b.sum = out.Bytes(), crc.Sum32(), sha.Sum(nil)
	return b
}

// Archive is a zip of the dump laid out as a save lays it out, with
// meta.json declaring state.bin to be declared bytes long: b.Size for an
// honest archive.
func (b *Bomb) Archive(t testing.TB, declared int64) []byte {
	t.Helper()
	meta := metaJSON(t, "1-1-bomb", 1, declared)
	metaSum := sha256.Sum256(meta)
	return Zip(t,
		Entry{Name: metaName, Data: meta, Method: zip.Deflate},
		// With its sizes in a data descriptor after the data, as a save
		// writes it: a reader learns them only at the end.
		Entry{Name: stateName, Data: b.deflated, Method: zip.Deflate, raw: true, crc: b.crc, size: uint64(b.Size)},
		Entry{Name: sumsName, Data: sumsOf(metaSum[:], b.sum), Method: zip.Deflate},
	)
}
