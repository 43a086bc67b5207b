package consul

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// restoreTempPattern names the file an uploaded archive is staged in
// while it is verified; leftovers from a crash are removed at start.
const restoreTempPattern = "snapshot-restore-*.tmp"

// barrierTimeout bounds the wait for every committed write to be applied
// before a save or after a restore.
const barrierTimeout = 30 * time.Second

// SnapshotRPC serves one snapshot stream. A save writes the archive to the
// writer replyFn returns; a restore reads the archive from in. replyFn is
// called once, before any archive byte is written, and only on success
// of everything that can fail before the stream starts.
func (s *Server) SnapshotRPC(args *structs.SnapshotRequest, in io.Reader, replyFn structs.SnapshotReplyFunc) error {
	if err := s.checkDC(args.Datacenter); err != nil {
		return err
	}
	// Before any state is read or any upload byte, on whichever server
	// the request arrived: a refused restore never streams its body.
	if err := s.authorize(args.Token, func(z acl.Authorizer) bool { return z.Snapshot() }); err != nil {
		return err
	}
	stale := args.AllowStale && args.Op == structs.SnapshotSave
	if !stale {
		addr, err := s.leaderToCall()
		if err != nil {
			return err
		}
		if addr != "" {
			return s.forwardSnapshot(addr, args, in, replyFn)
		}
	}
	switch args.Op {
	case structs.SnapshotSave:
		return s.snapshotSave(stale, replyFn)
	case structs.SnapshotRestore:
		return s.snapshotRestore(in, replyFn)
	}
	return fmt.Errorf("%w: unknown snapshot operation %d", structs.ErrBadRequest, args.Op)
}

// snapshotSave streams an archive of the state at one Raft index. The
// view is an O(1) memdb snapshot, so writes go on during the save and the
// archive holds none of them.
func (s *Server) snapshotSave(stale bool, replyFn structs.SnapshotReplyFunc) error {
	// The barrier makes the view include every write acknowledged before
	// this request; a stale save serves whatever this server has.
	if !stale {
		if err := s.raftWait(s.raft.Barrier(barrierTimeout), 0); err != nil {
			return fmt.Errorf("snapshot: barrier: %w", err)
		}
	}
	applied := s.raft.AppliedIndex()
	snap, term := s.fsm.SnapshotState()
	defer snap.Release()
	index := snap.LastIndex()
	if index == 0 {
		// No write was ever applied: the empty state is the state at the
		// applied index, and an archive must carry a real index.
		index, term = applied, s.raft.CurrentTerm()
	}
	size, err := snap.Size()
	if err != nil {
		return err
	}
	conf := s.raft.GetConfiguration()
	if err := conf.Error(); err != nil {
		return fmt.Errorf("snapshot: raft configuration: %w", err)
	}
	meta := &raft.SnapshotMeta{
		Version:            raft.SnapshotVersionMax,
		ID:                 fmt.Sprintf("%d-%d-%d", term, index, time.Now().UnixMilli()),
		Index:              index,
		Term:               term,
		Configuration:      conf.Configuration(),
		ConfigurationIndex: conf.Index(),
		Size:               size,
	}
	reply := &structs.SnapshotResponse{Index: index}
	s.setSnapshotMeta(reply)
	w, err := replyFn(reply)
	if err != nil {
		return err
	}
	return snapshot.Write(w, meta, snap.Dump)
}

func (s *Server) setSnapshotMeta(reply *structs.SnapshotResponse) {
	var m structs.QueryMeta
	s.setQueryMeta(&m)
	reply.KnownLeader, reply.LastContact = m.KnownLeader, m.LastContact
}

// maxArchiveSize bounds an upload: the largest state plus deflate's worst
// case growth and the small entries.
var maxArchiveSize = func() int64 {
	return snapshot.MaxStateSize + snapshot.MaxStateSize/100 + 4<<20
}

// snapshotRestore stages the upload, verifies all of it, and only then
// hands the state dump to Raft, which installs it on every server. A bad
// archive changes nothing and leaves no file behind.
func (s *Server) snapshotRestore(in io.Reader, replyFn structs.SnapshotReplyFunc) error {
	f, err := os.CreateTemp(s.tempDir(), restoreTempPattern)
	if err != nil {
		return fmt.Errorf("snapshot: stage upload: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	limit := maxArchiveSize()
	n, err := io.Copy(f, io.LimitReader(in, limit+1))
	if err != nil {
		return fmt.Errorf("%w: snapshot: reading upload: %v", structs.ErrBadRequest, err)
	}
	if n > limit {
		return fmt.Errorf("%w: snapshot upload is larger than %d bytes", snapshot.ErrTooLarge, limit)
	}
	meta, state, err := snapshot.Read(f, n)
	if err != nil {
		return err
	}
	defer state.Close()
	if err := s.raft.Restore(meta, state, 0); err != nil {
		if errors.Is(err, snapshot.ErrCorrupt) {
			return err
		}
		return fmt.Errorf("snapshot: raft restore: %w", err)
	}
	if err := s.raftWait(s.raft.Barrier(barrierTimeout), 0); err != nil {
		return fmt.Errorf("snapshot: barrier after restore: %w", err)
	}
	// Leader duties that depend on the state run again on the new state.
	s.startStateDuties()
	reply := &structs.SnapshotResponse{Index: s.raft.LastIndex()}
	s.setSnapshotMeta(reply)
	_, err = replyFn(reply)
	return err
}

// tempDir is where uploads are staged: the data dir, so that the space
// used is the space the operator gave the server.
func (s *Server) tempDir() string {
	if s.config.DevMode {
		return os.TempDir()
	}
	return s.config.DataDir
}

// removeStaleRestoreFiles deletes uploads left by a crash mid-restore.
func (s *Server) removeStaleRestoreFiles() {
	if s.config.DevMode {
		return
	}
	leftovers, _ := filepath.Glob(filepath.Join(s.config.DataDir, restoreTempPattern))
	for _, p := range leftovers {
		if err := os.Remove(p); err == nil {
			s.logger.Info("removed an upload left by an interrupted restore", "path", p)
		}
	}
}
