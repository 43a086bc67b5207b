package local

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
)

// Anti-entropy timings.
const (
	// defaultAEInterval is the period of the full sync, Consul's.
	defaultAEInterval = 60 * time.Second
	// aeRetryInterval is how soon a failed full sync is tried again
	// (never later than the period itself).
	aeRetryInterval = 15 * time.Second
)

// RPCCaller calls a server RPC endpoint; consul.Server is one, called
// in-process. It is all the package asks of the server. Anti-entropy
// calls it, one call at a time, from its own goroutine or from
// SyncChanges' caller: it reads the node's entries (Catalog.NodeServices,
// Health.NodeChecks) and writes them (Catalog.Register,
// Catalog.Deregister). A write refused by ACLs (an error wrapping
// structs.ErrPermissionDenied or structs.ErrACLNotFound) is logged and
// skipped; any other error is logged, and a later sync tries again.
type RPCCaller interface {
	RPC(method string, args, reply interface{}) error
}

// SyncNode is this agent's node as anti-entropy registers it: the same
// ID and address the leader gives it from Serf, so that neither
// overwrites the other.
type SyncNode struct {
	Name, ID, Address, Datacenter string
}

// antiEntropy keeps the catalog's entries for this agent's node equal to
// the local state: the services and checks the agent knows are
// registered as they are, and those of the node it does not know are
// deregistered, except serfHealth and the consul service, which the
// leader owns. A sync runs after every local change (sync(false)),
// after each registration through the HTTP API before it answers, and
// every interval in full (sync(true)), which also brings check outputs
// up to date and repairs entries changed behind the agent's back.
type antiEntropy struct {
	rpc      RPCCaller
	local    *State
	node     SyncNode
	token    string // the agent token; "" means the default token
	interval time.Duration
	logger   hclog.Logger

	// mu lets one sync run at a time.
	mu sync.Mutex

	stopCh chan struct{}
	done   chan struct{}
}

func newAntiEntropy(rpc RPCCaller, local *State, node SyncNode, token string, interval time.Duration, logger hclog.Logger) *antiEntropy {
	if interval <= 0 {
		interval = defaultAEInterval
	}
	return &antiEntropy{rpc: rpc, local: local, node: node, token: token, interval: interval, logger: logger,
		stopCh: make(chan struct{}), done: make(chan struct{})}
}

// start runs the sync loop: a full sync at once, then one per interval,
// and a sync of changes whenever the local state signals one.
func (ae *antiEntropy) start() {
	go ae.run()
}

// signalStop asks the loop to end without waiting, so that the server
// can be shut down meanwhile and cut short a request that waits for a
// leader.
func (ae *antiEntropy) signalStop() {
	select {
	case <-ae.stopCh:
	default:
		close(ae.stopCh)
	}
}

func (ae *antiEntropy) stopping() bool {
	select {
	case <-ae.stopCh:
		return true
	default:
		return false
	}
}

func (ae *antiEntropy) run() {
	defer close(ae.done)
	full := time.NewTimer(0)
	defer full.Stop()
	for {
		select {
		case <-ae.stopCh:
			return
		case <-ae.local.changed:
			ae.syncAndLog(false)
		case <-full.C:
			next := ae.interval
			if !ae.syncAndLog(true) {
				next = min(ae.interval, aeRetryInterval)
			}
			full.Reset(next)
		}
	}
}

// syncAndLog syncs and logs a failure, unless the agent is stopping.
func (ae *antiEntropy) syncAndLog(full bool) bool {
	err := ae.sync(full)
	if err != nil && !ae.stopping() {
		ae.logger.Warn("syncing the local services and checks to the catalog", "full", full, "error", err)
	}
	return err == nil
}

