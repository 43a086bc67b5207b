package consul

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// raftFixture builds a raft directory as Raft leaves one, without
// running Raft.
type raftFixture struct {
	t   testing.TB
	dir string
}

func newRaftFixture(t testing.TB) *raftFixture {
	return &raftFixture{t: t, dir: t.TempDir()}
}

func (f *raftFixture) db() string { return filepath.Join(f.dir, "raft.db") }

// log stores the entries first to last in raft.db, each of size bytes,
// and a term, as Raft does.
func (f *raftFixture) log(first, last uint64, size int) {
	f.t.Helper()
	store, err := raftboltdb.New(raftboltdb.Options{Path: f.db()})
	if err != nil {
		f.t.Fatal(err)
	}
	defer store.Close()
	var batch []*raft.Log
	for i := first; i <= last; i++ {
		batch = append(batch, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: make([]byte, size)})
		if len(batch) == 64 || i == last {
			if err := store.StoreLogs(batch); err != nil {
				f.t.Fatal(err)
			}
			batch = nil
		}
	}
	if err := store.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		f.t.Fatal(err)
	}
}

// snapshot writes a snapshot of Raft's at index, with a state.bin of size
// bytes, and returns its directory.
func (f *raftFixture) snapshot(index uint64, size int) string {
	f.t.Helper()
	// Retaining many: the store reaps the others when a sink closes.
	store, err := raft.NewFileSnapshotStoreWithLogger(f.dir, 100, hclog.NewNullLogger())
	if err != nil {
		f.t.Fatal(err)
	}
	sink, err := store.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := sink.Write(make([]byte, size)); err != nil {
		f.t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		f.t.Fatal(err)
	}
	return filepath.Join(f.dir, snapshotsDirName, sink.ID())
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// checkFixture runs the check on f and returns its error and warnings.
func checkFixture(f *raftFixture) (error, string) {
	var logs testutil.Buffer
	err := checkRaftState(f.dir, hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: &logs}))
	return err, logs.String()
}

// fallBack builds a snapshot at index 20, a newer one at 40 that damage
// breaks, and the log from 11 to 60: Raft falls back to the older one
// and loses nothing.
func fallBack(damage func(snap string)) func(*raftFixture) {
	return func(f *raftFixture) {
		f.snapshot(20, 100)
		damage(f.snapshot(40, 100))
		f.log(11, 60, 10)
	}
}

