package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// raftSnap is a complete Raft snapshot in a data dir.
type raftSnap struct {
	path  string
	index uint64
}

// raftSnapshots lists the complete Raft snapshots under dataDir, newest
// (highest index) first; raft names them <term>-<index>-<milliseconds>.
func raftSnapshots(t *testing.T, dataDir string) []raftSnap {
	t.Helper()
	dir := filepath.Join(dataDir, "raft", "snapshots")
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var snaps []raftSnap
	for _, e := range entries {
		parts := strings.Split(e.Name(), "-")
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") || len(parts) != 3 {
			continue
		}
		index, _ := strconv.ParseUint(parts[1], 10, 64)
		snaps = append(snaps, raftSnap{path: filepath.Join(dir, e.Name()), index: index})
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].index > snaps[j].index })
	return snaps
}

// snapshottedDataDir runs an agent that takes a Raft snapshot every 20
// writes and keeps trailing log entries behind each, writes keys in three
// rounds, each overwriting keys of the one before, with a new snapshot
// after each of the first two, and stops it. It returns the data dir,
// holding two snapshots and the log after them, and the latest value of
// each key.
func snapshottedDataDir(t *testing.T, trailing int) (string, map[string]string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "raft.hcl")
	tuning := fmt.Sprintf("raft_snapshot_threshold = 20\nraft_snapshot_interval = \"50ms\"\nraft_trailing_logs = %d\n", trailing)
	if err := os.WriteFile(cfg, []byte(tuning), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := startAgent(t, dir, "-config-file", cfg)
	c := a.client()
	want := make(map[string]string)
	var written uint64
	for round, n := range []int{30, 30, 10} {
		for i := range n {
			k, v := fmt.Sprintf("k/%02d", i), fmt.Sprintf("round %d %s", round, strings.Repeat("x", 2048))
			if _, err := c.KV().Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
				t.Fatal(err)
			}
			want[k] = v
		}
		if round == 2 {
			break
		}
		// A snapshot of this round, newer than the last one's writes.
		prev := written
		testutil.Retry(t, 10*time.Second, "a snapshot of the round", func() error {
			if s := raftSnapshots(t, dir); len(s) == 0 || s[0].index <= prev {
				return errors.New("no snapshot of the last writes yet")
			}
			return nil
		})
		_, meta, err := c.KV().Get("k/00", nil)
		if err != nil {
			t.Fatal(err)
		}
		written = meta.LastIndex
	}
	if code := a.Stop(); code != 0 {
		t.Fatalf("exit %d on SIGTERM", code)
	}
	if n := len(raftSnapshots(t, dir)); n != 2 {
		t.Fatalf("%d snapshots, want 2", n)
	}
	return dir, want
}

// logFirstIndex is the first index of the log in a stopped agent's
// raft.db.
func logFirstIndex(t *testing.T, dataDir string) uint64 {
	t.Helper()
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dataDir, "raft", "raft.db"),
		BoltOptions: &bbolt.Options{ReadOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	first, err := store.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	return first
}

// copyDataDir copies a stopped agent's data dir, for one way of damaging
// it.
func copyDataDir(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// checkLatest checks that the agent serves each key with its latest value.
func checkLatest(t *testing.T, c *api.Client, want map[string]string) {
	t.Helper()
	pairs, _, err := c.KV().List("k/", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string)
	for _, p := range pairs {
		got[p.Key] = string(p.Value)
	}
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %.10q..., want %.10q...", k, got[k], v)
		}
	}
}

// refusedStart starts an agent on dataDir that must refuse to: exit 1
// within 10 s, without a panic, with one error line saying each of want.
func refusedStart(t *testing.T, dataDir string, want ...string) {
	t.Helper()
	a := spawnAgent(t, dataDir)
	select {
	case <-a.Exited():
	case <-time.After(10 * time.Second):
		t.Fatalf("still running after 10s:\n%s", a.Output())
	}
	out := a.Output()
	if code := a.State().ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
		t.Fatalf("a panic:\n%s", out)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "==> Error starting agent: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d error lines:\n%s", len(lines), out)
	}
	for _, w := range want {
		if !strings.Contains(lines[0], w) {
			t.Errorf("error line without %q:\n%s", w, lines[0])
		}
	}
}

