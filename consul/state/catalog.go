package state

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// serviceRow is a service instance as the services table holds it: the
// node and the indexed fields beside the service itself.
type serviceRow struct {
	Node    string
	ID      string
	Name    string
	Service *structs.NodeService
}

// The catalog's dump records are RegisterRequests, as in Consul: the node
// alone, the node with one service, or the node with one check.
func nodeRecord(row interface{}) interface{} {
	n := row.(*structs.Node)
	return &structs.RegisterRequest{ID: n.ID, Node: n.Node, Address: n.Address, Datacenter: n.Datacenter,
		TaggedAddresses: n.TaggedAddresses, NodeMeta: n.Meta, RaftIndex: n.RaftIndex}
}

func serviceRecord(row interface{}) interface{} {
	r := row.(*serviceRow)
	return &structs.RegisterRequest{Node: r.Node, Service: r.Service}
}

func checkRecord(row interface{}) interface{} {
	c := row.(*structs.HealthCheck)
	return &structs.RegisterRequest{Node: c.Node, Check: c}
}

// EnsureRegistration applies a registration at idx: the node (unless
// SkipNodeUpdate finds it there already), the service, and the checks.
// A write that changes nothing leaves the indexes alone.
func (s *Store) EnsureRegistration(idx uint64, req *structs.RegisterRequest) error {
	return s.write(func(tx *memdb.Txn) error { return ensureRegistrationTxn(tx, idx, req) })
}

func ensureRegistrationTxn(tx *memdb.Txn, idx uint64, req *structs.RegisterRequest) error {
	if req.Node == "" {
		return fmt.Errorf("%w: Must provide node", structs.ErrBadRequest)
	}
	existing, err := tx.First(tableNodes, "id", req.Node)
	if err != nil {
		return err
	}
	if existing == nil || !req.SkipNodeUpdate {
		node := &structs.Node{ID: req.ID, Node: req.Node, Address: req.Address, Datacenter: req.Datacenter,
			TaggedAddresses: req.TaggedAddresses, Meta: req.NodeMeta}
		if err := ensureNode(tx, idx, node, existing); err != nil {
			return err
		}
	}
	if req.Service != nil {
		if err := ensureService(tx, idx, req.Node, req.Service); err != nil {
			return err
		}
	}
	checks := req.Checks
	if req.Check != nil {
		checks = append(structs.HealthChecks{req.Check}, checks...)
	}
	for _, c := range checks {
		if err := ensureCheck(tx, idx, req.Node, c); err != nil {
			return err
		}
	}
	return nil
}

func ensureNode(tx *memdb.Txn, idx uint64, node *structs.Node, existing interface{}) error {
	node.CreateIndex, node.ModifyIndex = idx, idx
	if existing != nil {
		old := existing.(*structs.Node)
		node.CreateIndex, node.ModifyIndex = old.CreateIndex, old.ModifyIndex
		if reflect.DeepEqual(old, node) {
			return nil
		}
		node.ModifyIndex = idx
	}
	if err := insertRecord(tx, tableNodes, existing, node); err != nil {
		return err
	}
	return setIndex(tx, tableNodes, idx)
}

func ensureService(tx *memdb.Txn, idx uint64, node string, svc *structs.NodeService) error {
	if svc.Service == "" {
		return fmt.Errorf("%w: Must provide service name", structs.ErrBadRequest)
	}
	stored := *svc
	if stored.ID == "" {
		stored.ID = stored.Service
	}
	if stored.Weights == nil {
		stored.Weights = &structs.Weights{Passing: 1, Warning: 1}
	}
	existing, err := tx.First(tableServices, "id", node, stored.ID)
	if err != nil {
		return err
	}
	stored.CreateIndex, stored.ModifyIndex = idx, idx
	if existing != nil {
		old := existing.(*serviceRow).Service
		stored.CreateIndex, stored.ModifyIndex = old.CreateIndex, old.ModifyIndex
		if reflect.DeepEqual(old, &stored) {
			return nil
		}
		stored.ModifyIndex = idx
	}
	row := &serviceRow{Node: node, ID: stored.ID, Name: stored.Service, Service: &stored}
	if err := insertRecord(tx, tableServices, existing, row); err != nil {
		return err
	}
	return setIndex(tx, tableServices, idx)
}

