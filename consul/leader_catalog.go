package consul

import (
	"reflect"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/serf/serf"
)

// The leader keeps the catalog in step with Serf LAN, as Consul does:
// every member is a node with a serfHealth check (passing while alive,
// critical once failed), servers also carry the "consul" service, and a
// member that left, or a node with a serfHealth check that Serf does not
// know (reaped, or brought by a restore from another cluster), is
// deregistered. Nodes registered without serfHealth are external and left
// alone. It writes only what differs, so a quiet cluster stays quiet.

// Outputs of serfHealth, Consul's texts.
const (
	serfAliveOutput  = "Agent alive and reachable"
	serfFailedOutput = "Agent not live or unreachable"
)

// reconcileCatalog brings the catalog in line with the Serf members.
func (s *Server) reconcileCatalog() {
	if s.serfLAN == nil {
		return
	}
	known := map[string]bool{}
	for _, m := range s.serfLAN.Members() {
		known[m.Name] = true
		var err error
		switch m.Status {
		case serf.StatusAlive:
			err = s.ensureMemberInCatalog(m, structs.HealthPassing, serfAliveOutput)
		case serf.StatusFailed:
			err = s.ensureMemberInCatalog(m, structs.HealthCritical, serfFailedOutput)
		case serf.StatusLeft:
			err = s.deregisterNode(m.Name)
		}
		if err != nil {
			s.logger.Warn("reconciling a member into the catalog", "member", m.Name, "error", err)
		}
	}
	_, checks, err := s.fsm.State().Checks(nil, "id")
	if err != nil {
		s.logger.Warn("reading the catalog for reconciliation", "error", err)
		return
	}
	for _, c := range checks {
		if c.CheckID == structs.SerfCheckID && !known[c.Node] {
			if err := s.deregisterNode(c.Node); err != nil {
				s.logger.Warn("removing a node Serf does not know", "node", c.Node, "error", err)
			}
		}
	}
}

// ensureMemberInCatalog registers m's node, its serfHealth check with
// status, and for a server the consul service, if any of them differs.
func (s *Server) ensureMemberInCatalog(m serf.Member, status, output string) error {
	store := s.fsm.State()
	_, node, svcs, err := store.NodeServices(nil, m.Name)
	if err != nil {
		return err
	}
	_, checks, err := store.Checks(nil, "node", m.Name)
	if err != nil {
		return err
	}
	req := &structs.RegisterRequest{
		Datacenter: s.config.Datacenter,
		Node:       m.Name,
		ID:         m.Tags[tagID],
		Address:    m.Addr.String(),
		Check: &structs.HealthCheck{
			Node: m.Name, CheckID: structs.SerfCheckID, Name: "Serf Health Status",
			Status: status, Output: output,
		},
	}
	if info, ok := parseServer(m); ok {
		req.Service = &structs.NodeService{ID: structs.ConsulServiceID, Service: structs.ConsulServiceID, Port: info.Addr.Port}
	}
	if node != nil && node.Address == req.Address && node.ID == req.ID && serfCheckIs(checks, status, output) &&
		(req.Service == nil || hasService(svcs, req.Service)) {
		return nil
	}
	if node != nil && node.Address == req.Address {
		// Keep metadata an agent registered for its own node.
		req.SkipNodeUpdate = true
	}
	_, err = s.raftApply(structs.RegisterRequestType, req)
	return err
}

func serfCheckIs(checks structs.HealthChecks, status, output string) bool {
	for _, c := range checks {
		if c.CheckID == structs.SerfCheckID {
			return c.Status == status && c.Output == output
		}
	}
	return false
}

func hasService(svcs []*structs.NodeService, want *structs.NodeService) bool {
	for _, s := range svcs {
		if s.ID == want.ID {
			return s.Service == want.Service && s.Port == want.Port && reflect.DeepEqual(s.Tags, want.Tags)
		}
	}
	return false
}

// deregisterNode removes a node and everything on it, if it is there.
func (s *Server) deregisterNode(name string) error {
	_, node, _, err := s.fsm.State().NodeServices(nil, name)
	if err != nil || node == nil {
		return err
	}
	_, err = s.raftApply(structs.DeregisterRequestType, &structs.DeregisterRequest{Datacenter: s.config.Datacenter, Node: name})
	return err
}
