package consul

import (
	"time"

	"github.com/hashicorp/raft"
	"github.com/hashicorp/serf/serf"
)

// The leader keeps the Raft configuration in step with Serf LAN: a server
// that is alive becomes a voter, a server that left or was reaped is
// removed. A failed server stays a voter, since Raft needs it back to
// regain a quorum that counted it. Servers Serf has never heard of are
// left alone: right after a restart, Serf may not have found them yet.

// triggerReconcile asks the reconcile loop for a pass; it never blocks.
func (s *Server) triggerReconcile() {
	select {
	case s.reconcileCh <- struct{}{}:
	default:
	}
}

// noteReaped remembers a server Serf forgot, so that the leader removes
// it from Raft: once reaped, it is no longer among the members.
func (s *Server) noteReaped(info *serverInfo) {
	s.reapedMu.Lock()
	defer s.reapedMu.Unlock()
	s.reaped[info.Name] = info
}

// reconcileLoop reconciles on every member event, when leadership is
// established, and every ReconcileInterval; it does nothing on a server
// that is not the leader.
func (s *Server) reconcileLoop() {
	defer s.wg.Done()
	interval := s.config.ReconcileInterval
	if interval <= 0 {
		interval = DefaultConfig().ReconcileInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.reconcileCh:
		case <-ticker.C:
		case <-s.shutdownCh:
			return
		}
		if s.IsLeader() {
			s.reconcileMembers()
			s.reconcileCatalog()
		}
	}
}

// reconcileMembers compares every server member of the datacenter with
// the Raft configuration and fixes the differences.
func (s *Server) reconcileMembers() {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		s.logger.Error("reconcile: read raft configuration", "error", err)
		return
	}
	conf := f.Configuration()
	alive := make(map[string]bool)
	for _, m := range s.serfLAN.Members() {
		info, ok := parseServer(m)
		if !ok || info.Datacenter != s.config.Datacenter {
			continue
		}
		switch m.Status {
		case serf.StatusAlive:
			alive[info.Name] = true
			s.ensureVoter(conf, info)
		case serf.StatusLeft:
			s.removeFromRaft(conf, info, "left")
		}
	}

	s.reapedMu.Lock()
	reaped := s.reaped
	s.reaped = make(map[string]*serverInfo)
	s.reapedMu.Unlock()
	for name, info := range reaped {
		if !alive[name] && !s.removeFromRaft(conf, info, "reaped") {
			// Tried again on the next pass.
			s.noteReaped(info)
		}
	}
}

// ensureVoter makes an alive server a voter at its current address.
func (s *Server) ensureVoter(conf raft.Configuration, info *serverInfo) {
	id, addr := raft.ServerID(info.ID), raft.ServerAddress(info.Addr.String())
	for _, srv := range conf.Servers {
		if srv.ID == id && srv.Address == addr && srv.Suffrage == raft.Voter {
			return
		}
	}
	// An entry with this address and another ID is a server that went
	// away and whose address this one now uses; left in place, it would
	// count towards the quorum and never vote.
	for _, srv := range conf.Servers {
		if srv.Address == addr && srv.ID != id && srv.ID != raft.ServerID(s.config.NodeName) {
			if err := s.raft.RemoveServer(srv.ID, 0, 0).Error(); err != nil {
				s.logger.Error("reconcile: remove stale raft server", "id", srv.ID, "addr", srv.Address, "error", err)
				return
			}
			s.logger.Info("removed stale raft server", "id", srv.ID, "addr", srv.Address)
		}
	}
	// AddVoter also moves a known ID to a new address.
	if err := s.raft.AddVoter(id, addr, 0, 0).Error(); err != nil {
		s.logger.Error("reconcile: add raft voter", "server", info.Name, "addr", addr, "error", err)
		return
	}
	s.logger.Info("added raft voter", "server", info.Name, "addr", addr)
}

// removeFromRaft removes a server that left or was reaped; ok is false
// when Raft refused. The leader never removes itself here: when it
// leaves, it does so in Leave, before leaving Serf, so that the others
// carry on.
func (s *Server) removeFromRaft(conf raft.Configuration, info *serverInfo, why string) (ok bool) {
	id := raft.ServerID(info.ID)
	if info.Name == s.config.NodeName || id == raft.ServerID(s.config.NodeName) {
		return true
	}
	for _, srv := range conf.Servers {
		if srv.ID != id {
			continue
		}
		if err := s.raft.RemoveServer(id, 0, 0).Error(); err != nil {
			s.logger.Error("reconcile: remove raft server", "server", info.Name, "error", err)
			return false
		}
		s.logger.Info("removed raft server", "server", info.Name, "reason", why)
		return true
	}
	return true
}
