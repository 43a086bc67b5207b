// Package snapshottest builds snapshot archives for tests of how a
// restore treats archives that expand far beyond what is sent: deflate
// bombs that are otherwise valid (the three entries in order, CRCs,
// SHA-256 sums, a state dump that decodes), made without holding their
// expanded bytes.
package snapshottest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
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
	var hdr []byte
	if err := codec.NewEncoderBytes(&hdr, structs.MsgpackHandle).Encode(&structs.SnapshotHeader{LastIndex: 1}); err != nil {
		t.Fatal(err)
	}
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
	meta, err := json.Marshal(&raft.SnapshotMeta{
		Version: raft.SnapshotVersionMax, ID: "1-1-bomb", Index: 1, Term: 1, Size: declared,
	})
	if err != nil {
		t.Fatal(err)
	}
	metaSum := sha256.Sum256(meta)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("meta.json")
	if err == nil {
		_, err = w.Write(meta)
	}
	if err == nil {
		// With its sizes in a data descriptor after the data, as a save
		// writes it: a reader learns them only at the end.
		w, err = zw.CreateRaw(&zip.FileHeader{
			Name: "state.bin", Method: zip.Deflate, Flags: 0x8, CRC32: b.crc,
			CompressedSize64: uint64(len(b.deflated)), UncompressedSize64: uint64(b.Size),
		})
	}
	if err == nil {
		_, err = w.Write(b.deflated)
	}
	if err == nil {
		w, err = zw.Create("SHA256SUMS")
	}
	if err == nil {
		_, err = fmt.Fprintf(w, "%x  meta.json\n%x  state.bin\n", metaSum, b.sum)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
