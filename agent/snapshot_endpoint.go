package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/consulcompat/consul/structs"
)

// snapshotSumTrailer is the HTTP trailer that carries the SHA-256 of the
// whole archive a save sent, so that a client can check what it stored
// against what the server wrote.
const snapshotSumTrailer = "X-Consul-Snapshot-Sha256"

// restoreIdleTimeout ends a restore whose upload stops arriving. The
// upload streams straight into Raft, whose leader loop waits on it, so a
// client that stalls must not hold the cluster's writes for long.
var restoreIdleTimeout = 30 * time.Second

// idleLimitedReader fails a read that waits longer than idle for data.
type idleLimitedReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (i *idleLimitedReader) Read(p []byte) (int, error) {
	// Best effort: a connection that cannot take a deadline reads
	// without one.
	i.rc.SetReadDeadline(time.Now().Add(i.idle))
	return i.r.Read(p)
}

// snapshotEndpoint serves /v1/snapshot: GET streams an archive of the
// whole state, PUT restores one.
func (a *Agent) snapshotEndpoint(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args := structs.SnapshotRequest{
		Datacenter: parseDC(req),
		Token:      token(req),
		AllowStale: has(req, "stale"),
		Op:         structs.SnapshotSave,
	}
	var in io.Reader
	if req.Method == "PUT" {
		args.Op = structs.SnapshotRestore
		in = &idleLimitedReader{r: req.Body, rc: http.NewResponseController(w), idle: restoreIdleTimeout}
	}
	started := false
	sum := sha256.New()
	err := a.server.SnapshotRPC(&args, in, func(reply *structs.SnapshotResponse) (io.Writer, error) {
		started = true
		setMeta(w, &structs.QueryMeta{Index: reply.Index, KnownLeader: reply.KnownLeader, LastContact: reply.LastContact})
		if args.Op == structs.SnapshotRestore {
			w.WriteHeader(http.StatusOK)
			return io.Discard, nil
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Trailer", snapshotSumTrailer)
		w.WriteHeader(http.StatusOK)
		return io.MultiWriter(&flushWriter{w: w, f: w.(http.Flusher)}, sum), nil
	})
	if err == nil && args.Op == structs.SnapshotSave {
		w.Header().Set(snapshotSumTrailer, hex.EncodeToString(sum.Sum(nil)))
	}
	if err != nil && started && args.Op == structs.SnapshotSave {
		// The status line is gone; ending the body cleanly would make a
		// truncated archive look complete. Break the connection instead.
		a.logger.Error("snapshot save failed mid-stream", "error", err)
		panic(http.ErrAbortHandler)
	}
	return nil, err
}

// flushWriter sends every write at once, so the archive's first bytes
// leave as soon as they exist; the archive writer's own buffer keeps
// writes large.
type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	fw.f.Flush()
	return n, err
}
