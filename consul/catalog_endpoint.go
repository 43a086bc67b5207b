package consul

import (
	"fmt"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// Catalog is the service catalog endpoint.
type Catalog struct {
	srv *Server
}

// Register registers a node, a service and checks through Raft.
func (c *Catalog) Register(args *structs.RegisterRequest, reply *struct{}) error {
	if done, err := c.srv.forward("Catalog.Register", args.Datacenter, false, args, reply); done {
		return err
	}
	if args.Node == "" {
		return fmt.Errorf("%w: Must provide node", structs.ErrBadRequest)
	}
	if args.Service != nil && args.Service.Service == "" {
		return fmt.Errorf("%w: Must provide service name", structs.ErrBadRequest)
	}
	_, node, _, err := c.srv.fsm.State().NodeServices(nil, args.Node)
	if err != nil {
		return err
	}
	if err := c.srv.authorize(args.Token, func(z acl.Authorizer) bool { return registerAllowed(z, args, c.serviceName, node != nil) }); err != nil {
		return err
	}
	_, err = c.srv.raftApply(structs.RegisterRequestType, args)
	return err
}

// serviceName finds the name of a service instance already in the catalog.
func (c *Catalog) serviceName(node, id string) string {
	_, _, svcs, _ := c.srv.fsm.State().NodeServices(nil, node)
	for _, s := range svcs {
		if s.ID == id {
			return s.Service
		}
	}
	return ""
}

// registerAllowed is Consul's rule: node:write to change the node,
// service:write for the service and for checks of a service (registered
// with it or before), node:write for node checks.
func registerAllowed(z acl.Authorizer, args *structs.RegisterRequest, serviceName func(node, id string) string, nodeExists bool) bool {
	// SkipNodeUpdate spares node:write only for a node that exists:
	// otherwise the registration creates it.
	if (!args.SkipNodeUpdate || !nodeExists) && !z.NodeWrite(args.Node) {
		return false
	}
	if args.Service != nil && !z.ServiceWrite(args.Service.Service) {
		return false
	}
	checks := args.Checks
	if args.Check != nil {
		checks = append(structs.HealthChecks{args.Check}, checks...)
	}
	for _, chk := range checks {
		if chk.ServiceID == "" {
			if !z.NodeWrite(args.Node) {
				return false
			}
			continue
		}
		name := ""
		if args.Service != nil && (chk.ServiceID == args.Service.ID || (args.Service.ID == "" && chk.ServiceID == args.Service.Service)) {
			name = args.Service.Service
		} else {
			name = serviceName(args.Node, chk.ServiceID)
		}
		if !z.ServiceWrite(name) {
			return false
		}
	}
	return true
}

// Deregister removes a node, service or check through Raft.
func (c *Catalog) Deregister(args *structs.DeregisterRequest, reply *struct{}) error {
	if done, err := c.srv.forward("Catalog.Deregister", args.Datacenter, false, args, reply); done {
		return err
	}
	if args.Node == "" {
		return fmt.Errorf("%w: Must provide node", structs.ErrBadRequest)
	}
	if err := c.srv.authorize(args.Token, func(z acl.Authorizer) bool {
		if args.ServiceID != "" {
			if name := c.serviceName(args.Node, args.ServiceID); name != "" {
				return z.ServiceWrite(name)
			}
		}
		return z.NodeWrite(args.Node)
	}); err != nil {
		return err
	}
	_, err := c.srv.raftApply(structs.DeregisterRequestType, args)
	return err
}

// ListDatacenters lists the known datacenters: only the local one yet.
func (c *Catalog) ListDatacenters(args *structs.DCSpecificRequest, reply *[]string) error {
	*reply = []string{c.srv.config.Datacenter}
	return nil
}

// matchesMeta tells whether meta holds every pair of want.
func matchesMeta(meta, want map[string]string) bool {
	for k, v := range want {
		if meta[k] != v {
			return false
		}
	}
	return true
}

// ListNodes lists the nodes the token may read.
func (c *Catalog) ListNodes(args *structs.DCSpecificRequest, reply *structs.IndexedNodes) error {
	return c.srv.readQuery("Catalog.ListNodes", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, nodes, err := st.Nodes(ws)
			reply.Index, reply.Nodes = idx, []*structs.Node{}
			for _, n := range nodes {
				switch {
				case !matchesMeta(n.Meta, args.NodeMeta):
				case !z.NodeRead(n.Node):
					reply.ResultsFilteredByACLs = true
				default:
					reply.Nodes = append(reply.Nodes, n)
				}
			}
			return err
		})
}