func ensureCheck(tx *memdb.Txn, idx uint64, node string, c *structs.HealthCheck) error {
	if c.CheckID == "" {
		return fmt.Errorf("%w: Must provide a CheckID", structs.ErrBadRequest)
	}
	stored := *c
	stored.Node = node
	if stored.Status == "" {
		stored.Status = structs.HealthCritical
	}
	switch stored.Status {
	case structs.HealthPassing, structs.HealthWarning, structs.HealthCritical:
	default:
		return fmt.Errorf("%w: Invalid check status %q", structs.ErrBadRequest, stored.Status)
	}
	stored.ServiceName, stored.ServiceTags = "", nil
	if stored.ServiceID != "" {
		row, err := tx.First(tableServices, "id", node, stored.ServiceID)
		if err != nil {
			return err
		}
		if row == nil {
			return fmt.Errorf("%w: Missing service registration for check %q", structs.ErrBadRequest, stored.CheckID)
		}
		svc := row.(*serviceRow).Service
		stored.ServiceName, stored.ServiceTags = svc.Service, svc.Tags
	}
	if stored.Status == structs.HealthCritical {
		if err := invalidateCheckSessions(tx, idx, node, stored.CheckID); err != nil {
			return err
		}
	}
	existing, err := tx.First(tableChecks, "id", node, stored.CheckID)
	if err != nil {
		return err
	}
	stored.CreateIndex, stored.ModifyIndex = idx, idx
	if existing != nil {
		old := existing.(*structs.HealthCheck)
		stored.CreateIndex, stored.ModifyIndex = old.CreateIndex, old.ModifyIndex
		if reflect.DeepEqual(old, &stored) {
			return nil
		}
		stored.ModifyIndex = idx
	}
	if err := insertRecord(tx, tableChecks, existing, &stored); err != nil {
		return err
	}
	return setIndex(tx, tableChecks, idx)
}

// Deregister removes a check, a service (with its checks), or a whole
// node (with its services and checks) at idx, invalidating the sessions
// bound to what goes.
func (s *Store) Deregister(idx uint64, req *structs.DeregisterRequest) error {
	return s.write(func(tx *memdb.Txn) error {
		switch {
		case req.CheckID != "":
			if err := invalidateCheckSessions(tx, idx, req.Node, req.CheckID); err != nil {
				return err
			}
			return deleteRows(tx, idx, tableChecks, "id", req.Node, req.CheckID)
		case req.ServiceID != "":
			if err := invalidateServiceSessions(tx, idx, req.Node, req.ServiceID); err != nil {
				return err
			}
			if err := deleteRows(tx, idx, tableChecks, "node_service", req.Node, req.ServiceID); err != nil {
				return err
			}
			return deleteRows(tx, idx, tableServices, "id", req.Node, req.ServiceID)
		}
		all := func(*structs.Session) bool { return true }
		if err := invalidateSessions(tx, idx, req.Node, all); err != nil {
			return err
		}
		for _, t := range []string{tableChecks, tableServices, tableNodes} {
			index := "node"
			if t == tableNodes {
				index = "id"
			}
			if err := deleteRows(tx, idx, t, index, req.Node); err != nil {
				return err
			}
		}
		return nil
	})
}

// invalidateServiceSessions destroys the sessions bound to the checks of
// a service instance.
func invalidateServiceSessions(tx *memdb.Txn, idx uint64, node, serviceID string) error {
	it, err := tx.Get(tableChecks, "node_service", node, serviceID)
	if err != nil {
		return fmt.Errorf("state: service checks: %w", err)
	}
	var ids []string
	for row := it.Next(); row != nil; row = it.Next() {
		ids = append(ids, row.(*structs.HealthCheck).CheckID)
	}
	if len(ids) == 0 {
		return nil
	}
	return invalidateCheckSessions(tx, idx, node, ids...)
}

// catalog inserts a catalog record of a state dump.
func (rs *restorer) catalog(req *structs.RegisterRequest) error {
	var table string
	var row interface{}
	var key []interface{}
	switch {
	case req.Service != nil:
		svc := req.Service
		table, key = tableServices, []interface{}{req.Node, svc.ID}
		row = &serviceRow{Node: req.Node, ID: svc.ID, Name: svc.Service, Service: svc}
	case req.Check != nil:
		c := req.Check
		c.Node = req.Node
		table, key, row = tableChecks, []interface{}{req.Node, c.CheckID}, c
	default:
		table, key = tableNodes, []interface{}{req.Node}
		row = &structs.Node{ID: req.ID, Node: req.Node, Address: req.Address, Datacenter: req.Datacenter,
			TaggedAddresses: req.TaggedAddresses, Meta: req.NodeMeta, RaftIndex: req.RaftIndex}
	}
	old, err := rs.tx.First(table, "id", key...)
	if err != nil {
		return fmt.Errorf("state: restore %s: %w", table, err)
	}
	return rs.insert(table, old, row)
}

// catalogIndex is the index of the catalog tables.
func catalogIndex(tx *memdb.Txn) uint64 {
	return maxIndex(tx, tableNodes, tableServices, tableChecks)
}

