package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/consulcompat/consul/snapshot"
	"github.com/hashicorp/raft"
)

// sumTrailer is the HTTP trailer in which the server sends the SHA-256
// of the archive it wrote.
const sumTrailer = "X-Consul-Snapshot-Sha256"

// saveTimeout bounds one save.
const saveTimeout = 2 * time.Minute

// save is one archive that passed every check.
type save struct {
	archive []byte
	meta    *raft.SnapshotMeta
	// sent is when the request went out, since the run began: every
	// write acknowledged before it must be in the archive.
	sent time.Duration
}

// saves is what the saver did.
type saves struct {
	times  []time.Duration // of every save that completed, failed or not
	failed int
	errs   []string // the first few failures
	last   *save
}

// saver takes a save every interval until ctx is done; a save in flight
// then completes. wait returns what it did once it has stopped.
func saver(ctx context.Context, c *http.Client, base string, interval time.Duration, start time.Time, total *counters) (wait func() *saves) {
	s := &saves{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if ctx.Err() != nil {
				return
			}
			sent := time.Now()
			archive, meta, err := takeSave(c, base)
			s.times = append(s.times, time.Since(sent))
			total.saves.Add(1)
			if err == nil && s.last != nil && meta.Index < s.last.meta.Index {
				err = fmt.Errorf("archive index %d is below the previous archive's %d", meta.Index, s.last.meta.Index)
			}
			if err != nil {
				s.failed++
				total.failedSaves.Add(1)
				if len(s.errs) < 5 {
					s.errs = append(s.errs, fmt.Sprintf("save at +%s: %v", sent.Sub(start).Round(time.Millisecond), err))
				}
				continue
			}
			s.last = &save{archive: archive, meta: meta, sent: sent.Sub(start)}
		}
	}()
	return func() *saves { <-done; return s }
}

// takeSave downloads an archive and checks the status, the SHA-256
// trailer, the X-Consul-Index header and the archive itself.
func takeSave(c *http.Client, base string) ([]byte, *raft.SnapshotMeta, error) {
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/snapshot", nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("status %d, body cut after %d bytes: %v", resp.StatusCode, len(body), err)
	}
	if resp.StatusCode != 200 {
		return nil, nil, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	sum := sha256.Sum256(body)
	if got := resp.Trailer.Get(sumTrailer); got != hex.EncodeToString(sum[:]) {
		return nil, nil, fmt.Errorf("trailer %s is %q, the %d bytes received hash to %x", sumTrailer, got, len(body), sum)
	}
	meta, err := snapshot.Verify(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, nil, fmt.Errorf("%d byte archive: %w", len(body), err)
	}
	if h := resp.Header.Get("X-Consul-Index"); h != strconv.FormatUint(meta.Index, 10) {
		return nil, nil, fmt.Errorf("X-Consul-Index is %q, the archive's meta.json has index %d", h, meta.Index)
	}
	return body, meta, nil
}