// ListServices maps the services the token may read to their tags.
func (c *Catalog) ListServices(args *structs.DCSpecificRequest, reply *structs.IndexedServices) error {
	return c.srv.readQuery("Catalog.ListServices", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, services, err := st.Services(ws)
			reply.Index, reply.Services = idx, map[string][]string{}
			for name, tags := range services {
				if z.ServiceRead(name) {
					reply.Services[name] = tags
				} else {
					reply.ResultsFilteredByACLs = true
				}
			}
			return err
		})
}

// hasTags tells whether have holds every tag of want.
func hasTags(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// ServiceNodes lists the instances of a service, with their nodes.
func (c *Catalog) ServiceNodes(args *structs.ServiceSpecificRequest, reply *structs.IndexedServiceNodes) error {
	return c.srv.readQuery("Catalog.ServiceNodes", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, nodes, svcs, err := st.ServiceInstances(ws, args.ServiceName)
			reply.Index, reply.ServiceNodes = idx, []*structs.ServiceNode{}
			if !z.ServiceRead(args.ServiceName) {
				reply.ResultsFilteredByACLs = len(svcs) > 0
				return err
			}
			for i, svc := range svcs {
				n := nodes[i]
				switch {
				case !hasTags(svc.Tags, args.ServiceTags) || !matchesMeta(n.Meta, args.NodeMeta):
				case !z.NodeRead(n.Node):
					reply.ResultsFilteredByACLs = true
				default:
					reply.ServiceNodes = append(reply.ServiceNodes, toServiceNode(c.srv.config.Datacenter, n, svc))
				}
			}
			return err
		})
}

// toServiceNode joins a node and an instance as /v1/catalog/service shows.
func toServiceNode(dc string, n *structs.Node, svc *structs.NodeService) *structs.ServiceNode {
	sn := &structs.ServiceNode{
		ID: n.ID, Node: n.Node, Address: n.Address, Datacenter: dc, TaggedAddresses: n.TaggedAddresses, NodeMeta: n.Meta,
		ServiceID: svc.ID, ServiceName: svc.Service, ServiceTags: svc.Tags, ServiceAddress: svc.Address,
		ServiceMeta: svc.Meta, ServicePort: svc.Port, ServiceEnableTagOverride: svc.EnableTagOverride,
		CreateIndex: svc.CreateIndex, ModifyIndex: svc.ModifyIndex,
	}
	if svc.Weights != nil {
		sn.ServiceWeights = *svc.Weights
	}
	return sn
}

// NodeServices returns a node with the services the token may read.
func (c *Catalog) NodeServices(args *structs.NodeSpecificRequest, reply *structs.IndexedNodeServices) error {
	return c.srv.readQuery("Catalog.NodeServices", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, node, svcs, err := st.NodeServices(ws, args.Node)
			reply.Index, reply.NodeServices = idx, nil
			if err != nil || node == nil {
				return err
			}
			if !z.NodeRead(node.Node) {
				reply.ResultsFilteredByACLs = true
				return nil
			}
			ns := &structs.NodeServices{Node: node, Services: map[string]*structs.NodeService{}}
			for _, s := range svcs {
				if z.ServiceRead(s.Service) {
					ns.Services[s.ID] = s
				} else {
					reply.ResultsFilteredByACLs = true
				}
			}
			reply.NodeServices = ns
			return nil
		})
}
