package consul

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/structs"
)

// stateDump is s's state dump under a blank header: the indexes that
// label it differ from server to server while the state is the same.
func stateDump(t *testing.T, s *Server) []byte {
	t.Helper()
	snap := s.fsm.State().Snapshot(structs.SnapshotHeader{})
	defer snap.Release()
	var buf bytes.Buffer
	if err := snap.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sameStateEverywhere waits until every server holds the same state as
// the first one, and that state has key=value.
func sameStateEverywhere(t *testing.T, servers []*Server, key, value string) {
	t.Helper()
	testutil.Retry(t, 20*time.Second, "every server on the same state, with "+key+"="+value, func() error {
		want := stateDump(t, servers[0])
		for _, s := range servers {
			if err := hasValue(s, key, value)(); err != nil {
				return err
			}
			if got := stateDump(t, s); !bytes.Equal(got, want) {
				return fmt.Errorf("%s's state (%d bytes) differs from %s's (%d bytes)", s.config.NodeName, len(got), servers[0].config.NodeName, len(want))
			}
		}
		return nil
	})
}

// TestRestoreSwitchesEveryServer: a restore through a follower is staged
// on every server, and every server ends on the same restored state; a
// write afterwards reaches all of them with the same index.
func TestRestoreSwitchesEveryServer(t *testing.T) {
	_, servers := formedCluster(t, 3)
	leader, follower := servers[0], servers[1]
	for i := 0; i < 200; i++ {
		kvPut(t, leader, fmt.Sprintf("k/%d", i), "restored")
	}
	archive, _ := save(t, leader, false)
	for i := 0; i < 200; i++ {
		kvPut(t, leader, fmt.Sprintf("k/%d", i), "replaced")
	}
	if err := restore(follower, archive); err != nil {
		t.Fatal(err)
	}
	sameStateEverywhere(t, servers, "k/199", "restored")
	for _, s := range servers {
		if list, err := s.staging.store.List(); err != nil || len(list) != 1 {
			t.Errorf("%s stages %v (%v), want the one dump", s.config.NodeName, list, err)
		}
	}
	kvPut(t, follower, "after", "x")
	sameStateEverywhere(t, servers, "after", "x")
}

// TestRestoreFetchedByAServerDownDuringIt: a server that was down while a
// restore was staged and committed fetches the dump from a peer when it
// applies the entry, and ends on the restored state.
func TestRestoreFetchedByAServerDownDuringIt(t *testing.T) {
	c, servers := formedCluster(t, 3)
	leader, down := servers[0], c.indexOf(servers[2])
	kvPut(t, leader, "k", "restored")
	archive, _ := save(t, leader, false)
	kvPut(t, leader, "k", "replaced")
	testutil.Retry(t, 10*time.Second, "the write on every server", hasValue(servers[2], "k", "replaced"))
	c.stop(down)
	if err := restore(leader, archive); err != nil {
		t.Fatal(err)
	}
	back := c.start(down)
	sameStateEverywhere(t, c.running(), "k", "restored")
	if list, _ := back.staging.store.List(); len(list) != 1 {
		t.Fatalf("the returning server stages %v, want the dump it fetched", list)
	}
}

// trickle is an upload that sends the first n bytes of archive at once,
// then one byte each every, until closed.
type trickle struct {
	archive []byte
	n       int
	every   time.Duration
	stop    chan struct{}
}

func (tr *trickle) Read(p []byte) (int, error) {
	if tr.n > 0 {
		n := copy(p, tr.archive[:tr.n])
		tr.archive, tr.n = tr.archive[n:], tr.n-n
		return n, nil
	}
	select {
	case <-tr.stop:
		return 0, errors.New("trickle stopped")
	case <-time.After(tr.every):
	}
	if len(tr.archive) == 0 {
		return 0, io.EOF
	}
	p[0] = tr.archive[0]
	tr.archive = tr.archive[1:]
	return 1, nil
}

// TestRestoreUploadThatTricklesIsCutOffAndWritesGoOn: while an upload
// trickles, writes are answered at once (the upload is outside Raft); a
// second restore meanwhile gets 409; the trickle is cut off by the upload
// deadline, with nothing changed and no dump left.
func TestRestoreUploadThatTricklesIsCutOffAndWritesGoOn(t *testing.T) {
	cfg := testConfig(t)
	cfg.RestoreUploadGrace = 2 * time.Second
	s := testServer(t, cfg)
	kvPut(t, s, "keep", "me")
	archive, _ := save(t, s, false)
	tr := &trickle{archive: archive, n: len(archive) / 2, every: 200 * time.Millisecond, stop: make(chan struct{})}
	defer close(tr.stop)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- restoreFrom(s, tr) }()

	for i := 0; time.Since(start) < 1500*time.Millisecond; i++ {
		began := time.Now()
		kvPut(t, s, fmt.Sprintf("during/%d", i), "x")
		if took := time.Since(began); took > time.Second {
			t.Fatalf("a write during the upload took %v", took)
		}
	}
	if err := restore(s, archive); !errors.Is(err, structs.ErrConflict) {
		t.Fatalf("a second restore during the first: %v, want ErrConflict", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, structs.ErrBadRequest) || time.Since(start) < cfg.RestoreUploadGrace {
			t.Fatalf("the trickle ended after %v with %v, want 400 after the %v grace", time.Since(start), err, cfg.RestoreUploadGrace)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the trickle was not cut off")
	}
	if e := kvGet(t, s, "during/0"); e == nil {
		t.Fatal("a write made during the cut-off upload is gone")
	}
	entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "restore"))
	if len(entries) != 0 {
		t.Fatalf("the cut-off upload left %d files in the staging dir", len(entries))
	}
}

// TestRestoredStateTravelsInRaftSnapshots: a restore whose state runs
// past the cluster's indexes (one from a busier cluster) reaches a server
// that was down through Raft's InstallSnapshot once the leader compacted
// its log, with the index offset: the server numbers later writes as the
// others do, so all end on the same state.
func TestRestoredStateTravelsInRaftSnapshots(t *testing.T) {
	busy := testServer(t, nil)
	for i := 0; i < 300; i++ {
		kvPut(t, busy, fmt.Sprintf("busy/%d", i), "restored")
	}
	archive, index := save(t, busy, false)

	c, servers := formedCluster(t, 3)
	leader, down := servers[0], c.indexOf(servers[2])
	if applied := leader.fsm.AppliedIndex(); applied >= index {
		t.Fatalf("the cluster is at index %d, not below the archive's %d", applied, index)
	}
	c.stop(down)
	if err := restore(leader, archive); err != nil {
		t.Fatal(err)
	}
	kvPut(t, leader, "after", "x")
	if e := kvGet(t, leader, "after"); e.ModifyIndex <= index {
		t.Fatalf("a write after the restore has index %d, not above the restored %d", e.ModifyIndex, index)
	}
	// Compact the leader's log down to nothing, so that the returning
	// server can only get the state by a snapshot.
	rc := leader.raft.ReloadableConfig()
	rc.TrailingLogs = 0
	if err := leader.raft.ReloadConfig(rc); err != nil {
		t.Fatal(err)
	}
	if err := leader.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	back := c.start(down)
	sameStateEverywhere(t, c.running(), "after", "x")
	if list, _ := back.staging.store.List(); len(list) != 0 {
		t.Fatalf("the returning server staged %v: it did not get the state by a snapshot", list)
	}
	kvPut(t, back, "later", "y")
	sameStateEverywhere(t, c.running(), "later", "y")
}
