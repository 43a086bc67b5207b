package snapshottest

import (
	"encoding/json"
	"testing"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

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
