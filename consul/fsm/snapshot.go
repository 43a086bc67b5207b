package fsm

import (
	"github.com/consulcompat/consul/consul/state"
	"github.com/hashicorp/raft"
)

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