func TestCheckRaftState(t *testing.T) {
	cases := []struct {
		name  string
		build func(f *raftFixture)
		// err holds what the error must say; none for a start.
		err []string
		// warn holds what the warnings must say; none for a silent start.
		warn []string
	}{
		{name: "fresh data dir", build: func(f *raftFixture) {}},
		{name: "log only", build: func(f *raftFixture) { f.log(1, 50, 10) }},
		{name: "snapshot and compacted log", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			f.snapshot(40, 100)
			f.log(31, 60, 10)
		}},
		{name: "after a user restore", build: func(f *raftFixture) {
			// Raft leaves the restore's index out of the log.
			f.log(1, 50, 10)
			f.snapshot(51, 100)
			f.log(52, 60, 10)
		}},
		{name: "after a user restore, no write since", build: func(f *raftFixture) {
			f.log(1, 50, 10)
			f.snapshot(51, 100)
		}},
		{name: "partial snapshot newer than the others", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			f.log(11, 60, 10)
			if err := os.Rename(f.snapshot(60, 100), filepath.Join(f.dir, snapshotsDirName, "1-60-1.tmp")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "newest state.bin damaged, log whole", build: fallBack(func(snap string) { testutil.FlipByte(t, filepath.Join(snap, "state.bin")) }), warn: []string{"a snapshot cannot be used", "index=40", `error="state.bin: CRC mismatch"`,
			"starting from an older snapshot", "index=20", "rebuilt_from_log=21-60"}},
		{name: "newest meta.json missing, log whole", build: fallBack(func(snap string) { remove(t, filepath.Join(snap, "meta.json")) }), warn: []string{"index=40", "meta.json: no such file or directory", "rebuilt_from_log=21-60"}},
		{name: "newest meta.json garbage, log whole", build: fallBack(func(snap string) {
			os.WriteFile(filepath.Join(snap, "meta.json"), []byte("{\x00"), 0o600)
		}), warn: []string{"index=40", "meta.json: invalid character", "rebuilt_from_log=21-60"}},
		{name: "newest state.bin missing, log whole", build: fallBack(func(snap string) { remove(t, filepath.Join(snap, "state.bin")) }), warn: []string{"index=40", "state.bin: no such file or directory", "rebuilt_from_log=21-60"}},
		{name: "only snapshot unreadable, log whole from 1", build: func(f *raftFixture) {
			remove(t, filepath.Join(f.snapshot(40, 100), "meta.json"))
			f.log(1, 60, 10)
		}, warn: []string{"index=40", "starting from an empty state", "rebuilt_from_log=1-60"}},
		{name: "newest damaged, log compacted past the older", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			testutil.FlipByte(t, filepath.Join(f.snapshot(40, 100), "state.bin"))
			f.log(31, 60, 10)
		}, err: []string{"starting would lose the writes at indexes 21-30", "-40-", "(index 40) cannot be used (state.bin: CRC mismatch)",
			"the newest usable snapshot", "ends at index 20", "raft.db does not hold those log entries", "restore the data dir from a backup"}},
		{name: "newest deleted, log compacted past the older", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			f.log(31, 60, 10)
		}, err: []string{"lose the writes at indexes 21-30", "ends at index 20"}},
		{name: "no snapshot, log not from 1", build: func(f *raftFixture) { f.log(31, 60, 10) },
			err: []string{"lose the writes at indexes 1-30", "there is no snapshot"}},
		{name: "only snapshot damaged, log compacted", build: func(f *raftFixture) {
			testutil.FlipByte(t, filepath.Join(f.snapshot(40, 100), "state.bin"))
			f.log(31, 60, 10)
		}, err: []string{"lose the writes at indexes 1-30", "no snapshot can be used"}},
		{name: "only snapshot damaged, log whole from 1", build: func(f *raftFixture) {
			// Raft would refuse with "failed to load any existing snapshots".
			testutil.FlipByte(t, filepath.Join(f.snapshot(40, 100), "state.bin"))
			f.log(1, 60, 10)
		}, err: []string{"no snapshot in", "can be used", "state.bin: CRC mismatch", "holds the whole log, indexes 1-60", "move those snapshot directories out"}},
		{name: "restored snapshot damaged, no write since", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			f.log(1, 50, 10)
			testutil.FlipByte(t, filepath.Join(f.snapshot(51, 100), "state.bin"))
		}, err: []string{"lose the writes at index 51:", "(index 51) cannot be used"}},
		{name: "hole in the log after the snapshot", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			f.log(11, 40, 10)
			f.log(45, 60, 10)
		}, err: []string{"lose the writes at indexes 41-44"}},
		{name: "raft.db missing", build: func(f *raftFixture) {
			f.snapshot(20, 100)
			f.snapshot(40, 100)
		}, err: []string{"raft.db is missing", "holds snapshots (the newest at index 40)", "term and vote", "move " /* the raft dir aside */}},
		{name: "raft.db empty", build: func(f *raftFixture) {
			os.WriteFile(f.db(), nil, 0o600)
		}, err: []string{"raft.db is damaged: empty (0 bytes)", "restore the data dir from a backup"}},
		{name: "raft.db garbage", build: func(f *raftFixture) {
			f.log(1, 100, 1024)
			overwrite(t, f.db(), 0)
		}, err: []string{"raft.db is damaged: invalid database"}},
		{name: "raft.db pages garbage", build: func(f *raftFixture) {
			f.log(1, 100, 1024)
			// Both meta pages intact: bbolt opens it, then reads garbage.
			overwrite(t, f.db(), 2*4096)
		}, err: []string{"raft.db is damaged: "}},
		{name: "raft.db a directory", build: func(f *raftFixture) {
			os.Mkdir(f.db(), 0o700)
		}, err: []string{"raft.db cannot be read ("}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRaftFixture(t)
			tc.build(f)
			err, warn := checkFixture(f)
			if len(tc.err) == 0 && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatal("started")
				}
				wantAll(t, "error", err.Error(), tc.err)
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error of more than one line: %q", err)
				}
				if warn != "" {
					t.Errorf("warned as well:\n%s", warn)
				}
				return
			}
			if len(tc.warn) == 0 && warn != "" {
				t.Fatalf("warned:\n%s", warn)
			}
			wantAll(t, "warnings", warn, tc.warn)
		})
	}
}

func wantAll(t *testing.T, what, got string, want []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s without %q:\n%s", what, w, got)
		}
	}
}

