package fsm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// FSM is the Raft state machine: it applies committed log entries to the
// state store and dumps or replaces the store for snapshots. Raft calls
// Apply, Snapshot and Restore from its one FSM goroutine; readers call
// State and SnapshotState from any goroutine.
type FSM struct {
	logger hclog.Logger

	// mu guards the pair (state, lastIndex/lastTerm): a snapshot must
	// label the store with the index of the last write it holds.
	mu        sync.RWMutex
	state     *state.Store
	lastIndex uint64
	lastTerm  uint64

	// built is a store a user restore built from the upload while Raft
	// copied it; see ExpectRestore.
	builtMu sync.Mutex
	built   *BuiltStore
}

// BuiltStore is a store being built from the state dump that stream
// reads. done is closed once the stream ended cleanly: the whole archive
// checked out and every record is in the store.
type BuiltStore struct {
	b      *state.Builder
	stream *snapshot.StateStream
	done   chan struct{}
	once   sync.Once
}

// NewBuiltStore pairs the builder b with the stream whose records fill it.
func NewBuiltStore(b *state.Builder, stream *snapshot.StateStream) *BuiltStore {
	return &BuiltStore{b: b, stream: stream, done: make(chan struct{})}
}

// Read passes the stream on to Raft, closing done at its clean end.
func (b *BuiltStore) Read(p []byte) (int, error) {
	n, err := b.stream.Read(p)
	if err == io.EOF {
		b.once.Do(func() { close(b.done) })
	}
	return n, err
}

// complete tells whether the stream ended cleanly; safe from any
// goroutine.
func (b *BuiltStore) complete() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
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

// Restore replaces the whole state with a dump. The new store is built
// aside and swapped in only once it decoded completely.
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

// ExpectRestore hands the FSM the store a user restore is building from
// the upload while Raft copies it; nil withdraws it. Raft calls Restore
// with its copy right after a clean end of the stream. Any other Restore
// meanwhile (a snapshot installed by a new leader before Raft took up the
// user restore) finds the stream unfinished and leaves the store alone.
func (f *FSM) ExpectRestore(b *BuiltStore) {
	f.builtMu.Lock()
	defer f.builtMu.Unlock()
	f.built = b
}

// restoredStore builds the store of dump r, or takes the one built from
// the same bytes as they arrived, which spares decoding the dump twice.
func (f *FSM) restoredStore(r io.Reader) (*state.Store, structs.SnapshotHeader, error) {
	f.builtMu.Lock()
	built := f.built
	if built != nil && built.complete() {
		f.built = nil
	} else {
		built = nil
	}
	f.builtMu.Unlock()
	if built == nil {
		return state.Restore(r)
	}
	// Raft hands back its own copy of the upload: it must be the very
	// bytes the store was built from.
	hdr := built.stream.Header()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		built.b.Discard()
		return nil, hdr, err
	}
	if !bytes.Equal(h.Sum(nil), built.stream.Sum()) {
		built.b.Discard()
		return nil, hdr, errors.New("Raft's copy of the snapshot differs from the upload")
	}
	s, err := built.b.Store()
	return s, hdr, err
}

// fsmSnapshot writes a store view into a Raft snapshot sink.
type fsmSnapshot struct {
	snap *state.Snapshot
}

// Persist writes the dump; a failure cancels the sink so that Raft keeps
// its previous snapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.snap.Dump(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release frees the view.
func (s *fsmSnapshot) Release() {
	s.snap.Release()
}
