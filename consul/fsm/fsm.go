// Package fsm is the server's Raft state machine: it applies committed
// log entries to the state store (consul/state) and dumps or replaces the
// store for Raft's snapshots. A user restore hands it the store built from
// the upload through RestoreUpload (restore.go).
package fsm

import (
	"fmt"
	"io"
	"sync"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// FSM is the Raft state machine: it applies committed log entries to the
// state store and dumps or replaces the store for snapshots. Raft calls
// Apply, Snapshot and Restore from its one FSM goroutine; readers call
// State and SnapshotState from any goroutine; the snapshot endpoint calls
// RestoreUpload from the goroutine serving an upload.
type FSM struct {
	logger hclog.Logger

	// mu guards the pair (state, lastIndex/lastTerm): a snapshot must
	// label the store with the index of the last write it holds.
	mu        sync.RWMutex
	state     *state.Store
	lastIndex uint64
	lastTerm  uint64

	// pending is the upload of the user restore under way, if any; see
	// RestoreUpload.
	pendingMu sync.Mutex
	pending   *upload
}

// New returns an FSM over an empty state store.
func New(logger hclog.Logger) (*FSM, error) {
	s, err := state.NewStore()
	if err != nil {
		return nil, err
	}
	return &FSM{logger: logger, state: s}, nil
}

// State returns the current state store.
func (f *FSM) State() *state.Store {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state
}

// SnapshotState returns a view of the store and the Raft index and term
// of the last entry it holds.
func (f *FSM) SnapshotState() (*state.Snapshot, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Snapshot(f.lastIndex), f.lastTerm
}

// Apply applies one committed log entry. Its return value reaches the
// caller of raft.Apply through the future's Response.
func (f *FSM) Apply(l *raft.Log) interface{} {
	if len(l.Data) == 0 {
		return fmt.Errorf("fsm: empty log entry at index %d", l.Index)
	}
	t := structs.MessageType(l.Data[0])
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastIndex, f.lastTerm = l.Index, l.Term
	resp, known := f.dispatch(t&^structs.IgnoreUnknownTypeFlag, l.Data[1:], l.Index)
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
	snap, _ := f.SnapshotState()
	return &fsmSnapshot{snap: snap}, nil
}

// Restore replaces the whole state with a dump: Raft calls it from its
// FSM goroutine to install a snapshot (its own at start-up, one sent by
// the leader, or a user restore's, see RestoreUpload). The new store is
// built aside and swapped in only once it decoded completely, so an error
// leaves the state as it was; Raft then fails the install, and panics if
// it was a user restore, whose snapshot it has written already.
func (f *FSM) Restore(r io.ReadCloser) error {
	defer r.Close()
	s, h, err := f.restoredStore(r)
	if err != nil {
		return fmt.Errorf("fsm: restore: %w", err)
	}
	f.mu.Lock()
	old := f.state
	f.state = s
	f.lastIndex = h.LastIndex
	f.mu.Unlock()
	old.Abandon()
	return nil
}
