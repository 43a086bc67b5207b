package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/hashicorp/consul/api"
)

// maxWriteLatency is the longest a write may take while a restore
// upload arrives; requestTimeout gives up on one that takes far longer.
const (
	maxWriteLatency = time.Second
	requestTimeout  = 3 * time.Second
)

// Trickle speed: 1 KiB every 100 ms, a hundredth of the minimum rate
// that the deadline test sets.
const (
	trickleChunk = 1 << 10
	trickleEvery = 100 * time.Millisecond
)

// startClusterWith is startCluster for servers that also read the
// config file cfg.
func startClusterWith(t *testing.T, cfg string) []*clusterNode {
	t.Helper()
	var nodes []*clusterNode
	for i := 0; i < 3; i++ {
		nodes = append(nodes, &clusterNode{name: fmt.Sprintf("node%d", i), httpPort: freePort(t),
			serverPort: freePort(t), serfPort: freePort(t), dataDir: filepath.Join(t.TempDir(), "data")})
	}
	for _, n := range nodes {
		n.proc = spawn(t, append(n.args(nodes), "-config-file", cfg), n.httpPort, n.dataDir)
	}
	testutil.Retry(t, 30*time.Second, "one leader that every node knows", func() error {
		for _, n := range nodes {
			select {
			case <-n.proc.Exited():
				t.Fatalf("%s exited (%v):\n%s", n.name, n.proc.State(), n.proc.Output())
			default:
			}
		}
		_, err := agreedLeader(nodes)
		return err
	})
	return nodes
}

// trickle is an upload body that sends data trickleChunk bytes at a
// time, every trickleEvery, until it is all sent or stop is closed.
type trickle struct {
	data     []byte
	stop     chan struct{}
	stopOnce sync.Once
	sent     atomic.Int64
	started  bool
}

// halt makes the trickle fail its next read, which ends the upload.
func (r *trickle) halt() { r.stopOnce.Do(func() { close(r.stop) }) }

func newTrickle(data []byte) *trickle {
	return &trickle{data: data, stop: make(chan struct{})}
}

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.started {
		select {
		case <-r.stop:
			return 0, errors.New("the trickle was stopped")
		case <-time.After(trickleEvery):
		}
	}
	r.started = true
	n := copy(p[:min(len(p), trickleChunk)], r.data)
	r.data = r.data[n:]
	r.sent.Add(int64(n))
	return n, nil
}

// startTrickle PUTs archive to n's /v1/snapshot as a trickle, on a
// connection of its own; the channel gets how the PUT ended. The upload
// is stopped when the test ends.
func startTrickle(t *testing.T, n *clusterNode, archive []byte) (*trickle, <-chan putOutcome) {
	t.Helper()
	body := newTrickle(archive)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "PUT", n.proc.URL("/v1/snapshot"), body)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan putOutcome, 1)
	stop := func() { body.halt(); cancel() }
	t.Cleanup(stop)
	go func() {
		start := time.Now()
		var o putOutcome
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Do(req)
		o.took = time.Since(start)
		if err == nil {
			// The answer may come while the upload still trickles:
			// stop it, so that the body below ends.
			stop()
			var b []byte
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			o.status, o.body = resp.StatusCode, string(b)
		}
		o.err = err
		done <- o
	}()
	return body, done
}

// writeLoad writes keys through a set of servers, one writer each, one
// write every 50 ms, and keeps the longest write and the keys written.
type writeLoad struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked []string
	worst time.Duration
	what  string
	errs  []error
}