// Nodes lists the nodes.
func (s *Store) Nodes(ws memdb.WatchSet) (uint64, []*structs.Node, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(tableNodes, "id")
	if err != nil {
		return 0, nil, err
	}
	ws.Add(it.WatchCh())
	var nodes []*structs.Node
	for row := it.Next(); row != nil; row = it.Next() {
		nodes = append(nodes, row.(*structs.Node))
	}
	return catalogIndex(tx), nodes, nil
}

// Services maps every service name to the union of its instances' tags.
func (s *Store) Services(ws memdb.WatchSet) (uint64, map[string][]string, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(tableServices, "id")
	if err != nil {
		return 0, nil, err
	}
	ws.Add(it.WatchCh())
	tags := map[string]map[string]bool{}
	for row := it.Next(); row != nil; row = it.Next() {
		svc := row.(*serviceRow).Service
		if tags[svc.Service] == nil {
			tags[svc.Service] = map[string]bool{}
		}
		for _, t := range svc.Tags {
			tags[svc.Service][t] = true
		}
	}
	out := make(map[string][]string, len(tags))
	for name, set := range tags {
		list := []string{}
		for t := range set {
			list = append(list, t)
		}
		sort.Strings(list)
		out[name] = list
	}
	return catalogIndex(tx), out, nil
}

// ServiceInstances returns the instances of a service with their nodes,
// in node order.
func (s *Store) ServiceInstances(ws memdb.WatchSet, name string) (uint64, []*structs.Node, []*structs.NodeService, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(tableServices, "service", name)
	if err != nil {
		return 0, nil, nil, err
	}
	ws.Add(it.WatchCh())
	var nodes []*structs.Node
	var svcs []*structs.NodeService
	for row := it.Next(); row != nil; row = it.Next() {
		r := row.(*serviceRow)
		n, err := tx.First(tableNodes, "id", r.Node)
		if err != nil {
			return 0, nil, nil, err
		}
		if n == nil {
			continue
		}
		nodes = append(nodes, n.(*structs.Node))
		svcs = append(svcs, r.Service)
	}
	return catalogIndex(tx), nodes, svcs, nil
}

// NodeServices returns a node and its services (nil node if unknown).
func (s *Store) NodeServices(ws memdb.WatchSet, node string) (uint64, *structs.Node, []*structs.NodeService, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	ch, n, err := tx.FirstWatch(tableNodes, "id", node)
	if err != nil {
		return 0, nil, nil, err
	}
	ws.Add(ch)
	if n == nil {
		return catalogIndex(tx), nil, nil, nil
	}
	it, err := tx.Get(tableServices, "node", node)
	if err != nil {
		return 0, nil, nil, err
	}
	ws.Add(it.WatchCh())
	var svcs []*structs.NodeService
	for row := it.Next(); row != nil; row = it.Next() {
		svcs = append(svcs, row.(*serviceRow).Service)
	}
	return catalogIndex(tx), n.(*structs.Node), svcs, nil
}

// Checks returns the checks found by an index lookup of the checks table:
// ("node", node), ("service", name), ("status", state), or ("id") for all.
func (s *Store) Checks(ws memdb.WatchSet, index string, args ...interface{}) (uint64, structs.HealthChecks, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(tableChecks, index, args...)
	if err != nil {
		return 0, nil, err
	}
	ws.Add(it.WatchCh())
	var out structs.HealthChecks
	for row := it.Next(); row != nil; row = it.Next() {
		out = append(out, row.(*structs.HealthCheck))
	}
	return catalogIndex(tx), out, nil
}

// CheckServiceNodes returns the instances of a service, each with its node
// and the checks that bear on it: the node's own and the instance's.
func (s *Store) CheckServiceNodes(ws memdb.WatchSet, name string) (uint64, []structs.CheckServiceNode, error) {
	idx, nodes, svcs, err := s.ServiceInstances(ws, name)
	if err != nil {
		return 0, nil, err
	}
	tx := s.db.Txn(false)
	defer tx.Abort()
	out := make([]structs.CheckServiceNode, 0, len(svcs))
	for i, svc := range svcs {
		it, err := tx.Get(tableChecks, "node", nodes[i].Node)
		if err != nil {
			return 0, nil, err
		}
		ws.Add(it.WatchCh())
		var checks structs.HealthChecks
		for row := it.Next(); row != nil; row = it.Next() {
			c := row.(*structs.HealthCheck)
			if c.ServiceID == "" || c.ServiceID == svc.ID {
				checks = append(checks, c)
			}
		}
		out = append(out, structs.CheckServiceNode{Node: nodes[i], Service: svc, Checks: checks})
	}
	return idx, out, nil
}
