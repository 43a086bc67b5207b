package consul

import (
	"time"

	"github.com/consulcompat/consul/structs"
)

// tombstoneMark notes the index applied at a moment (the FSM's, which
// tombstones carry), so that the
// leader can tell which tombstones are older than the TTL.
type tombstoneMark struct {
	at    time.Time
	index uint64
}

// tombstoneGCLoop reaps, on the leader, the tombstones older than
// TombstoneTTL: every TombstoneGranularity it notes the applied index,
// and once a note is TTL old, every tombstone at or below its index goes
// in one Raft entry. A new leader starts its notes afresh, so tombstones
// live at least a TTL. Only a reap with something to reap is written.
func (s *Server) tombstoneGCLoop() {
	defer s.wg.Done()
	ttl, every := s.config.TombstoneTTL, s.config.TombstoneGranularity
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	var marks []tombstoneMark
	for {
		select {
		case <-ticker.C:
		case <-s.shutdownCh:
			return
		}
		if !s.IsLeader() {
			marks = nil
			continue
		}
		now := time.Now()
		marks = append(marks, tombstoneMark{at: now, index: s.fsm.AppliedIndex()})
		var reap uint64
		for len(marks) > 0 && now.Sub(marks[0].at) >= ttl {
			reap = marks[0].index
			marks = marks[1:]
		}
		if reap == 0 || !s.fsm.State().HasTombstonesUpTo(reap) {
			continue
		}
		req := &structs.TombstoneRequest{Datacenter: s.config.Datacenter, Op: structs.TombstoneReap, ReapIndex: reap}
		if _, err := s.raftApply(structs.TombstoneRequestType, req); err != nil {
			s.logger.Warn("reaping tombstones", "error", err)
		}
	}
}
