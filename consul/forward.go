package consul

import (
	"errors"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// forward decides where a request is served and, if elsewhere, sends it
// there. It returns handled=false when this server must serve it: the
// datacenter is local and either a stale read is allowed or this server
// is the ready leader. Otherwise it calls method on the leader with args
// and reply, waiting up to RPCHoldTimeout through an election, and returns
// handled=true with the leader's answer.
func (s *Server) forward(method, dc string, allowStale bool, args, reply interface{}) (bool, error) {
	if err := s.checkDC(dc); err != nil {
		return true, err
	}
	if allowStale {
		return false, nil
	}
	addr, err := s.leaderToCall()
	if err != nil || addr == "" {
		return err != nil, err
	}
	deadline := time.Now().Add(s.config.RPCHoldTimeout)
	for {
		err := s.pool.RPC(addr, method, args, reply)
		// Only a call that never reached the leader, or that the leader
		// refused for want of leadership, is safe to repeat: anything else
		// may have been applied.
		retry := errors.Is(err, errNotSent) || errors.Is(err, structs.ErrNoLeader)
		if !retry || time.Now().After(deadline) {
			return true, err
		}
		if !s.sleepOrShutdown(leaderPoll) {
			return true, structs.ErrNoLeader
		}
		if addr, err = s.leaderToCall(); err != nil || addr == "" {
			return err != nil, err
		}
	}
}

// checkDC refuses a request for another datacenter: there is no WAN yet.
func (s *Server) checkDC(dc string) error {
	if dc != "" && dc != s.config.Datacenter {
		return structs.ErrNoDCPath
	}
	return nil
}

// leaderToCall waits (up to RPCHoldTimeout) until there is a leader, and
// returns "" when this server is the ready leader, or the leader's RPC
// address.
func (s *Server) leaderToCall() (string, error) {
	deadline := time.Now().Add(s.config.RPCHoldTimeout)
	for {
		if s.IsLeader() {
			return "", nil
		}
		// A leader that has not finished its barrier serves itself once
		// ready; forwarding to itself would loop.
		if s.raft.State() != raft.Leader {
			if addr, _ := s.raft.LeaderWithID(); addr != "" {
				return string(addr), nil
			}
		}
		if time.Now().After(deadline) || !s.sleepOrShutdown(leaderPoll) {
			return "", structs.ErrNoLeader
		}
	}
}

// leaderPoll is how often a request waiting for an election looks again.
const leaderPoll = 20 * time.Millisecond

// sleepOrShutdown sleeps for d and reports false if the server began to
// shut down meanwhile.
func (s *Server) sleepOrShutdown(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-s.shutdownCh:
		return false
	}
}

// waitForLeadership waits until this server is the ready leader.
func (s *Server) waitForLeadership() error {
	deadline := time.Now().Add(s.config.RPCHoldTimeout)
	for !s.IsLeader() {
		if time.Now().After(deadline) || !s.sleepOrShutdown(leaderPoll) {
			return structs.ErrNoLeader
		}
	}
	return nil
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
