package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/consulcompat/consul/structs"
)

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestStreamStateLimit: with WithStateLimit, an archive that declares a
// state.bin over the limit is refused before any of it is read, and one
// that declares less may expand no further than it declares; the limit
// does not refuse an archive that declares the limit exactly.
func TestStreamStateLimit(t *testing.T) {
	// 128 MiB of dump in 156 KB.
	bomb := snapshottest.NewBomb(t, 256, 512<<10, false)
	const mib = 1 << 20
	for _, tc := range []struct {
		name     string
		declared int64
		limit    int64
		// early: refused with no more of the archive read than the
		// stream's first buffer holds, against the 156 KB it would take.
		early bool
		kind  error
		want  string
	}{
		{name: "declared over the limit", declared: bomb.Size, limit: 64 * mib, early: true,
			kind: ErrTooLarge, want: fmt.Sprintf("state.bin would be %d bytes (128.0 MiB), over the limit of 67108864 bytes (64.0 MiB)", bomb.Size)},
		{name: "declared one byte over", declared: bomb.Size, limit: bomb.Size - 1, early: true,
			kind: ErrTooLarge, want: "over the limit"},
		// The cases below are refused by the format alone; the limit
		// changes nothing for them.
		{name: "declared none", declared: 0, limit: 64 * mib, early: true,
			kind: ErrCorrupt, want: "longer than meta.json's Size (0 bytes)"},
		{name: "declared under the limit, longer", declared: 1 * mib, limit: 64 * mib, early: true,
			kind: ErrCorrupt, want: "longer than meta.json's Size (1048576 bytes)"},
		{name: "declared under the limit, shorter", declared: bomb.Size + 1, limit: bomb.Size + 1,
			kind: ErrCorrupt, want: fmt.Sprintf("Size is %d, but state.bin holds %d bytes", bomb.Size+1, bomb.Size)},
		{name: "declared exactly the limit", declared: bomb.Size, limit: bomb.Size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			archive := bomb.Archive(t, tc.declared)
			src := &countingReader{r: bytes.NewReader(archive)}
			records := 0
			_, st, err := OpenStream(src, func(structs.MessageType, interface{}) error {
				records++
				return nil
			}, WithStateLimit(tc.limit))
			if err == nil {
				_, err = io.Copy(io.Discard, st)
				st.Close()
			}
			if tc.kind == nil {
				if err != nil || records != 256 {
					t.Fatalf("%v after %d records", err, records)
				}
				return
			}
			wantErr(t, err, tc.kind, tc.want)
			if tc.early && src.n > streamBuffer {
				t.Fatalf("read %d bytes of a %d-byte archive before refusing it, want at most %d", src.n, len(archive), streamBuffer)
			}
			var le *StateLimitError
			if errors.As(err, &le) != (tc.kind == ErrTooLarge) {
				t.Fatalf("%v: StateLimitError %v", err, le)
			}
			if le != nil && (le.Size != tc.declared || le.Limit != tc.limit) {
				t.Fatalf("StateLimitError %+v", le)
			}
		})
	}
}
