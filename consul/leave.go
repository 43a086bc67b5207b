package consul

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// leaveRaftTimeout bounds how long a leaving follower waits to see the
// leader remove it from the Raft configuration. Consul's value.
const leaveRaftTimeout = 5 * time.Second

// Leave leaves the cluster gracefully; the caller shuts the server down
// afterwards. A leader first removes itself from the Raft configuration,
// which makes it step down, so that the others elect a new leader and
// carry on. Then the server leaves Serf; a follower waits, up to
// leaveRaftTimeout, until the leader, told by Serf, has removed it from
// Raft: shutting down before that would leave a voter that never answers,
// and a quorum one server harder to reach.
func (s *Server) Leave() error {
	self := raft.ServerID(s.config.NodeName)
	wasLeader := s.raft.State() == raft.Leader
	if wasLeader {
		if voters, in := s.raftVoters(self); in && voters > 1 {
			s.logger.Info("leaving: removing this leader from the raft configuration")
			if err := s.raftWait(s.raft.RemoveServer(self, 0, 0), leaveRaftTimeout); err != nil {
				s.logger.Error("leaving: remove this leader from raft", "error", err)
			}
		}
	}

	s.logger.Info("leaving serf")
	if err := s.serfLAN.Leave(); err != nil {
		return fmt.Errorf("server: leave: %w", err)
	}

	if !wasLeader {
		deadline := time.Now().Add(leaveRaftTimeout)
		for {
			if _, in := s.raftVoters(self); !in {
				s.logger.Info("leaving: removed from the raft configuration")
				break
			}
			if time.Now().After(deadline) {
				s.logger.Warn("leaving: still in the raft configuration; shutting down anyway", "waited", leaveRaftTimeout)
				break
			}
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.shutdownCh:
				return nil
			}
		}
	}
	return nil
}

// raftVoters counts the voters of the latest Raft configuration, and
// tells whether id is among the servers.
func (s *Server) raftVoters(id raft.ServerID) (voters int, in bool) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return 0, false
	}
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			voters++
		}
		if srv.ID == id {
			in = true
		}
	}
	return voters, in
}
