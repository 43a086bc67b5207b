package consul

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/consulcompat/consul/consul/fsm"
	"github.com/consulcompat/consul/consul/staging"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// A restore's state dump moves between servers over the snapshot stream
// (snapshot_stream.go):
//
//	stage: client: frame(SnapshotRequest{Op: Stage, SHA256, Size}) dump frames, end
//	       server: frame(SnapshotResponse) once the dump is on its disk
//	fetch: client: frame(SnapshotRequest{Op: Fetch, SHA256})
//	       server: frame(SnapshotResponse{Index: size}) dump frames, end
//
// The leader stages an upload on every voter before it commits the
// restore entry; a server that must apply an entry whose dump it lacks
// (it was down during staging) fetches the dump from a peer.

const (
	// fetchRetry is the wait between two rounds of fetching a dump from
	// the peers, none of which had it.
	fetchRetry = 2 * time.Second
	// stagedGrace is how long a dump that no applied entry names is kept:
	// a restore whose leader died before the commit may still be
	// committed by the next leader, within an election or two.
	stagedGrace = 10 * time.Minute
	// stagingGCEvery is how often the leftover dumps are looked for.
	stagingGCEvery = time.Minute
	// transferRate is the slowest rate a dump may move between servers
	// at, for the deadline of a stage or a fetch.
	transferRate = 8 << 20
	// stagedOfferTTL is how long a store built from a staged dump waits
	// for its restore entry before it is dropped (the entry then decodes
	// the dump itself): a restore commits within moments of its staging.
	stagedOfferTTL = 2 * time.Minute
)

// restoreStaging is the server's staging directory and the bookkeeping of
// which dumps the log still needs; it is the FSM's fsm.Staged.
type restoreStaging struct {
	srv    *Server
	store  *staging.Store
	logger hclog.Logger

	mu sync.Mutex
	// applied maps a dump's SHA-256 (as a string) to the Raft index of
	// the latest restore entry naming it that this server's log holds.
	applied map[string]uint64
	// log spaces the lines of a fetch that keeps failing.
	log logThrottle
}

// newRestoreStaging opens the staging directory.
func newRestoreStaging(srv *Server, dir string, logger hclog.Logger) (*restoreStaging, error) {
	store, removed, err := staging.Open(dir, diskReserve)
	if err != nil {
		return nil, err
	}
	for _, p := range removed {
		logger.Warn("removed a partial restore dump left by a crash; nothing in it was in use", "path", p.Path, "bytes", p.Size)
	}
	return &restoreStaging{srv: srv, store: store, logger: logger, applied: make(map[string]uint64),
		log: logThrottle{every: time.Minute}}, nil
}

// OpenStaged implements fsm.Staged.
func (rs *restoreStaging) OpenStaged(sum []byte, size int64) (io.ReadCloser, error) {
	for {
		if rc, _, err := rs.store.Open(sum); err == nil {
			return rc, nil
		}
		err := rs.fetch(sum, size)
		if err == nil {
			continue
		}
		rs.log.event(func(n int) {
			rs.logger.Error("restore: cannot get the dump of a restore entry from any peer; trying again",
				"sha256", fmt.Sprintf("%x", sum), "error", err, "attempts", n)
		})
		select {
		case <-rs.srv.shutdownCh:
			return nil, fsm.ErrStopping
		case <-time.After(fetchRetry):
		}
	}
}

// DropStaged implements fsm.Staged.
func (rs *restoreStaging) DropStaged(sum []byte) {
	if err := rs.store.Remove(sum); err != nil {
		rs.logger.Error("restore: removing a damaged dump", "error", err)
	}
}

// Applied implements fsm.Staged.
func (rs *restoreStaging) Applied(sum []byte, index uint64) {
	rs.mu.Lock()
	rs.applied[string(sum)] = max(rs.applied[string(sum)], index)
	rs.mu.Unlock()
}

// noteLog records the restore entries in Raft's log, at start-up: their
// dumps must stay until the log no longer holds them.
func (rs *restoreStaging) noteLog(logs raft.LogStore) error {
	first, err := logs.FirstIndex()
	if err != nil {
		return err
	}
	last, err := logs.LastIndex()
	if err != nil {
		return err
	}
	for i := first; i != 0 && i <= last; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return fmt.Errorf("server: read log entry %d: %w", i, err)
		}
		if len(l.Data) == 0 || structs.MessageType(l.Data[0]) != structs.RestoreRequestType {
			continue
		}
		var req structs.RestoreRequest
		if err := structs.Decode(l.Data[1:], &req); err == nil {
			rs.Applied(req.SHA256, l.Index)
		}
	}
	return nil
}

