package consul

import (
	"fmt"
	"sort"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// Health is the health endpoint.
type Health struct {
	srv *Server
}

// checkVisible is Consul's rule for reading a check: service:read for a
// service's check, node:read for a node's.
func checkVisible(z acl.Authorizer, c *structs.HealthCheck) bool {
	if c.ServiceName != "" {
		return z.ServiceRead(c.ServiceName)
	}
	return z.NodeRead(c.Node)
}

// filterChecks keeps the checks the token may see and that keep accepts.
func filterChecks(z acl.Authorizer, checks structs.HealthChecks, meta *structs.QueryMeta, keep func(*structs.HealthCheck) bool) structs.HealthChecks {
	out := structs.HealthChecks{}
	for _, c := range checks {
		switch {
		case keep != nil && !keep(c):
		case !checkVisible(z, c):
			meta.ResultsFilteredByACLs = true
		default:
			out = append(out, c)
		}
	}
	sortChecks(out)
	return out
}

// sortChecks orders checks by node, then check ID, as Consul lists them.
func sortChecks(checks structs.HealthChecks) {
	sort.Slice(checks, func(i, j int) bool {
		if checks[i].Node != checks[j].Node {
			return checks[i].Node < checks[j].Node
		}
		return checks[i].CheckID < checks[j].CheckID
	})
}

// NodeChecks lists the checks of a node.
func (h *Health) NodeChecks(args *structs.NodeSpecificRequest, reply *structs.IndexedHealthChecks) error {
	return h.srv.readQuery("Health.NodeChecks", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, checks, err := st.Checks(ws, "node", args.Node)
			reply.Index, reply.HealthChecks = idx, filterChecks(z, checks, &reply.QueryMeta, nil)
			return err
		})
}

// ServiceChecks lists the checks of a service's instances.
func (h *Health) ServiceChecks(args *structs.ServiceSpecificRequest, reply *structs.IndexedHealthChecks) error {
	return h.srv.readQuery("Health.ServiceChecks", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, checks, err := st.Checks(ws, "service", args.ServiceName)
			reply.Index, reply.HealthChecks = idx, filterChecks(z, checks, &reply.QueryMeta, nil)
			return err
		})
}

// ChecksInState lists the checks in a state, or all for "any".
func (h *Health) ChecksInState(args *structs.ChecksInStateRequest, reply *structs.IndexedHealthChecks) error {
	switch args.State {
	case structs.HealthAny, structs.HealthPassing, structs.HealthWarning, structs.HealthCritical:
	default:
		return fmt.Errorf("%w: Invalid state %q", structs.ErrBadRequest, args.State)
	}
	return h.srv.readQuery("Health.ChecksInState", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			var idx uint64
			var checks structs.HealthChecks
			var err error
			if args.State == structs.HealthAny {
				idx, checks, err = st.Checks(ws, "id")
			} else {
				idx, checks, err = st.Checks(ws, "status", args.State)
			}
			reply.Index, reply.HealthChecks = idx, filterChecks(z, checks, &reply.QueryMeta, nil)
			return err
		})
}

// ServiceNodes lists the instances of a service with their node and
// checks; with OnlyPassing, only instances whose every check passes.
func (h *Health) ServiceNodes(args *structs.ServiceSpecificRequest, reply *structs.IndexedCheckServiceNodes) error {
	return h.srv.readQuery("Health.ServiceNodes", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, all, err := st.CheckServiceNodes(ws, args.ServiceName)
			reply.Index, reply.Nodes = idx, []structs.CheckServiceNode{}
			for _, csn := range all {
				switch {
				case !hasTags(csn.Service.Tags, args.ServiceTags) || !matchesMeta(csn.Node.Meta, args.NodeMeta):
				case args.OnlyPassing && !allPassing(csn.Checks):
				case !z.ServiceRead(csn.Service.Service) || !z.NodeRead(csn.Node.Node):
					reply.ResultsFilteredByACLs = true
				default:
					csn.Checks = filterChecks(z, csn.Checks, &reply.QueryMeta, nil)
					reply.Nodes = append(reply.Nodes, csn)
				}
			}
			return err
		})
}

func allPassing(checks structs.HealthChecks) bool {
	for _, c := range checks {
		if c.Status != structs.HealthPassing {
			return false
		}
	}
	return true
}