func startWrites(nodes []*clusterNode, prefix string) *writeLoad {
	w := &writeLoad{stop: make(chan struct{})}
	for _, n := range nodes {
		w.wg.Add(1)
		go func(n *clusterNode) {
			defer w.wg.Done()
			c := n.proc.client()
			for j := 0; ; j++ {
				select {
				case <-w.stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				key := fmt.Sprintf("%s/%s/%d", prefix, n.name, j)
				ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
				start := time.Now()
				_, err := c.KV().Put(&api.KVPair{Key: key, Value: []byte("during the upload")}, (&api.WriteOptions{}).WithContext(ctx))
				took := time.Since(start)
				cancel()
				w.mu.Lock()
				if took > w.worst {
					w.worst, w.what = took, "write of "+key+" through "+n.name
				}
				if err != nil {
					w.errs = append(w.errs, fmt.Errorf("%s through %s after %v: %w", key, n.name, took.Round(time.Millisecond), err))
				} else {
					w.acked = append(w.acked, key)
				}
				w.mu.Unlock()
			}
		}(n)
	}
	return w
}

// record notes a request other than a write, such as a read, that has
// to be as quick as a write.
func (w *writeLoad) record(what string, took time.Duration, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if took > w.worst {
		w.worst, w.what = took, what
	}
	if err != nil {
		w.errs = append(w.errs, fmt.Errorf("%s: %w", what, err))
	}
}

// finish stops the writers and fails unless every request succeeded
// within maxWriteLatency; it returns the keys written.
func (w *writeLoad) finish(t *testing.T) []string {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	t.Logf("%d writes during the upload, the slowest request %v (%s)", len(w.acked), w.worst.Round(time.Millisecond), w.what)
	if len(w.errs) > 0 {
		t.Errorf("%d requests failed during the upload, the first: %v", len(w.errs), w.errs[0])
	}
	if w.worst > maxWriteLatency {
		t.Errorf("the %s took %v during the upload, want under %v", w.what, w.worst.Round(time.Millisecond), maxWriteLatency)
	}
	if len(w.acked) < 20 {
		t.Errorf("only %d writes were acknowledged during the upload", len(w.acked))
	}
	return w.acked
}

// checkWritesKept fails unless every one of nodes serves each of keys
// under prefix, with ?stale.
func checkWritesKept(t *testing.T, nodes []*clusterNode, prefix string, keys []string) {
	t.Helper()
	for _, n := range nodes {
		testutil.Retry(t, 20*time.Second, n.name+" serves every write made during the upload", func() error {
			pairs, _, err := n.proc.client().KV().Keys(prefix+"/", "", &api.QueryOptions{AllowStale: true})
			if err != nil {
				return err
			}
			have := make(map[string]bool, len(pairs))
			for _, k := range pairs {
				have[k] = true
			}
			for _, k := range keys {
				if !have[k] {
					return fmt.Errorf("%s is missing", k)
				}
			}
			return nil
		})
	}
}

// checkNothingStaged fails unless no server keeps a file under
// <data-dir>/restore/: a restore that failed leaves none behind.
func checkNothingStaged(t *testing.T, nodes []*clusterNode) {
	t.Helper()
	for _, n := range nodes {
		dir := filepath.Join(n.dataDir, "restore")
		testutil.Retry(t, 10*time.Second, n.name+" keeps nothing under "+dir, func() error {
			if files := dirFiles(t, dir); len(files) > 0 {
				return fmt.Errorf("%v", files)
			}
			return nil
		})
	}
}

// randomValues writes count keys under prefix with random values of
// size bytes, which an archive stores as they are.
func randomValues(t *testing.T, nodes []*clusterNode, prefix string, count, size int) {
	t.Helper()
	var ops api.TxnOps
	for i := 0; i < count; i++ {
		v := make([]byte, size)
		rand.Read(v)
		ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: fmt.Sprintf("%s/%05d", prefix, i), Value: v}})
	}
	// A transaction's body may hold 512 KiB, values in base64.
	loadKVBatched(t, nodes, ops, max(1, min(64, (256<<10)/size)))
}

// trickleArchive loads count keys of 64 random bytes, saves an archive
// of them (70 bytes a key), and then writes one more key, so that the
// servers' state is not the archive's; it returns the archive.
func trickleArchive(t *testing.T, nodes []*clusterNode, count int) []byte {
	t.Helper()
	randomValues(t, nodes, "trickle/small", count, 64)
	leader := waitForOneLeader(t, nodes)
	archive, _ := saveArchive(t, leader.proc.client())
	if _, err := leader.proc.client().KV().Put(&api.KVPair{Key: "trickle/after-save", Value: []byte("kept")}, nil); err != nil {
		t.Fatal(err)
	}
	return archive
}

