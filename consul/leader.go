package consul

import (
	"time"
)

// monitorLeadership runs the leader's duties on every change of
// leadership. Raft reports the changes on notifyCh.
func (s *Server) monitorLeadership(notifyCh <-chan bool) {
	defer s.wg.Done()
	for {
		select {
		case isLeader := <-notifyCh:
			s.readyForReads.Store(false)
			if isLeader {
				s.establishLeadership(notifyCh)
			}
		case <-s.shutdownCh:
			return
		}
	}
}

// establishLeadership waits until every entry of earlier terms is applied
// to the FSM: a new leader may hold committed entries it has not applied
// yet, and reads served before then would miss acknowledged writes.
func (s *Server) establishLeadership(notifyCh <-chan bool) {
	for {
		err := s.raftWait(s.raft.Barrier(barrierTimeout), 0)
		if err == nil {
			s.readyForReads.Store(true)
			s.logger.Info("leadership established")
			// Servers that joined or left while another server led.
			s.triggerReconcile()
			if err := s.initializeACLs(); err != nil {
				s.logger.Error("initializing ACLs", "error", err)
			}
			return
		}
		s.logger.Error("barrier after election failed", "error", err)
		select {
		case isLeader := <-notifyCh:
			if !isLeader {
				return
			}
		case <-s.shutdownCh:
			return
		case <-time.After(time.Second):
		}
	}
}
