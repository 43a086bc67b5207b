package agent

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func TestSnapshotSaveRestoreWithAPIClient(t *testing.T) {
	_, c := testAgent(t)
	for i := 0; i < 50; i++ {
		if _, err := c.KV().Put(&api.KVPair{Key: fmt.Sprintf("s/%d", i), Value: []byte(fmt.Sprint(i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	body, meta, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(body)
	body.Close()
	if err != nil || meta.LastIndex == 0 {
		t.Fatalf("save: %d bytes, index %d, %v", len(archive), meta.LastIndex, err)
	}
	if _, err := c.KV().DeleteTree("s/", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	pairs, _, err := c.KV().List("s/", nil)
	if err != nil || len(pairs) != 50 {
		t.Fatalf("after restore: %d keys, %v", len(pairs), err)
	}
}

func TestSnapshotHTTPErrors(t *testing.T) {
	a, c := testAgent(t)
	if _, err := c.KV().Put(&api.KVPair{Key: "keep", Value: []byte("me")}, nil); err != nil {
		t.Fatal(err)
	}
	base := "http://" + a.HTTPAddr() + "/v1/snapshot"
	for _, tc := range []struct {
		method, query, body string
		status              int
		want                string
	}{
		{"POST", "", "", 405, ""},
		{"DELETE", "", "", 405, ""},
		{"PUT", "", "not a zip", 400, "snapshot"},
		{"PUT", "", "", 400, "snapshot"},
		{"GET", "?dc=dc2", "", 500, "No path to datacenter"},
	} {
		r := doHTTP(t, tc.method, base+tc.query, "", []byte(tc.body))
		if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.query, r.status, r.body, tc.status, tc.want)
		}
		if tc.status == 405 && r.header.Get("Allow") != "GET, PUT" {
			t.Errorf("%s: Allow = %q", tc.method, r.header.Get("Allow"))
		}
	}
	if p, _, err := c.KV().Get("keep", nil); err != nil || p == nil {
		t.Fatalf("a rejected restore lost data: %v %v", p, err)
	}
	r, err := http.Get(base + "?stale")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/zip" || r.Header.Get("X-Consul-Index") == "" {
		t.Fatalf("stale save: %d %v", r.StatusCode, r.Header)
	}
}

// TestSnapshotSaveTrailerCarriesSHA256: the archive's SHA-256 follows the
// body in a trailer, and matches the bytes received.
func TestSnapshotSaveTrailerCarriesSHA256(t *testing.T) {
	a, c := testAgent(t)
	if _, err := c.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + a.HTTPAddr() + "/v1/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("save: %d, %v", resp.StatusCode, err)
	}
	sum := sha256.Sum256(body)
	if got := resp.Trailer.Get("X-Consul-Snapshot-Sha256"); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("trailer %q, body's SHA-256 %x", got, sum)
	}
}

// TestRestoreUploadThatStalls: an upload streams into Raft, which waits
// on it, so one that stops arriving is cut off after restoreIdleTimeout:
// the client gets 400, nothing changes, and writes go on.
func TestRestoreUploadThatStalls(t *testing.T) {
	defer func(old time.Duration) { restoreIdleTimeout = old }(restoreIdleTimeout)
	restoreIdleTimeout = 500 * time.Millisecond
	a, c := testAgent(t)
	if _, err := c.KV().Put(&api.KVPair{Key: "keep", Value: []byte("me")}, nil); err != nil {
		t.Fatal(err)
	}
	archive := saveSnapshot(t, c)

	conn, err := net.Dial("tcp", a.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /v1/snapshot HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n", len(archive))
	conn.Write(archive[:len(archive)/2])

	// A write issued while the upload stalls completes once it is cut
	// off. Raft aborts the writes in flight when a restore starts, so one
	// that races with the start may fail with that, but it must not hang.
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, err := c.KV().Put(&api.KVPair{Key: "during", Value: []byte("stall")}, nil)
		wrote <- err
	}()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled upload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "timeout") {
		t.Fatalf("got %d %q, want 400 naming the timeout", resp.StatusCode, body)
	}
	select {
	case err := <-wrote:
		if err != nil && !strings.Contains(err.Error(), "snapshot restored while committing log") {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a write waited past the stalled upload")
	}
	if _, err := c.KV().Put(&api.KVPair{Key: "after", Value: []byte("stall")}, nil); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"keep", "after"} {
		if p, _, err := c.KV().Get(key, nil); err != nil || p == nil {
			t.Fatalf("%s: %v, %v", key, p, err)
		}
	}
}
