// Package fsm is the server's Raft state machine: it applies committed
// log entries to the state store (consul/state) and dumps or replaces the
// store for Raft's snapshots. A user restore is a log entry too
// (restore.go): every server switches to the restored state when it
// applies it, at the same index.
package fsm

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// FSM is the Raft state machine: it applies committed log entries to the
// state store and dumps or replaces the store for snapshots. Raft calls
// Apply, Snapshot and Restore from its one FSM goroutine; readers call
// State, SnapshotState and AppliedIndex from any goroutine; the snapshot
// endpoint calls OfferRestore and WithdrawRestore from the goroutine
// serving an upload.
//
// The index a write carries (CreateIndex, ModifyIndex, the tables'
// indexes, X-Consul-Index) is Raft's log index plus an offset, which is
// zero until a restore brings a state whose indexes run past the log's:
// the offset then lifts every later index above the restored ones, as
// raft.Restore lifted the log itself before. The offset is part of the
// state, in every dump's header, so that every server numbers an entry
// alike.
type FSM struct {
	logger hclog.Logger
	staged Staged

	// mu guards the store, the index pair that labels it (lastIndex is
	// Raft's, offset what writes add to it) and lastTerm: a snapshot must
	// label the store with the index of the last write it holds.
	mu        sync.RWMutex
	state     *state.Store
	lastIndex uint64
	offset    uint64
	lastTerm  uint64

	// offer is the store a leader built from a restore's upload, for the
	// restore entry of that dump to adopt (restore.go).
	offerMu sync.Mutex
	offer   *restoreOffer

	// behind is set once a restore entry could not be applied because the
	// server is shutting down: the store is then behind the log, and must
	// be neither written nor snapshotted until the next start replays
	// the entry.
	behind atomic.Bool
}

// New returns an FSM over an empty state store. staged finds the dumps
// that restore entries name; nil for an FSM that must never meet one.
func New(logger hclog.Logger, staged Staged) (*FSM, error) {
	s, err := state.NewStore()
	if err != nil {
		return nil, err
	}
	return &FSM{logger: logger, staged: staged, state: s}, nil
}

// State returns the current state store.
func (f *FSM) State() *state.Store {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state
}

// SnapshotState returns a view of the store, labelled with the index of
// the last write it holds, and the Raft term of the last entry applied.
func (f *FSM) SnapshotState() (*state.Snapshot, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Snapshot(structs.SnapshotHeader{LastIndex: f.lastIndex + f.offset, IndexOffset: f.offset}), f.lastTerm
}

// AppliedIndex is the index the last write applied carries: Raft's index
// of the last entry applied, plus the offset.
func (f *FSM) AppliedIndex() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.lastIndex + f.offset
}

// Apply applies one committed log entry. Its return value reaches the
// caller of raft.Apply through the future's Response.
func (f *FSM) Apply(l *raft.Log) interface{} {
	if len(l.Data) == 0 {
		return fmt.Errorf("fsm: empty log entry at index %d", l.Index)
	}
	if f.behind.Load() {
		return fmt.Errorf("fsm: entry %d not applied: the server stops before it could apply a restore", l.Index)
	}
	t := structs.MessageType(l.Data[0])
	if t == structs.RestoreRequestType {
		return f.applyRestore(l)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastIndex, f.lastTerm = l.Index, l.Term
	resp, known := f.dispatch(t&^structs.IgnoreUnknownTypeFlag, l.Data[1:], l.Index+f.offset)
	if !known {
		if t&structs.IgnoreUnknownTypeFlag != 0 {
			f.logger.Warn("ignoring unknown message type", "type", t, "index", l.Index)
			return nil
		}
		// Applying past an entry we cannot read would fork our state from
		// the cluster's; stopping is the only safe answer, as in Consul.
		panic(fmt.Errorf("fsm: unknown message type %d at index %d", t, l.Index))
	}
	return resp
}

// Snapshot is called by Raft for log compaction; the view is O(1) and is
// written out by Persist on another goroutine.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	if f.behind.Load() {
		return nil, fmt.Errorf("fsm: no snapshot: the state is behind a restore entry the server stopped before applying")
	}
	snap, _ := f.SnapshotState()
	return &fsmSnapshot{snap: snap}, nil
}

// Restore replaces the whole state with one of Raft's own snapshots: Raft
// calls it from its FSM goroutine at start-up and to install a snapshot
// the leader sent. The new store is built aside and swapped in only once
// it decoded completely, so an error leaves the state as it was; Raft
// then fails the install.
func (f *FSM) Restore(r io.ReadCloser) error {
	defer r.Close()
	s, h, err := state.Restore(r)
	if err != nil {
		return fmt.Errorf("fsm: restore: %w", err)
	}
	if h.IndexOffset > h.LastIndex {
		s.Abandon()
		return fmt.Errorf("fsm: restore: index offset %d is past the snapshot's index %d", h.IndexOffset, h.LastIndex)
	}
	f.swap(s, h.LastIndex-h.IndexOffset, h.IndexOffset)
	return nil
}

// swap makes s the state, labelled with Raft's index lastIndex and the
// offset, and wakes every reader blocked on the old one.
func (f *FSM) swap(s *state.Store, lastIndex, offset uint64) {
	f.mu.Lock()
	old := f.state
	f.state, f.lastIndex, f.offset = s, lastIndex, offset
	f.mu.Unlock()
	old.Abandon()
}
