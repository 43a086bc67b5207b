package agent

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/consul/api"
)

// TestHTTPTimeoutsSpareRequestsInFlight: with idle and read-header
// timeouts far shorter than a blocking query's wait and a snapshot
// upload's length, both still complete, the connection of the blocking
// query serves a second request, and only once it is idle is it closed.
func TestHTTPTimeoutsSpareRequestsInFlight(t *testing.T) {
	const timeout, wait = 300 * time.Millisecond, 1500 * time.Millisecond
	a, c := testAgent(t, withConfig(func(c *config.Config) {
		c.Limits.HTTPIdleTimeout = timeout
		c.Limits.HTTPReadHeaderTimeout = timeout
	}))
	if _, err := c.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}
	_, meta, err := c.KV().Get("k", nil)
	if err != nil {
		t.Fatal(err)
	}

	conn, err := net.Dial("tcp", a.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	for i := 0; i < 2; i++ {
		start := time.Now()
		fmt.Fprintf(conn, "GET /v1/kv/k?index=%d&wait=%s HTTP/1.1\r\nHost: agent\r\n\r\n", meta.LastIndex, wait)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("blocking query %d on one connection: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if took := time.Since(start); resp.StatusCode != http.StatusOK || took < wait-100*time.Millisecond {
			t.Fatalf("blocking query %d: %d after %v, want 200 after its wait %v", i, resp.StatusCode, took, wait)
		}
	}
	idleSince := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection: read %d bytes, %v, want EOF", n, err)
	}
	if took := time.Since(idleSince); took < timeout-50*time.Millisecond {
		t.Fatalf("idle connection closed after %v, before the idle timeout %v", took, timeout)
	}

	body, _, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The upload trickles in over several timeouts' length.
	pr, pw := io.Pipe()
	go func() {
		const parts = 5
		step := len(archive)/parts + 1
		for rest := archive; len(rest) > 0; rest = rest[min(step, len(rest)):] {
			time.Sleep(wait / parts)
			if _, err := pw.Write(rest[:min(step, len(rest))]); err != nil {
				return
			}
		}
		pw.Close()
	}()
	start := time.Now()
	if err := c.Snapshot().Restore(nil, pr); err != nil {
		t.Fatalf("slow snapshot upload: %v", err)
	}
	pr.Close()
	if took := time.Since(start); took < wait-100*time.Millisecond {
		t.Fatalf("the upload took %v: not slower than the timeouts", took)
	}
	if kv, _, err := c.KV().Get("k", nil); err != nil || kv == nil || string(kv.Value) != "v" {
		t.Fatalf("after the restore: %+v %v", kv, err)
	}
}