// collect removes the dumps the log no longer needs: those whose entry
// is at or below Raft's last snapshot (which holds the restored state),
// and those no entry names that are older than stagedGrace, or any age
// at start-up (before anything can be staged again).
func (rs *restoreStaging) collect(atStart bool) {
	var snapIndex uint64
	if rs.srv.raft != nil {
		snapIndex, _ = strconv.ParseUint(rs.srv.raft.Stats()["last_snapshot_index"], 10, 64)
	}
	list, err := rs.store.List()
	if err != nil {
		rs.logger.Error("restore: listing staged dumps", "error", err)
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, d := range list {
		index, named := rs.applied[string(d.SHA256)]
		switch {
		case named && index > snapIndex:
			continue
		case !named && !atStart && time.Since(d.ModTime) < stagedGrace:
			continue
		}
		if err := rs.store.Remove(d.SHA256); err != nil {
			rs.logger.Error("restore: removing a staged dump", "error", err)
			continue
		}
		delete(rs.applied, string(d.SHA256))
		rs.logger.Info("restore: removed a staged dump the log no longer needs", "sha256", fmt.Sprintf("%x", d.SHA256), "bytes", d.Size)
	}
}

// collectLoop runs collect every stagingGCEvery until shutdown.
func (rs *restoreStaging) collectLoop() {
	defer rs.srv.wg.Done()
	t := time.NewTicker(stagingGCEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			rs.collect(false)
		case <-rs.srv.shutdownCh:
			return
		}
	}
}

// receive stages the dump a peer streams in, for a stage or a fetch,
// and builds its store on the way, which it offers to the FSM: applying
// the restore entry then only swaps it in, as on the leader, instead of
// decoding the dump once the entry commits.
func (rs *restoreStaging) receive(args *structs.SnapshotRequest, in io.Reader) error {
	if rs.store.Has(args.SHA256) {
		_, err := io.Copy(io.Discard, in)
		return err
	}
	w, err := rs.store.Create(args.Size)
	if err != nil {
		return stagingError(err)
	}
	defer w.Abort()
	b, err := state.NewBuilder(rs.srv.fsm.State())
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	type decoded struct {
		h   structs.SnapshotHeader
		err error
	}
	done := make(chan decoded, 1)
	go func() {
		h, err := snapshot.ReadState(pr, b.Record)
		// A dump that does not decode stops the copy below.
		pr.CloseWithError(err)
		done <- decoded{h, err}
	}()
	_, err = io.Copy(io.MultiWriter(w, pw), in)
	pw.CloseWithError(err)
	d := <-done
	if err == nil {
		err = d.err
	}
	if err == nil {
		err = w.Commit(args.SHA256)
	}
	if err != nil {
		b.Discard()
		return stagingError(err)
	}
	rs.srv.fsm.OfferRestore(args.SHA256, b, d.h)
	// A restore that is never committed must not hold a second state in
	// memory for good.
	sum := args.SHA256
	time.AfterFunc(stagedOfferTTL, func() { rs.srv.fsm.WithdrawRestore(sum) })
	rs.logger.Info("restore: staged", "sha256", fmt.Sprintf("%x", args.SHA256), "bytes", args.Size)
	return nil
}

// stagingError gives a staging failure the status it answers with.
func stagingError(err error) error {
	switch {
	case errors.Is(err, staging.ErrNoSpace):
		return fmt.Errorf("%w: %v", structs.ErrDiskFull, err)
	case errors.Is(err, staging.ErrMismatch):
		return fmt.Errorf("%w: %v", structs.ErrSnapshotCorrupt, err)
	}
	return err
}

// transferDeadline bounds a stage or a fetch of size bytes.
func transferDeadline(size int64) time.Time {
	return time.Now().Add(snapshotRequestTimeout + time.Duration(size/transferRate)*time.Second)
}

