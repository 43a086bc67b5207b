package consul

import (
	"time"

	"github.com/consulcompat/consul/structs"
)

// forward decides where a request is served. It returns nil when this
// server must serve it: the datacenter is local and either a stale read
// is allowed or this server is the leader (waiting up to RPCHoldTimeout
// for an election). Forwarding to a remote leader or datacenter arrives
// with clustering; until then those cases are errors.
func (s *Server) forward(dc string, allowStale bool) error {
	if dc != "" && dc != s.config.Datacenter {
		return structs.ErrNoDCPath
	}
	if allowStale {
		return nil
	}
	return s.waitForLeadership()
}

// leaderPoll is how often a request waiting for an election looks again.
const leaderPoll = 20 * time.Millisecond

func (s *Server) waitForLeadership() error {
	deadline := time.Now().Add(s.config.RPCHoldTimeout)
	for {
		if s.IsLeader() {
			return nil
		}
		if time.Now().After(deadline) {
			return structs.ErrNoLeader
		}
		select {
		case <-time.After(leaderPoll):
		case <-s.shutdownCh:
			return structs.ErrNoLeader
		}
	}
}

// setQueryMeta fills the freshness fields of a read's reply.
func (s *Server) setQueryMeta(m *structs.QueryMeta) {
	if s.IsLeader() {
		m.LastContact = 0
		m.KnownLeader = true
		return
	}
	m.LastContact = time.Since(s.raft.LastContact())
	leader, _ := s.raft.LeaderWithID()
	m.KnownLeader = leader != ""
}