// TestRestoreTrickleKeepsWritesServed shows that a restore upload that
// arrives slowly does not hold the cluster up: while one trickles into
// the leader (at 10 KiB/s, with the default limits), writes through the
// leader and through each follower, consistent reads and a save each
// succeed in under a second (a save of the small state, in under five);
// once the client gives the upload up, the state is the one before plus
// every write made meanwhile, on all three servers, and no staged file
// is left behind.
func TestRestoreTrickleKeepsWritesServed(t *testing.T) {
	start := time.Now()
	nodes := startCluster(t)
	// 280 kB: 28 s of trickle, far longer than the test needs.
	archive := trickleArchive(t, nodes, 4000)
	leader := waitForOneLeader(t, nodes)
	lc := leader.proc.client()
	before := agreedKV(t, nodes, stateNames{}).mustState(t)

	body, done := startTrickle(t, leader, archive)
	// The leader is into the upload: past meta.json and some records.
	testutil.Until(t, 10*time.Second, "the upload has started", func() bool { return body.sent.Load() >= 4*trickleChunk })
	load := startWrites(nodes, "trickle/w")
	window := time.Now().Add(4 * time.Second)
	saves := 0
	for time.Now().Before(window) {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		readStart := time.Now()
		_, _, err := lc.KV().Get("trickle/after-save", (&api.QueryOptions{}).WithContext(ctx))
		load.record("consistent read through "+leader.name, time.Since(readStart), err)
		cancel()

		ctx, cancel = context.WithTimeout(context.Background(), 2*requestTimeout)
		saveStart := time.Now()
		saved, err := saveWithin(ctx, leader)
		took := time.Since(saveStart)
		cancel()
		if err != nil || took > 2*requestTimeout-time.Second {
			t.Errorf("a save during the upload: %d bytes in %v: %v", len(saved), took.Round(time.Millisecond), err)
		} else {
			saves++
		}
		time.Sleep(200 * time.Millisecond)
	}
	acked := load.finish(t)
	select {
	case o := <-done:
		t.Fatalf("the trickled upload ended (%v) before the writes did, so they may not have overlapped it", o)
	default:
	}
	sent := body.sent.Load()
	body.halt()
	o := <-done
	t.Logf("upload given up after %d of %d bytes: %v; %d saves during it", sent, len(archive), o, saves)
	if o.status == 200 {
		t.Fatalf("an upload given up halfway was answered 200")
	}

	checkWritesKept(t, nodes, "trickle/w", acked)
	if after := agreedKV(t, nodes, stateNames{}).mustState(t); after.keys != before.keys+len(acked) {
		t.Errorf("%d keys after the upload, want the %d before and the %d written", after.keys, before.keys, len(acked))
	}
	servedEverywhere(t, nodes, "trickle/after-save", "kept")
	checkNothingStaged(t, nodes)
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// saveWithin saves an archive through n and verifies it.
func saveWithin(ctx context.Context, n *clusterNode) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", n.proc.URL("/v1/snapshot"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	archive, err := io.ReadAll(resp.Body)
	if err != nil {
		return archive, err
	}
	if resp.StatusCode != 200 {
		return archive, fmt.Errorf("%d %s", resp.StatusCode, archive)
	}
	if _, err := snapshot.Verify(bytes.NewReader(archive), int64(len(archive))); err != nil {
		return archive, err
	}
	return archive, nil
}

