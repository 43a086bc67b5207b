package consul

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/serf/serf"
)

// raftPeersQuery is the Serf query a server sends, before it bootstraps
// Raft, to ask the other servers whether they already have a Raft
// configuration: if one has, a cluster exists and bootstrapping would make
// a second one. Consul asks each server by RPC (Status.Peers); until
// server-to-server RPC is there, a Serf query carries the same question.
// The answer is the number of servers in the responder's Raft
// configuration, in decimal; 0 means it has none.
const raftPeersQuery = "consulcompat-raft-peers"

// bootstrapRetry is how often the bootstrap check runs again without a
// member event, so that a query that found a server unreachable is tried
// again.
const bootstrapRetry = time.Second

// triggerBootstrap wakes the bootstrap check; it never blocks.
func (s *Server) triggerBootstrap() {
	select {
	case s.bootstrapCh <- struct{}{}:
	default:
	}
}

// bootstrapLoop runs the bootstrap check on every member event until Raft
// has a configuration, by bootstrapping or by being added to a cluster.
func (s *Server) bootstrapLoop() {
	defer s.wg.Done()
	ticker := time.NewTicker(bootstrapRetry)
	defer ticker.Stop()
	for {
		if s.maybeBootstrap() {
			return
		}
		select {
		case <-s.bootstrapCh:
		case <-ticker.C:
		case <-s.shutdownCh:
			return
		}
	}
}

// maybeBootstrap bootstraps Raft once BootstrapExpect servers of this
// datacenter, all expecting that number, are alive in Serf and none of
// them has Raft state. Every server computes the same configuration: the
// first BootstrapExpect servers by name. A server that is not among them
// waits for the leader to add it. done is true when there is nothing left
// to wait for.
func (s *Server) maybeBootstrap() (done bool) {
	has, err := raft.HasExistingState(s.raftStores.logs, s.raftStores.stable, s.raftStores.snaps)
	if err != nil {
		s.bootstrapLog(hclog.Error, "bootstrap: read raft state", "error", err)
		return false
	}
	if has {
		return true
	}
	expect := s.config.BootstrapExpect
	var servers []*serverInfo
	for _, m := range s.serfLAN.Members() {
		info, ok := parseServer(m)
		if !ok || info.Datacenter != s.config.Datacenter || m.Status != serf.StatusAlive {
			continue
		}
		if info.Bootstrap {
			s.bootstrapLog(hclog.Error, "bootstrap: a server runs with -bootstrap; not bootstrapping with bootstrap_expect", "server", info.Name)
			return false
		}
		if info.Expect != expect {
			s.bootstrapLog(hclog.Error, "bootstrap: a server expects another number of servers; all must expect the same",
				"server", info.Name, "expect", info.Expect, "ours", expect)
			return false
		}
		servers = append(servers, info)
	}
	if len(servers) < expect {
		s.bootstrapLog(hclog.Info, "bootstrap: waiting for servers", "have", len(servers), "expect", expect)
		return false
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].Name < servers[j].Name })
	chosen := servers[:expect]
	if !containsServer(chosen, s.config.NodeName) {
		s.bootstrapLog(hclog.Info, "bootstrap: more servers than expected; waiting to be added by the leader")
		return false
	}

	var others []string
	for _, info := range servers {
		if info.Name != s.config.NodeName {
			others = append(others, info.Name)
		}
	}
	peers, err := s.queryRaftPeers(others)
	if err != nil {
		s.bootstrapLog(hclog.Warn, "bootstrap: could not confirm that no server has Raft state yet", "error", err)
		return false
	}
	for _, name := range others {
		if peers[name] > 0 {
			s.logger.Info("bootstrap: a server already has Raft peers; not bootstrapping, waiting to be added", "server", name)
			return true
		}
	}

	conf := raft.Configuration{}
	var names []string
	for _, info := range chosen {
		conf.Servers = append(conf.Servers, raft.Server{
			Suffrage: raft.Voter,
			ID:       raft.ServerID(info.ID),
			Address:  raft.ServerAddress(info.Addr.String()),
		})
		names = append(names, info.Name)
	}
	if err := s.raft.BootstrapCluster(conf).Error(); err != nil {
		if errors.Is(err, raft.ErrCantBootstrap) {
			return true
		}
		s.logger.Error("bootstrap: raft", "error", err)
		return false
	}
	s.logger.Info("bootstrapped raft", "servers", strings.Join(names, ","))
	return true
}

// bootstrapLog logs what the bootstrap check is waiting for, unless it
// said the same last time: the check runs every second.
func (s *Server) bootstrapLog(level hclog.Level, msg string, args ...interface{}) {
	line := fmt.Sprint(level, msg, args)
	if line == s.bootstrapLast {
		return
	}
	s.bootstrapLast = line
	s.logger.Log(level, msg, args...)
}

func containsServer(list []*serverInfo, name string) bool {
	for _, info := range list {
		if info.Name == name {
			return true
		}
	}
	return false
}

// queryRaftPeers asks the named servers, by a Serf query, how many
// servers their Raft configuration holds. It fails unless all answer.
func (s *Server) queryRaftPeers(names []string) (map[string]int, error) {
	out := make(map[string]int, len(names))
	if len(names) == 0 {
		return out, nil
	}
	params := s.serfLAN.DefaultQueryParams()
	params.FilterNodes = names
	resp, err := s.serfLAN.Query(raftPeersQuery, nil, params)
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	for len(out) < len(names) {
		select {
		case r, ok := <-resp.ResponseCh():
			if !ok {
				return nil, fmt.Errorf("%d of %d servers answered in time", len(out), len(names))
			}
			n, err := strconv.Atoi(string(r.Payload))
			if err != nil {
				return nil, fmt.Errorf("server %s answered %q", r.From, r.Payload)
			}
			out[r.From] = n
		case <-s.shutdownCh:
			return nil, errors.New("server shutting down")
		}
	}
	return out, nil
}

// lanQuery answers the queries servers send each other.
func (s *Server) lanQuery(q *serf.Query) {
	if q.Name != raftPeersQuery {
		return
	}
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		s.logger.Warn("raft peers query: read configuration", "error", err)
		return
	}
	n := len(f.Configuration().Servers)
	if err := q.Respond([]byte(strconv.Itoa(n))); err != nil {
		s.logger.Debug("raft peers query: respond", "from", q.SourceNode(), "error", err)
	}
}
