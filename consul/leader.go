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
			} else {
				s.sessionTimers.stopAll()
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
		err := s.barrier()
		if err == nil {
			s.readyForReads.Store(true)
			s.logger.Info("leadership established")
			s.startStateDuties()
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

// startStateDuties starts the leader's duties that depend on the state:
// on election, and again after a restore replaced the state. Reconcile
// catches servers that joined or left while another server led (or that
// the restored catalog does not know), ACLs get their built-ins back, and
// every TTL session gets a timer with a fresh TTL.
func (s *Server) startStateDuties() {
	s.triggerReconcile()
	if err := s.initializeACLs(); err != nil {
		s.logger.Error("initializing ACLs", "error", err)
	}
	if err := s.initializeSessionTimers(); err != nil {
		s.logger.Error("arming session timers", "error", err)
	}
}
