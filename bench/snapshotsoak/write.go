package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// keysPerWriter is how many keys each writer cycles through.
const keysPerWriter = 1000

// writeTimeout bounds one /v1/txn request; a write that times out has
// an unknown outcome.
const writeTimeout = 30 * time.Second

// write is one write a writer sent.
type write struct {
	// seq is the writer's sequence number; the key is seq % keysPerWriter.
	seq uint64
	// index is the ModifyIndex the server acknowledged, or 0 if the
	// write has no acknowledgement: it may or may not have been applied.
	index uint64
	// ackedAt is when the acknowledgement arrived, since the run began.
	ackedAt time.Duration
}

// writer changes its own keys, soak/<id>/<n>, one per transaction, and
// records every write. Only its goroutine touches it until wait returns.
type writer struct {
	id int
	// history holds the writes of each key in the order they were sent.
	history [keysPerWriter][]write
	acked   int
	failed  int
	errs    []string // the first few failures
	// oddities are acknowledgements that contradict earlier ones.
	oddities []string
}

func keyName(writer int, n uint64) string {
	return fmt.Sprintf("soak/%d/%d", writer, n%keysPerWriter)
}

// value encodes the writer and sequence number, padded to size bytes.
func value(writer int, seq uint64, size int) string {
	v := fmt.Sprintf("writer=%d seq=%d ", writer, seq)
	if len(v) < size {
		v += strings.Repeat(".", size-len(v))
	}
	return v
}

// writers runs n writers until ctx is done; a write in flight then
// completes. wait returns the writers once they have all stopped.
func writers(ctx context.Context, c *http.Client, base string, n, valueSize int, start time.Time, total *counters) (wait func() []*writer) {
	ws := make([]*writer, n)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &writer{id: i}
		wg.Add(1)
		go func(w *writer) {
			defer wg.Done()
			w.run(ctx, c, base, valueSize, start, total)
		}(ws[i])
	}
	return func() []*writer { wg.Wait(); return ws }
}

func (w *writer) run(ctx context.Context, c *http.Client, base string, valueSize int, start time.Time, total *counters) {
	var lastIndex uint64
	for seq := uint64(0); ctx.Err() == nil; seq++ {
		key := keyName(w.id, seq)
		index, err := setKey(c, base, key, value(w.id, seq, valueSize))
		rec := write{seq: seq}
		if err != nil {
			w.failed++
			total.failedWrites.Add(1)
			if len(w.errs) < 3 {
				w.errs = append(w.errs, fmt.Sprintf("set %s: %v", key, err))
			}
			w.history[seq%keysPerWriter] = append(w.history[seq%keysPerWriter], rec)
			// Do not spin against a server that refuses everything.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		rec.index, rec.ackedAt = index, time.Since(start)
		// Each write is acknowledged before the next is sent, so the
		// server must have applied it later.
		if index <= lastIndex && len(w.oddities) < 3 {
			w.oddities = append(w.oddities, fmt.Sprintf("set %s acknowledged at index %d, after an earlier write of this writer at %d", key, index, lastIndex))
		}
		lastIndex = index
		w.acked++
		total.acked.Add(1)
		w.history[seq%keysPerWriter] = append(w.history[seq%keysPerWriter], rec)
	}
}

// txnResponse is the part of a /v1/txn reply the writers read.
type txnResponse struct {
	Results []struct {
		KV *struct {
			Key         string
			ModifyIndex uint64
		}
	}
	Errors []struct {
		OpIndex int
		What    string
	}
}

// setKey sets key through /v1/txn and returns the ModifyIndex the
// server reports for it.
func setKey(c *http.Client, base, key, val string) (uint64, error) {
	ops := []map[string]interface{}{{"KV": map[string]interface{}{"Verb": "set", "Key": key, "Value": []byte(val)}}}
	body, _ := json.Marshal(ops)
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PUT", base+"/v1/txn", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(reply))
	}
	var out txnResponse
	if err := json.Unmarshal(reply, &out); err != nil {
		return 0, fmt.Errorf("reply %q: %v", reply, err)
	}
	if len(out.Errors) > 0 || len(out.Results) != 1 || out.Results[0].KV == nil ||
		out.Results[0].KV.Key != key || out.Results[0].KV.ModifyIndex == 0 {
		return 0, fmt.Errorf("status 200 with an unexpected reply %s", bytes.TrimSpace(reply))
	}
	return out.Results[0].KV.ModifyIndex, nil
}
