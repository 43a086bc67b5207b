package consul

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/consulcompat/consul/structs"
)

// uploadDeadline cuts off a restore upload that arrives too slowly: it
// must end within grace, plus the state.bin size that meta.json declares
// at minRate bytes a second. The idle timeout of the HTTP layer stops an
// upload that stalls; this stops one that trickles, a byte now and then,
// which would otherwise hold the one restore allowed at a time, and its
// memory and disk, for as long as it pleases.
type uploadDeadline struct {
	r       io.Reader
	start   time.Time
	grace   time.Duration
	minRate int64
	// size is the declared size, once meta.json is read; the stream reads
	// from another goroutine.
	size atomic.Int64
	read int64
}

// newUploadDeadline wraps r; a grace of 0 sets no deadline.
func newUploadDeadline(r io.Reader, grace time.Duration, minRate int64) *uploadDeadline {
	return &uploadDeadline{r: r, start: time.Now(), grace: grace, minRate: minRate}
}

// declare sets the state size the deadline allows for.
func (u *uploadDeadline) declare(size int64) {
	u.size.Store(size)
}

// deadline is the time by which the upload must have ended.
func (u *uploadDeadline) deadline() time.Time {
	d := u.start.Add(u.grace)
	if u.minRate > 0 {
		d = d.Add(time.Duration(float64(u.size.Load()) / float64(u.minRate) * float64(time.Second)))
	}
	return d
}

func (u *uploadDeadline) Read(p []byte) (int, error) {
	if u.grace > 0 && time.Now().After(u.deadline()) {
		return 0, fmt.Errorf("%w: the upload is too slow: %d bytes in %v; a restore must arrive within %v, plus its declared state.bin (%d bytes) at %d bytes a second (limits.restore_upload_grace, limits.restore_upload_min_rate)",
			structs.ErrBadRequest, u.read, time.Since(u.start).Round(time.Millisecond), u.grace, u.size.Load(), u.minRate)
	}
	n, err := u.r.Read(p)
	u.read += int64(n)
	return n, err
}
