package consul

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/serf/serf"
)

// serfEventBuffer is the size of the channel Serf delivers events on;
// Serf blocks its gossip while the channel is full. Consul's value.
const serfEventBuffer = 2048

// serfSnapshotPath is where, under the data dir, Serf keeps the members it
// knew, so that a restarted server rejoins them by itself.
var serfSnapshotPath = filepath.Join("serf", "local.snapshot")

// setupSerf starts Serf LAN with this server's tags; rpcPort is the port
// the RPC listener is bound to, advertised in the "port" tag.
func (s *Server) setupSerf(rpcPort int) error {
	// Copies, so that the caller's config (bound to port 0, say) is left
	// as it was for a restart.
	conf := *s.config.SerfLANConfig
	ml := *conf.MemberlistConfig
	conf.MemberlistConfig = &ml

	conf.NodeName = s.config.NodeName
	conf.Tags = s.config.serverTags(rpcPort)
	conf.EventCh = s.serfEventCh
	conf.Merge = &lanMergeDelegate{dc: s.config.Datacenter}
	logger := s.logger.Named("serf").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})
	conf.LogOutput, conf.Logger = nil, logger
	ml.LogOutput, ml.Logger = nil, logger

	bindIP := net.ParseIP(ml.BindAddr)
	if bindIP == nil {
		return fmt.Errorf("server: serf bind address %q is not an IP address", ml.BindAddr)
	}
	adv := advertiseAddr(s.config.Advertise, &net.TCPAddr{IP: bindIP, Port: ml.BindPort})
	ml.AdvertiseAddr = adv.IP.String()
	// With port 0, memberlist replaces this with the port it bound.
	ml.AdvertisePort = ml.BindPort

	if !s.config.DevMode {
		path := filepath.Join(s.config.DataDir, serfSnapshotPath)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("server: serf dir: %w", err)
		}
		conf.SnapshotPath = path
	}

	lan, err := serf.Create(&conf)
	if err != nil {
		return fmt.Errorf("server: start serf: %w", err)
	}
	s.serfLAN = lan
	return nil
}

// lanEventHandler turns Serf's events into updates of the server lookup,
// and wakes the leader's reconciliation and the bootstrap check. It must
// never block for long: Serf waits while its event channel is full, and
// queries other servers wait for are answered here.
func (s *Server) lanEventHandler() {
	defer s.wg.Done()
	for {
		select {
		case e := <-s.serfEventCh:
			switch e := e.(type) {
			case serf.MemberEvent:
				s.lanMemberEvent(e)
			case *serf.Query:
				s.lanQuery(e)
			}
		case <-s.shutdownCh:
			return
		}
	}
}

// lanMemberEvent keeps the server lookup current.
func (s *Server) lanMemberEvent(e serf.MemberEvent) {
	for _, m := range e.Members {
		info, ok := parseServer(m)
		if !ok || info.Datacenter != s.config.Datacenter {
			continue
		}
		switch e.Type {
		case serf.EventMemberJoin, serf.EventMemberUpdate:
			s.logger.Info("server member alive", "name", m.Name, "addr", info.Addr.String())
			s.servers.upsert(info)
		case serf.EventMemberLeave, serf.EventMemberFailed:
			s.logger.Info("server member gone", "name", m.Name, "event", e.Type.String())
			s.servers.remove(m.Name)
		case serf.EventMemberReap:
			s.logger.Info("server member reaped", "name", m.Name)
			s.servers.remove(m.Name)
			s.noteReaped(info)
		}
	}
	s.triggerReconcile()
	s.triggerBootstrap()
}

// lanMergeDelegate refuses members of another datacenter, so that two
// datacenters' LAN pools are never merged by a mistaken join.
type lanMergeDelegate struct {
	dc string
}

// NotifyMerge is called by Serf before it adds members learned by a join
// or a push-pull; an error refuses them all.
func (d *lanMergeDelegate) NotifyMerge(members []*serf.Member) error {
	for _, m := range members {
		if dc, ok := m.Tags[tagDC]; ok && dc != d.dc {
			return fmt.Errorf("member %q is in datacenter %q, not %q", m.Name, dc, d.dc)
		}
	}
	return nil
}

// JoinLAN asks Serf to contact the given addresses ("host" or "host:port";
// the port defaults to this server's Serf port) and join their cluster.
// It returns how many it reached; an error only when it reached none.
func (s *Server) JoinLAN(addrs []string) (int, error) {
	return s.serfLAN.Join(addrs, true)
}

// LANMembers returns every member Serf LAN knows, in any state.
func (s *Server) LANMembers() []serf.Member {
	return s.serfLAN.Members()
}

// LocalMember returns this server's own Serf LAN member.
func (s *Server) LocalMember() serf.Member {
	return s.serfLAN.LocalMember()
}
