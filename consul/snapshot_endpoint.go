package consul

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

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
		if err := s.barrier(); err != nil {
			return fmt.Errorf("snapshot: barrier: %w", err)
		}
	}
	applied := s.fsm.AppliedIndex()
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

// snapshotRestore restores an upload on every server at once. The upload
// is verified as it arrives (snapshot.OpenStream), staged on this server
// (the leader) while the store is built from its records, and staged on
// the other servers; once a quorum holds it, one log entry switches every
// server to it when applied (fsm.FSM.applyRestore), at the same index.
// Raft's leader loop is not involved until that entry, so writes, reads
// and saves go on while the upload arrives; until the entry commits,
// nothing has changed anywhere. The answer comes once the entry is
// applied here.
func (s *Server) snapshotRestore(in io.Reader, replyFn structs.SnapshotReplyFunc) error {
	if !s.restoreMu.TryLock() {
		return fmt.Errorf("%w: another snapshot restore is under way", structs.ErrConflict)
	}
	defer s.restoreMu.Unlock()
	b, err := state.NewBuilder(s.fsm.State())
	if err != nil {
		return err
	}
	// Discarding a store that became the state is a no-op.
	defer b.Discard()
	upload := newUploadDeadline(in, s.config.RestoreUploadGrace, s.config.RestoreUploadMinRate)
	// Decided from meta.json, before any of state.bin is read: an
	// archive cannot expand past the size it declares.
	limit, source := s.restoreLimit()
	meta, st, err := snapshot.OpenStream(upload, func(t structs.MessageType, rec interface{}) error {
		if err := b.Record(t, rec); err != nil {
			return fmt.Errorf("%w: state.bin: %v", snapshot.ErrCorrupt, err)
		}
		return nil
	}, snapshot.WithStateLimit(limit))
	if err != nil {
		return uploadError(explainLimit(err, source))
	}
	// Runs before the discard: it ends the goroutine that fills b.
	defer st.Close()
	upload.declare(meta.Size)
	defer s.tightenGCForRestore(meta.Size)()
	w, err := s.staging.store.Create(meta.Size)
	if err != nil {
		return stagingError(err)
	}
	defer w.Abort()
	if _, err := io.Copy(w, st); err != nil {
		if serr := st.Err(); serr != nil {
			return uploadError(serr)
		}
		return uploadError(err)
	}
	sum := st.Sum()
	if err := w.Commit(sum); err != nil {
		return stagingError(err)
	}
	s.logger.Info("restore: upload staged", "id", meta.ID, "sha256", fmt.Sprintf("%x", sum), "bytes", meta.Size)
	s.fsm.OfferRestore(sum, b, st.Header())
	defer s.fsm.WithdrawRestore(sum)
	if err := s.stageOnQuorum(sum, meta.Size); err != nil {
		return err
	}
	if !s.IsLeader() {
		return fmt.Errorf("%w: restore: leadership was lost before the restore could be committed; nothing changed", structs.ErrUnavailable)
	}
	s.logger.Info("restore: staged on a quorum, committing", "id", meta.ID, "sha256", fmt.Sprintf("%x", sum))
	req := &structs.RestoreRequest{ID: meta.ID, SHA256: sum, Size: meta.Size}
	if _, err := s.raftApply(structs.RestoreRequestType, req); err != nil {
		if errors.Is(err, structs.ErrNoLeader) {
			return fmt.Errorf("%w: restore: leadership was lost while the restore was being committed; it takes effect everywhere if the next leader commits it, and nowhere otherwise: read the state to know", structs.ErrUnavailable)
		}
		return fmt.Errorf("snapshot: restore: %w", err)
	}
	// Leader duties that depend on the state run again on the new state.
	s.startStateDuties()
	s.staging.collect(false)
	reply := &structs.SnapshotResponse{Index: s.fsm.AppliedIndex()}
	s.setSnapshotMeta(reply)
	_, err = replyFn(reply)
	return err
}

// uploadError marks a failure to read the upload, which is the client's,
// as a bad request; a corrupt or too large archive already says so.
func uploadError(err error) error {
	if errors.Is(err, snapshot.ErrCorrupt) || errors.Is(err, snapshot.ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w: %v", structs.ErrBadRequest, err)
}