// sync compares the catalog's entries for this node with the local
// state and fixes each difference. A sync that is not full leaves alone
// checks whose output alone differs. It returns the first error, having
// tried every entry; entries refused by ACLs are logged, not returned.
func (ae *antiEntropy) sync(full bool) error {
	ae.mu.Lock()
	defer ae.mu.Unlock()
	if ae.stopping() {
		return errors.New("anti-entropy stopped")
	}

	q := structs.QueryOptions{Token: ae.token}
	var nodeOut structs.IndexedNodeServices
	if err := ae.rpc.RPC("Catalog.NodeServices", &structs.NodeSpecificRequest{Datacenter: ae.node.Datacenter,
		Node: ae.node.Name, QueryOptions: q}, &nodeOut); err != nil {
		return err
	}
	var checksOut structs.IndexedHealthChecks
	if err := ae.rpc.RPC("Health.NodeChecks", &structs.NodeSpecificRequest{Datacenter: ae.node.Datacenter,
		Node: ae.node.Name, QueryOptions: q}, &checksOut); err != nil {
		return err
	}
	remoteServices := map[string]*structs.NodeService{}
	var remoteNode *structs.Node
	if ns := nodeOut.NodeServices; ns != nil {
		remoteNode, remoteServices = ns.Node, ns.Services
	}
	remoteChecks := map[string]*structs.HealthCheck{}
	for _, c := range checksOut.HealthChecks {
		remoteChecks[c.CheckID] = c
	}

	var errs []error
	keep := func(what, id string, err error) {
		switch {
		case err == nil:
		case errors.Is(err, structs.ErrPermissionDenied), errors.Is(err, structs.ErrACLNotFound):
			ae.logger.Warn(what+" blocked by ACLs", "id", id)
		default:
			errs = append(errs, err)
		}
	}

	if remoteNode == nil || remoteNode.ID != ae.node.ID || remoteNode.Address != ae.node.Address {
		keep("node registration", ae.node.Name, ae.register(ae.token, nil, nil, false))
	}

	view := ae.local.syncView()
	for id := range remoteServices {
		if id == structs.ConsulServiceID {
			continue
		}
		if _, ok := view.services[id]; !ok {
			keep("service deregistration", id, ae.deregister(&structs.DeregisterRequest{ServiceID: id}))
			for cid, c := range remoteChecks {
				if c.ServiceID == id {
					delete(remoteChecks, cid)
				}
			}
			delete(remoteServices, id)
		}
	}
	for id, rc := range remoteChecks {
		if id == structs.SerfCheckID {
			continue
		}
		if _, ok := view.checks[id]; !ok {
			keep("check deregistration", id, ae.deregister(&structs.DeregisterRequest{CheckID: id, ServiceID: rc.ServiceID}))
			delete(remoteChecks, id)
		}
	}

	pushed := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(view.services)) {
		ls, rs := view.services[id], remoteServices[id]
		if rs != nil && ls.EnableTagOverride && !sameStrings(ls.Tags, rs.Tags) {
			// The catalog may change the tags of such a service; the
			// agent takes them.
			ae.local.setServiceTags(id, rs.Tags)
			ls.Tags = slices.Clone(rs.Tags)
		}
		if rs != nil && sameService(ls, rs) {
			continue
		}
		// The service goes with all its checks, which carry its name and
		// tags in the catalog.
		var checks structs.HealthChecks
		for _, cid := range slices.Sorted(maps.Keys(view.checks)) {
			if c := view.checks[cid]; c.ServiceID == id {
				checks = append(checks, c)
				pushed[cid] = true
			}
		}
		keep("service registration", id, ae.register(tokenOr(view.serviceTokens[id], ae.token), ls, checks, true))
	}
	for _, id := range slices.Sorted(maps.Keys(view.checks)) {
		lc, rc := view.checks[id], remoteChecks[id]
		if pushed[id] || rc != nil && sameCheck(lc, rc, full) {
			continue
		}
		tok := tokenOr(view.checkTokens[id], tokenOr(view.serviceTokens[lc.ServiceID], ae.token))
		keep("check registration", id, ae.register(tok, nil, structs.HealthChecks{lc}, true))
	}
	return errors.Join(errs...)
}

// register registers the node, with a service and checks if given.
// skipNode leaves the node's fields alone if it is in the catalog.
func (ae *antiEntropy) register(token string, svc *structs.NodeService, checks structs.HealthChecks, skipNode bool) error {
	req := &structs.RegisterRequest{
		Datacenter: ae.node.Datacenter, Node: ae.node.Name, ID: ae.node.ID, Address: ae.node.Address,
		Service: svc, Checks: checks, SkipNodeUpdate: skipNode,
		WriteRequest: structs.WriteRequest{Token: token},
	}
	var out struct{}
	return ae.rpc.RPC("Catalog.Register", req, &out)
}

// deregister removes a service or check of this node with the agent token.
func (ae *antiEntropy) deregister(req *structs.DeregisterRequest) error {
	req.Datacenter, req.Node, req.Token = ae.node.Datacenter, ae.node.Name, ae.token
	var out struct{}
	return ae.rpc.RPC("Catalog.Deregister", req, &out)
}

func tokenOr(tok, fallback string) string {
	if tok != "" {
		return tok
	}
	return fallback
}

// sameService compares what the agent registers of a service; weights
// the catalog defaulted count as 1 and 1.
func sameService(a, b *structs.NodeService) bool {
	return a.ID == b.ID && a.Service == b.Service && sameStrings(a.Tags, b.Tags) && a.Address == b.Address &&
		sameMeta(a.Meta, b.Meta) && a.Port == b.Port && WeightsOf(a) == WeightsOf(b) &&
		a.EnableTagOverride == b.EnableTagOverride
}

// WeightsOf is a service's weights: passing 1 and warning 1 when it has
// none, as the catalog defaults them.
func WeightsOf(s *structs.NodeService) structs.Weights {
	if s.Weights == nil {
		return structs.Weights{Passing: 1, Warning: 1}
	}
	return *s.Weights
}

// sameCheck compares what the agent registers of a check, the output
// only in a full sync.
func sameCheck(a, b *structs.HealthCheck, withOutput bool) bool {
	return a.Name == b.Name && a.Status == b.Status && a.Notes == b.Notes && a.ServiceID == b.ServiceID &&
		a.ServiceName == b.ServiceName && a.Type == b.Type && (!withOutput || a.Output == b.Output)
}

// sameStrings treats nil and empty as equal.
func sameStrings(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
}

func sameMeta(a, b map[string]string) bool {
	return len(a) == 0 && len(b) == 0 || maps.Equal(a, b)
}
