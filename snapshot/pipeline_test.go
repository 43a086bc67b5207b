package snapshot

import (
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/structs"
)

// cutWriter accepts n bytes, then fails.
type cutWriter struct{ n int }

var errCut = errors.New("connection cut")

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) > c.n {
		w := c.n
		c.n = 0
		return w, errCut
	}
	c.n -= len(p)
	return len(p), nil
}

// TestWriteFailingOutput: when the output fails midway, at any point,
// Write reports that failure and its compressing goroutine ends.
func TestWriteFailingOutput(t *testing.T) {
	testutil.CheckLeaks(t)
	recs := makeRecords(rand.New(rand.NewPCG(3, 3)), 2000)
	hdr := structs.SnapshotHeader{LastIndex: 7}
	size := stateSize(t, hdr, recs)
	for _, cut := range []int{0, 100, 70 << 10, 600 << 10, int(size) / 2} {
		err := Write(&cutWriter{n: cut}, testMeta(size), dumpOf(hdr, recs))
		if !errors.Is(err, errCut) {
			t.Errorf("cut after %d bytes: %v, want the output's error", cut, err)
		}
	}
	// A dump that fails stops the pipeline too.
	err := Write(io.Discard, testMeta(size), func(w io.Writer) error { return errCut })
	if !errors.Is(err, errCut) {
		t.Errorf("failing dump: %v", err)
	}
}