// TestRaftRestartFallsBackToAnOlderSnapshot damages the newest snapshot
// of a data dir whose log reaches back past the older one: the agent
// starts, says which snapshot it skips and what it rebuilds from the log,
// and serves the latest value of every key.
func TestRaftRestartFallsBackToAnOlderSnapshot(t *testing.T) {
	dir, want := snapshottedDataDir(t, 10240)
	if first := logFirstIndex(t, dir); first != 1 {
		t.Fatalf("log compacted to %d", first)
	}
	for name, damage := range map[string]func(snap string){
		"state.bin damaged": func(snap string) { testutil.FlipByte(t, filepath.Join(snap, "state.bin")) },
		"meta.json missing": func(snap string) { os.Remove(filepath.Join(snap, "meta.json")) },
	} {
		t.Run(name, func(t *testing.T) {
			d := copyDataDir(t, dir)
			snaps := raftSnapshots(t, d)
			damage(snaps[0].path)
			a := startAgent(t, d)
			checkLatest(t, a.client(), want)
			out := a.Output()
			for _, w := range []string{"[WARN]", "a snapshot cannot be used; starting without it", snaps[0].path,
				"starting from an older snapshot: raft.db holds every log entry after it, so nothing is lost", snaps[1].path,
				fmt.Sprintf("rebuilt_from_log=%d-", snaps[1].index+1)} {
				if !strings.Contains(out, w) {
					t.Errorf("log without %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRaftRestartRefusesDamage damages a data dir whose log was compacted
// after its newest snapshot in every way the agent must refuse to start
// from, where before it panicked or started with less state.
func TestRaftRestartRefusesDamage(t *testing.T) {
	dir, _ := snapshottedDataDir(t, 5)
	snaps := raftSnapshots(t, dir)
	if first := logFirstIndex(t, dir); first <= snaps[1].index+1 {
		t.Fatalf("log from %d: not compacted past the older snapshot, at %d", first, snaps[1].index)
	}
	dbSize := func(d string) int64 {
		info, err := os.Stat(filepath.Join(d, "raft", "raft.db"))
		if err != nil {
			t.Fatal(err)
		}
		return info.Size()
	}
	cut := func(size func(d string) int64) func(d string) {
		return func(d string) {
			if err := os.Truncate(filepath.Join(d, "raft", "raft.db"), size(d)); err != nil {
				t.Fatal(err)
			}
		}
	}
	const damaged = "raft.db is damaged: "
	cases := []struct {
		name   string
		damage func(d string)
		want   []string
	}{
		{"newest snapshot damaged", func(d string) { testutil.FlipByte(t, filepath.Join(raftSnapshots(t, d)[0].path, "state.bin")) },
			[]string{"starting would lose the writes at indexes " + strconv.FormatUint(snaps[1].index+1, 10) + "-",
				"(state.bin: CRC mismatch)", "raft.db does not hold those log entries"}},
		{"every snapshot deleted", func(d string) {
			for _, s := range raftSnapshots(t, d) {
				os.RemoveAll(s.path)
			}
		}, []string{"starting would lose the writes at indexes 1-", "there is no snapshot"}},
		{"raft.db deleted", func(d string) { os.Remove(filepath.Join(d, "raft", "raft.db")) },
			[]string{"raft.db is missing", fmt.Sprintf("(the newest at index %d)", snaps[0].index)}},
		{"raft.db empty", cut(func(string) int64 { return 0 }), []string{damaged + "empty (0 bytes)"}},
		{"raft.db cut to 4 KiB", cut(func(string) int64 { return 4096 }), []string{damaged}},
		{"raft.db cut in half", cut(func(d string) int64 { return dbSize(d)/2 + 100 }), []string{damaged + "cut short"}},
		{"raft.db cut at a page boundary", cut(func(d string) int64 { return dbSize(d) / 2 &^ 4095 }), []string{damaged + "cut short"}},
		{"raft.db one page short", cut(func(d string) int64 { return boltPagesSize(t, d) - 4096 }), []string{damaged + "cut short"}},
		{"raft.db freelist page zeroed", zeroFreelist(t), []string{damaged + "invalid freelist page"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDataDir(t, dir)
			tc.damage(d)
			refusedStart(t, d, append(tc.want, filepath.Join(d, "raft"), "restore the data dir from a backup")...)
		})
	}
}

// boltPagesSize is the size bbolt recorded for the pages of raft.db.
func boltPagesSize(t *testing.T, dataDir string) int64 {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dataDir, "raft", "raft.db"), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int64
	db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil })
	return size
}

// zeroFreelist damages the page of raft.db holding bbolt's freelist, the
// one page the agent's check cannot read before bbolt loads it. The page
// is named in bbolt's meta pages (0 and 1, the one of the higher
// transaction ID in use), as bbolt 1.3 lays them out: a 16-byte page
// header, then magic, version, page size and flags (4 bytes each), the
// root bucket (16), the freelist's page, the high-water mark and the
// transaction ID (8 each, little-endian).
func zeroFreelist(t *testing.T) func(dataDir string) {
	return func(dataDir string) {
		path := filepath.Join(dataDir, "raft", "raft.db")
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var freelist, txid uint64
		for page := int64(0); page < 2; page++ {
			meta := make([]byte, 72)
			if _, err := f.ReadAt(meta, page*4096); err != nil {
				t.Fatal(err)
			}
			if id := binary.LittleEndian.Uint64(meta[64:]); id >= txid {
				freelist, txid = binary.LittleEndian.Uint64(meta[48:]), id
			}
		}
		if _, err := f.WriteAt(make([]byte, 4096), int64(freelist)*4096); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPartialRestoreDumpRemovedAfterKillDuringRestore kills an agent in
// the middle of a restore of 32 MiB, which leaves the partial staged dump
// of it behind: the agent started again removes it, says so, and holds
// the state from before the restore. (Raft's own partial snapshots, left
// by a kill during a snapshot, are removed at start-up the same way:
// consul/raft_check_test.go.)
func TestPartialRestoreDumpRemovedAfterKillDuringRestore(t *testing.T) {
	src := startAgent(t, "")
	rng := rand.New(rand.NewSource(1))
	big := make([]byte, 512*1024)
	for i := range 64 {
		rng.Read(big) // so that the archive does not compress
		if _, err := src.client().KV().Put(&api.KVPair{Key: fmt.Sprintf("big/%02d", i), Value: big}, nil); err != nil {
			t.Fatal(err)
		}
	}
	archive, _ := saveArchive(t, src.client())
	src.Stop()
	if len(archive) < 32<<20 {
		t.Fatalf("archive of %d bytes", len(archive))
	}

	dir := t.TempDir()
	a := startAgent(t, dir)
	want := map[string]string{}
	for i := range 10 {
		k, v := fmt.Sprintf("k/%d", i), fmt.Sprintf("before the restore %d", i)
		if _, err := a.client().KV().Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	// Half the archive, then nothing until the kill.
	body, upload := io.Pipe()
	t.Cleanup(func() { upload.Close() })
	go upload.Write(archive[:len(archive)/2])
	req, err := http.NewRequest("PUT", a.URL("/v1/snapshot"), body)
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// A restore stages the upload in <data-dir>/restore before anything
	// else sees it.
	partial := func() (string, int64) {
		parts, _ := filepath.Glob(filepath.Join(dir, "restore", "*.part"))
		if len(parts) != 1 {
			return "", 0
		}
		info, err := os.Stat(parts[0])
		if err != nil {
			return "", 0
		}
		return parts[0], info.Size()
	}
	testutil.Retry(t, 20*time.Second, "a partial restore dump of 8 MiB", func() error {
		if _, size := partial(); size < 8<<20 {
			return fmt.Errorf("partial dump of %d bytes", size)
		}
		return nil
	})
	a.Kill()
	upload.CloseWithError(errors.New("agent killed"))
	<-answered
	part, size := partial()
	if part == "" {
		t.Fatal("no partial dump after the kill")
	}

	again := startAgent(t, dir)
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Fatalf("partial dump still there: %v", err)
	}
	out := again.Output()
	for _, w := range []string{"[WARN]", "removed a partial restore dump left by a crash; nothing in it was in use", part, fmt.Sprintf("bytes=%d", size)} {
		if !strings.Contains(out, w) {
			t.Errorf("log without %q:\n%s", w, out)
		}
	}
	checkLatest(t, again.client(), want)
	if pairs, _, err := again.client().KV().Keys("big/", "", nil); err != nil || len(pairs) != 0 {
		t.Fatalf("restored keys after the kill: %d %v", len(pairs), err)
	}
}