// stageOn streams the staged dump sum, of size bytes, to the server at
// addr, and returns once that server has it on disk.
func (rs *restoreStaging) stageOn(addr string, sum []byte, size int64) error {
	rc, _, err := rs.store.Open(sum)
	if err != nil {
		return err
	}
	defer rc.Close()
	conn, err := dialSnapshotStream(addr, &structs.SnapshotRequest{Op: structs.SnapshotStage, SHA256: sum, Size: size})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(transferDeadline(size))
	fw := &frameWriter{w: conn}
	if _, err := io.Copy(fw, rc); err != nil {
		return fmt.Errorf("send the dump: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("send the dump: %w", err)
	}
	var reply structs.SnapshotResponse
	if err := readHeader(conn, &reply); err != nil {
		return fmt.Errorf("no answer: %w", err)
	}
	if reply.Error != "" {
		return structs.ErrorWithKind(reply.Error, reply.ErrorKind)
	}
	return nil
}

// fetch stages the dump sum from the first peer that has it.
func (rs *restoreStaging) fetch(sum []byte, size int64) error {
	var errs []error
	for _, addr := range rs.srv.peerAddrs() {
		err := rs.fetchFrom(addr, sum, size)
		if err == nil {
			rs.logger.Info("restore: fetched the dump of a restore entry", "from", addr, "sha256", fmt.Sprintf("%x", sum))
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	if len(errs) == 0 {
		return errors.New("no peer to fetch it from")
	}
	return errors.Join(errs...)
}

// fetchFrom stages the dump sum from the server at addr.
func (rs *restoreStaging) fetchFrom(addr string, sum []byte, size int64) error {
	conn, err := dialSnapshotStream(addr, &structs.SnapshotRequest{Op: structs.SnapshotFetch, SHA256: sum})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(transferDeadline(size))
	var reply structs.SnapshotResponse
	if err := readHeader(conn, &reply); err != nil {
		return err
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	return rs.receive(&structs.SnapshotRequest{SHA256: sum, Size: size}, &frameReader{r: conn})
}

// serveFetch answers a fetch request with the dump, if staged here.
func (rs *restoreStaging) serveFetch(c net.Conn, args *structs.SnapshotRequest) {
	rc, size, err := rs.store.Open(args.SHA256)
	if err != nil {
		writeHeader(c, &structs.SnapshotResponse{Error: err.Error()})
		return
	}
	defer rc.Close()
	c.SetDeadline(transferDeadline(size))
	if err := writeHeader(c, &structs.SnapshotResponse{Index: uint64(size)}); err != nil {
		return
	}
	fw := &frameWriter{w: c}
	// A dump damaged on disk fails its read at the end: the fetcher then
	// gets no end frame and tries another peer.
	if _, err := io.Copy(fw, rc); err != nil {
		rs.logger.Error("restore: sending a staged dump", "to", c.RemoteAddr(), "error", err)
		return
	}
	fw.Close()
}

// peerAddrs are the RPC addresses of the other servers in the Raft
// configuration.
func (s *Server) peerAddrs() []string {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	self := s.raftTrans.LocalAddr()
	var out []string
	for _, srv := range f.Configuration().Servers {
		if srv.Address != self {
			out = append(out, string(srv.Address))
		}
	}
	return out
}

// stageOnQuorum stages the dump sum on the other servers and returns once
// a quorum of the voters (this one, which has it, included) hold it; the
// others go on in the background. It fails when a quorum can no longer
// be had.
func (s *Server) stageOnQuorum(sum []byte, size int64) error {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	self := s.raftTrans.LocalAddr()
	var voters, others []raft.Server
	for _, srv := range f.Configuration().Servers {
		switch {
		case srv.Address == self:
		case srv.Suffrage == raft.Voter:
			voters = append(voters, srv)
		default:
			others = append(others, srv)
		}
	}
	quorum := (len(voters)+1)/2 + 1
	results := make(chan error, len(voters))
	for _, srv := range append(voters, others...) {
		voter := srv.Suffrage == raft.Voter
		s.wg.Add(1)
		go func(addr raft.ServerAddress) {
			defer s.wg.Done()
			err := s.staging.stageOn(string(addr), sum, size)
			if err != nil {
				s.logger.Warn("restore: staging on a server failed", "server", addr, "error", err)
			}
			if voter {
				results <- err
			}
		}(srv.Address)
	}
	have, failed := 1, 0
	var errs []error
	for have < quorum {
		err := <-results
		if err == nil {
			have++
			continue
		}
		failed++
		errs = append(errs, err)
		if len(voters)-failed+1 < quorum {
			return fmt.Errorf("%w: restore: the dump is staged on %d of %d servers, and a quorum of %d is needed: %v",
				structs.ErrUnavailable, have, len(voters)+1, quorum, errors.Join(errs...))
		}
	}
	return nil
}
