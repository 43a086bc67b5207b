package snapshottest

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// Record is one record of a state dump.
type Record struct {
	Type  structs.MessageType
	Value interface{}
}

// Archive is a valid archive of a state dump of records, encoded as they
// are, unchecked, after a header of LastIndex index; its meta.json has
// that Index and declares the dump's size. Its entries are deflated, with
// data descriptors, as a save writes them.
func Archive(t testing.TB, index uint64, records ...Record) []byte {
	t.Helper()
	state := dumpHeader(t, index)
	for _, r := range records {
		rec, err := structs.Encode(r.Type, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, rec...)
	}
	meta := metaJSON(t, fmt.Sprintf("1-%d-snapshottest", index), index, int64(len(state)))
	return Zip(t, ValidEntries(meta, state, zip.Deflate)...)
}

// dumpHeader is a state dump's header of LastIndex index.
func dumpHeader(t testing.TB, index uint64) []byte {
	t.Helper()
	var hdr []byte
	if err := codec.NewEncoderBytes(&hdr, structs.MsgpackHandle).Encode(&structs.SnapshotHeader{LastIndex: index}); err != nil {
		t.Fatal(err)
	}
	return hdr
}

// metaJSON is meta.json for a snapshot of term 1 that declares state.bin
// to be size bytes long.
func metaJSON(t testing.TB, id string, index uint64, size int64) []byte {
	t.Helper()
	meta, err := json.Marshal(&raft.SnapshotMeta{
		Version: raft.SnapshotVersionMax, ID: id, Index: index, Term: 1, Size: size,
	})
	if err != nil {
		t.Fatal(err)
	}
	return meta
}