// overwrite fills path with pseudo-random bytes from offset on.
func overwrite(t *testing.T, path string, offset int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewSource(1)).Read(b[offset:])
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// boltPages is the size that raft.db's pages take, as bbolt records it.
func boltPages(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// TestCheckRaftStateTruncatedRaftDB cuts raft.db where bbolt, before the
// check, panicked or faulted when opening it or later when Raft read it.
func TestCheckRaftStateTruncatedRaftDB(t *testing.T) {
	base := newRaftFixture(t)
	base.log(1, 2000, 1024)
	full, err := os.ReadFile(base.db())
	if err != nil {
		t.Fatal(err)
	}
	pages := boltPages(t, base.db())
	for name, size := range map[string]int64{
		"4 KiB":                    4096,
		"two pages":                8192,
		"half":                     int64(len(full)) / 2,
		"half, on a page boundary": int64(len(full)) / 2 / 4096 * 4096,
		"one page short":           pages - 4096,
		"one byte short":           pages - 1,
	} {
		t.Run(name, func(t *testing.T) {
			f := newRaftFixture(t)
			if err := os.WriteFile(f.db(), full[:size], 0o600); err != nil {
				t.Fatal(err)
			}
			err, _ := checkFixture(f)
			if err == nil || !strings.Contains(err.Error(), f.db()+" is damaged") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("not short", func(t *testing.T) {
		// bbolt leaves the file longer than its pages; cut there, nothing
		// is lost.
		f := newRaftFixture(t)
		if err := os.WriteFile(f.db(), full[:pages], 0o600); err != nil {
			t.Fatal(err)
		}
		if err, warn := checkFixture(f); err != nil || warn != "" {
			t.Fatalf("err = %v, warnings: %s", err, warn)
		}
	})
}

func TestRemovePartialSnapshots(t *testing.T) {
	dir := t.TempDir()
	partial := filepath.Join(dir, "2-70-1700000000000.tmp")
	done := filepath.Join(dir, "2-60-1600000000000")
	for _, d := range []string{partial, done} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "state.bin"), make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs testutil.Buffer
	if err := removePartialSnapshots(dir, hclog.New(&hclog.LoggerOptions{Output: &logs})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("partial snapshot left: %v", err)
	}
	if _, err := os.Stat(done); err != nil {
		t.Errorf("complete snapshot removed: %v", err)
	}
	wantAll(t, "log", logs.String(), []string{"[WARN]", "removed a partial snapshot", partial, "bytes=1000"})
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Errorf("%d log lines:\n%s", n, logs.String())
	}
}

// TestRestartAfterUserRestoreIsSilent restarts a server after a restore,
// which leaves a hole in the log below its snapshot, and after its own
// snapshot and compaction: both start without a warning.
func TestRestartAfterUserRestoreIsSilent(t *testing.T) {
	c := testConfig(t)
	c.RaftConfig.TrailingLogs = 5
	s := testServer(t, c)
	for i := 0; i < 20; i++ {
		kvPut(t, s, fmt.Sprintf("k/%d", i), "old")
	}
	archive, _ := save(t, s, false)
	kvPut(t, s, "k/after-save", "gone after the restore")
	if err := restore(s, archive); err != nil {
		t.Fatal(err)
	}
	kvPut(t, s, "k/after-restore", "kept")
	for _, compact := range []bool{false, true} {
		if compact {
			// Just after the restart, Raft may refuse a snapshot until
			// the configuration it recovered counts as applied ("wait
			// until the configuration entry at 34 has been applied").
			testutil.Retry(t, 10*time.Second, "Raft takes a snapshot", func() error { return s.raft.Snapshot().Error() })
			kvPut(t, s, "k/after-compaction", "kept")
		}
		if err := s.Shutdown(); err != nil {
			t.Fatal(err)
		}
		c2 := testConfig(t)
		c2.DataDir = c.DataDir
		c2.RaftConfig.TrailingLogs = 5
		var logs testutil.Buffer
		s2, err := NewServer(c2, hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: &logs}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s2.Shutdown() })
		if err := s2.waitForLeadership(); err != nil {
			t.Fatal(err)
		}
		if e := kvGet(t, s2, "k/after-restore"); e == nil || kvGet(t, s2, "k/after-save") != nil || kvGet(t, s2, "k/3") == nil {
			t.Fatalf("state after restart: after-restore %v", e)
		}
		if compact && kvGet(t, s2, "k/after-compaction") == nil {
			t.Fatal("write after the compaction lost")
		}
		if strings.Contains(logs.String(), "snapshot") || strings.Contains(logs.String(), "rebuilt") {
			t.Fatalf("warned:\n%s", logs.String())
		}
		s = s2
	}
}

// BenchmarkCheckRaftState measures the check on a raft directory of
// realistic size: 30,000 log entries of 1 KiB (35 MB of raft.db), 20,000
// of them after a snapshot of 64 MiB, whose CRC the check reads through
// as Raft does again after it. On the 2-core machine of the first run:
// 52 ms, of which 41 ms for the CRC; 11 ms with a snapshot of 100 bytes.
func BenchmarkCheckRaftState(b *testing.B) {
	f := newRaftFixture(b)
	f.log(1, 30000, 1024)
	f.snapshot(10000, 64<<20)
	b.ResetTimer()
	for range b.N {
		if err := checkRaftState(f.dir, hclog.NewNullLogger()); err != nil {
			b.Fatal(err)
		}
	}
}
