package consul

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"testing"

	"github.com/consulcompat/consul/structs"
)

// loadKeys writes n keys of size random bytes through Raft, 64 a txn.
func loadKeys(b *testing.B, s *Server, n, size int) {
	b.Helper()
	for first := 0; first < n; first += structs.MaxTxnOps {
		var args structs.TxnRequest
		for k := first; k < first+structs.MaxTxnOps && k < n; k++ {
			v := make([]byte, size)
			rand.Read(v)
			args.Ops = append(args.Ops, &structs.TxnOp{KV: &structs.TxnKVOp{Verb: structs.KVSet, DirEnt: structs.DirEntry{Key: fmt.Sprintf("bench/%08d", k), Value: v}}})
		}
		var resp structs.TxnResponse
		if err := s.RPC("Txn.Apply", &args, &resp); err != nil || len(resp.Errors) > 0 {
			b.Fatal(err, resp.Errors)
		}
	}
}

// countWriter counts bytes and drops them.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkSnapshotSave measures the server side of a save, 100,000 keys
// of 512 random bytes, archive bytes per second.
func BenchmarkSnapshotSave(b *testing.B) {
	s := benchServer(b)
	loadKeys(b, s, 100000, 512)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var cw countWriter
		args := structs.SnapshotRequest{Op: structs.SnapshotSave}
		if err := s.SnapshotRPC(&args, nil, func(*structs.SnapshotResponse) (io.Writer, error) { return &cw, nil }); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(cw.n)
	}
}

// BenchmarkSnapshotRestore measures a restore of the same archive.
func BenchmarkSnapshotRestore(b *testing.B) {
	s := benchServer(b)
	loadKeys(b, s, 100000, 512)
	var buf bytes.Buffer
	args := structs.SnapshotRequest{Op: structs.SnapshotSave}
	if err := s.SnapshotRPC(&args, nil, func(*structs.SnapshotResponse) (io.Writer, error) { return &buf, nil }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := restore(s, buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