// TestRestoreTrickleCutOffByDeadline shows the upload deadline: with
// limits { restore_upload_grace = "2s", restore_upload_min_rate =
// 1048576 }, an upload must end within 2 s plus its declared state.bin
// size at 1 MiB/s. A trickle of a small archive and one of a 3 MiB
// state.bin are each answered 400 at their own deadline (not before, and
// at most a second and a half after), while writes through every server
// go on in under a second; the state is as before plus those writes and
// no staged file is left. The larger archive, sent at full speed, then
// restores (200) on all three servers.
func TestRestoreTrickleCutOffByDeadline(t *testing.T) {
	const grace, minRate = 2 * time.Second, 1 << 20
	start := time.Now()
	cfg := filepath.Join(t.TempDir(), "restore.hcl")
	hcl := fmt.Sprintf("limits {\n  restore_upload_grace = %q\n  restore_upload_min_rate = %d\n}\n", grace, minRate)
	if err := os.WriteFile(cfg, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := startClusterWith(t, cfg)
	// 140 kB: 14 s of trickle, a deadline of 2.1 s.
	small := trickleArchive(t, nodes, 2000)
	// 48 values of 64 KiB more: a state.bin of about 3.2 MB.
	randomValues(t, nodes, "trickle/large", 48, 64<<10)
	large, _ := saveArchive(t, waitForOneLeader(t, nodes).proc.client())
	if _, err := waitForOneLeader(t, nodes).proc.client().KV().Put(&api.KVPair{Key: "trickle/after-save", Value: []byte("kept")}, nil); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		archive []byte
	}{{"small", small}, {"large", large}} {
		t.Run(tc.name, func(t *testing.T) {
			meta, err := snapshot.Verify(bytes.NewReader(tc.archive), int64(len(tc.archive)))
			if err != nil {
				t.Fatal(err)
			}
			deadline := grace + time.Duration(float64(meta.Size)/minRate*float64(time.Second))
			leader := waitForOneLeader(t, nodes)
			before := agreedKV(t, nodes, stateNames{}).mustState(t)
			prefix := "trickle/w-" + tc.name

			body, done := startTrickle(t, leader, tc.archive)
			load := startWrites(nodes, prefix)
			var o putOutcome
			select {
			case o = <-done:
			case <-time.After(deadline + 5*time.Second):
				load.finish(t)
				t.Fatalf("the trickle was not cut off within %v, 5 s past its deadline (%d of %d bytes sent)", deadline+5*time.Second, body.sent.Load(), len(tc.archive))
			}
			acked := load.finish(t)
			t.Logf("state.bin of %d bytes, deadline %v: %v, after %d of %d bytes", meta.Size, deadline.Round(time.Millisecond), o, body.sent.Load(), len(tc.archive))
			if o.err != nil || o.status != 400 || strings.TrimSpace(o.body) == "" {
				t.Errorf("the trickle ended with %v, want 400 and a reason", o)
			}
			if o.took < deadline-250*time.Millisecond || o.took > deadline+1500*time.Millisecond {
				t.Errorf("cut off after %v, want at its deadline, %v", o.took.Round(time.Millisecond), deadline.Round(time.Millisecond))
			}

			// Nothing changed but the writes.
			checkWritesKept(t, nodes, prefix, acked)
			after := agreedKV(t, nodes, stateNames{}).mustState(t)
			if after.keys != before.keys+len(acked) {
				t.Errorf("%d keys after the cut-off, want the %d before and the %d written", after.keys, before.keys, len(acked))
			}
			servedEverywhere(t, nodes, "trickle/after-save", "kept")
			checkNothingStaged(t, nodes)
		})
	}

	// The deadline does not stop an upload that arrives at full speed.
	leader := waitForOneLeader(t, nodes)
	want := archiveKV(t, large)
	if status, msg := putSnapshotTo(t, leader, large); status != 200 {
		t.Fatalf("full-speed restore of the large archive: %d %s", status, msg)
	}
	if got := agreedKV(t, nodes, stateNames{kv: map[kvState]string{want: "the archive's"}}).mustState(t); got != want {
		t.Fatalf("after the full-speed restore the servers serve %v, want the archive's %v", got, want)
	}
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// putSnapshotTo restores archive through n at full speed.
func putSnapshotTo(t *testing.T, n *clusterNode, archive []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", n.proc.URL("/v1/snapshot"), bytes.NewReader(archive))
	status, body := send(t, req)
	return status, string(body)
}
