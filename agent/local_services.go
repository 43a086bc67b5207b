package agent

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
)

// Maintenance checks, Consul's IDs, names and default notes.
const (
	nodeMaintCheckID          = "_node_maintenance"
	serviceMaintCheckPrefix   = "_service_maintenance:"
	nodeMaintCheckName        = "Node Maintenance Mode"
	serviceMaintCheckName     = "Service Maintenance Mode"
	defaultNodeMaintReason    = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message."
	defaultServiceMaintReason = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message."
)

// Reaping of services critical too long, Consul's defaults.
const (
	// defaultCheckReapInterval is how often the reaper looks.
	defaultCheckReapInterval = 30 * time.Second
	// defaultDeregisterCriticalMin is the least DeregisterCriticalServiceAfter
	// honoured; a shorter one is raised to it.
	defaultDeregisterCriticalMin = time.Minute
)

// serviceMaintCheckID is the ID of a service's maintenance check.
func serviceMaintCheckID(serviceID string) string {
	return serviceMaintCheckPrefix + serviceID
}

// localAgent is this agent's own services and checks: their state, the
// runners of their checks, anti-entropy, and the reaper of services
// critical for too long. Its methods are what the HTTP API and the
// config files ask for; ops serialises them, so that a check's runner
// and its entry in the state change together. ACLs are checked by the
// callers.
type localAgent struct {
	node    string
	state   *localState
	runners *checkRunners
	ae      *antiEntropy
	logger  hclog.Logger

	reapInterval  time.Duration
	deregisterMin time.Duration

	ops sync.Mutex

	stopOnce sync.Once
	stopCh   chan struct{}
	reapDone chan struct{}
}

// newLocalAgent builds the local agent of node; nothing runs until start.
func newLocalAgent(cfg *config.Config, rpc rpcCaller, node syncNode, logger hclog.Logger) *localAgent {
	state := newLocalState()
	l := &localAgent{
		node:          node.Name,
		state:         state,
		ae:            newAntiEntropy(rpc, state, node, cfg.ACL.Tokens.Agent, cfg.AEInterval, logger.Named("anti_entropy")),
		logger:        logger,
		reapInterval:  cfg.CheckReapInterval,
		deregisterMin: cfg.CheckDeregisterIntervalMin,
		stopCh:        make(chan struct{}),
		reapDone:      make(chan struct{}),
	}
	if l.reapInterval <= 0 {
		l.reapInterval = defaultCheckReapInterval
	}
	if l.deregisterMin <= 0 {
		l.deregisterMin = defaultDeregisterCriticalMin
	}
	l.runners = newCheckRunners(l.checkResult)
	return l
}

// load registers the services and checks of the config files.
func (l *localAgent) load(services []*structs.ServiceDefinition, checks []*structs.CheckDefinition) error {
	for _, s := range services {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("agent: service %q: %v", s.Name, err)
		}
		if err := l.addService(s, "", false); err != nil {
			return fmt.Errorf("agent: service %q: %w", s.Name, err)
		}
	}
	for _, c := range checks {
		if err := l.addCheck(c, ""); err != nil {
			return fmt.Errorf("agent: check %q: %w", c.Name, err)
		}
	}
	return nil
}

// start starts anti-entropy and the reaper.
func (l *localAgent) start() {
	l.ae.start()
	go l.reapLoop()
}

// signalStop asks anti-entropy and the reaper to stop, without waiting.
func (l *localAgent) signalStop() {
	l.stopOnce.Do(func() { close(l.stopCh) })
	l.ae.signalStop()
}

// stop stops anti-entropy, the reaper and every check's runner, and
// waits for them all. The local state stays as it was.
func (l *localAgent) stop() {
	l.signalStop()
	<-l.ae.done
	<-l.reapDone
	l.ops.Lock()
	defer l.ops.Unlock()
	l.runners.stopAll()
}

// syncChanges brings the catalog up to date now, as Consul does before
// answering a registration. A failure is only logged: the change is
// made locally, and anti-entropy tries again.
func (l *localAgent) syncChanges() {
	l.ae.syncAndLog(false)
}

// checkResult takes a runner's result.
func (l *localAgent) checkResult(id, status, output string) {
	l.state.updateCheck(id, status, output)
}

// serviceCheck is the check of a service built from its definition: by
// default "service:<id>" (with ":<n>" when the service has several) and
// named after the service, as Consul does.
func (l *localAgent) serviceCheck(svc *structs.NodeService, ct *structs.CheckType, i, n int) *structs.HealthCheck {
	id := ct.CheckID
	if id == "" {
		id = "service:" + svc.ID
		if n > 1 {
			id += ":" + strconv.Itoa(i+1)
		}
	}
	name := ct.Name
	if name == "" {
		name = fmt.Sprintf("Service '%s' check", svc.Service)
	}
	status := ct.Status
	if status == "" {
		status = structs.HealthCritical
	}
	return &structs.HealthCheck{Node: l.node, CheckID: id, Name: name, Status: status, Notes: ct.Notes,
		ServiceID: svc.ID, ServiceName: svc.Service, Type: ct.Type()}
}

// addService registers a service with its checks, in place of any with
// its ID. A check already there keeps its status and output, as in
// Consul; with replaceChecks, the service's checks that the definition
// no longer names are removed. def must be valid.
func (l *localAgent) addService(def *structs.ServiceDefinition, token string, replaceChecks bool) error {
	svc := def.NodeService()
	types := def.CheckTypes()
	checks := make([]*structs.HealthCheck, len(types))
	named := map[string]bool{}
	for i, ct := range types {
		checks[i] = l.serviceCheck(svc, ct, i, len(types))
		named[checks[i].CheckID] = true
	}

	l.ops.Lock()
	defer l.ops.Unlock()
	if replaceChecks {
		for id, c := range l.state.allChecks() {
			if c.ServiceID == svc.ID && !named[id] && id != serviceMaintCheckID(svc.ID) {
				l.runners.stop(id)
				l.state.removeCheck(id)
			}
		}
	}
	l.state.setService(svc, token)
	for i, c := range checks {
		l.runners.stop(c.CheckID)
		if old, _, ok := l.state.check(c.CheckID); ok && old.ServiceID == svc.ID {
			c.Status, c.Output = old.Status, old.Output
		}
		l.state.setCheck(c, types[i], token)
		l.runners.start(c.CheckID, types[i])
	}
	return nil
}

// removeService deregisters a service and its checks.
func (l *localAgent) removeService(id string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	return l.removeServiceLocked(id)
}

func (l *localAgent) removeServiceLocked(id string) error {
	if _, _, ok := l.state.service(id); !ok {
		return notFoundf("Unknown service ID %q. Ensure that the service ID is passed, not the service name.", id)
	}
	for cid, c := range l.state.allChecks() {
		if c.ServiceID == id {
			l.runners.stop(cid)
		}
	}
	l.state.removeService(id)
	return nil
}

// addCheck registers a check, on the node or on a service of the agent,
// in place of any with its ID. def must be valid.
func (l *localAgent) addCheck(def *structs.CheckDefinition, token string) error {
	ct := def.CheckType
	h := &structs.HealthCheck{Node: l.node, CheckID: ct.CheckID, Name: ct.Name, Status: ct.Status, Notes: ct.Notes,
		ServiceID: def.ServiceID, Type: ct.Type()}
	if h.CheckID == "" {
		h.CheckID = h.Name
	}
	if h.Status == "" {
		h.Status = structs.HealthCritical
	}
	if err := ct.Validate(); err != nil {
		return badRequest("Invalid check: %v", err)
	}

	l.ops.Lock()
	defer l.ops.Unlock()
	if h.ServiceID != "" {
		if _, _, ok := l.state.service(h.ServiceID); !ok {
			return notFoundf("ServiceID %q does not exist", h.ServiceID)
		}
	}
	l.runners.stop(h.CheckID)
	l.state.setCheck(h, &ct, token)
	l.runners.start(h.CheckID, &ct)
	return nil
}

// removeCheck deregisters a check.
func (l *localAgent) removeCheck(id string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	if _, _, ok := l.state.check(id); !ok {
		return unknownCheck(id)
	}
	l.runners.stop(id)
	l.state.removeCheck(id)
	return nil
}

func unknownCheck(id string) error {
	return notFoundf("Unknown check ID %q. Ensure that the check ID is passed, not the check name.", id)
}

// updateTTL sets the status and output of a TTL check and restarts its
// timer.
func (l *localAgent) updateTTL(id, status, output string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	if _, _, ok := l.state.check(id); !ok {
		return unknownCheck(id)
	}
	if !l.runners.ttlUpdated(id, output) {
		// Consul's text, and its status: 500.
		return fmt.Errorf("CheckID %q does not have associated TTL", id)
	}
	l.state.updateCheck(id, status, output)
	return nil
}

// setNodeMaintenance puts the node in maintenance, with a critical check
// that takes every service of the node out of healthy answers, or takes
// it out. Enabling twice keeps the first reason, as in Consul.
func (l *localAgent) setNodeMaintenance(enable bool, reason, token string) {
	l.ops.Lock()
	defer l.ops.Unlock()
	_, _, on := l.state.check(nodeMaintCheckID)
	switch {
	case enable && !on:
		if reason == "" {
			reason = defaultNodeMaintReason
		}
		l.state.setCheck(&structs.HealthCheck{Node: l.node, CheckID: nodeMaintCheckID, Name: nodeMaintCheckName,
			Notes: reason, Status: structs.HealthCritical, Type: structs.CheckTypeMaintenance}, nil, token)
	case !enable && on:
		l.state.removeCheck(nodeMaintCheckID)
	}
}

// setServiceMaintenance is setNodeMaintenance for one service.
func (l *localAgent) setServiceMaintenance(id string, enable bool, reason, token string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	svc, _, ok := l.state.service(id)
	if !ok {
		return notFoundf("No service registered with ID %q", id)
	}
	checkID := serviceMaintCheckID(id)
	_, _, on := l.state.check(checkID)
	switch {
	case enable && !on:
		if reason == "" {
			reason = defaultServiceMaintReason
		}
		l.state.setCheck(&structs.HealthCheck{Node: l.node, CheckID: checkID, Name: serviceMaintCheckName,
			Notes: reason, Status: structs.HealthCritical, ServiceID: id, ServiceName: svc.Service,
			Type: structs.CheckTypeMaintenance}, nil, token)
	case !enable && on:
		l.state.removeCheck(checkID)
	}
	return nil
}

// reapLoop deregisters, every reapInterval, the services with a check
// that has been critical for longer than its
// DeregisterCriticalServiceAfter.
func (l *localAgent) reapLoop() {
	defer close(l.reapDone)
	ticker := time.NewTicker(l.reapInterval)
	defer ticker.Stop()
	for {
		select {
		case <-l.stopCh:
			return
		case <-ticker.C:
			l.reap()
		}
	}
}

func (l *localAgent) reap() {
	l.ops.Lock()
	defer l.ops.Unlock()
	defs := l.state.checkDefs()
	for id, d := range l.state.criticalFor(time.Now()) {
		def := defs[id]
		if def == nil || def.DeregisterCriticalServiceAfter <= 0 {
			continue
		}
		if d <= max(def.DeregisterCriticalServiceAfter, l.deregisterMin) {
			continue
		}
		c, _, ok := l.state.check(id)
		if !ok || c.ServiceID == "" {
			continue
		}
		if l.removeServiceLocked(c.ServiceID) == nil {
			l.logger.Info("deregistered a service whose check was critical for too long",
				"service", c.ServiceID, "check", id, "critical_for", d.Round(time.Millisecond))
		}
	}
}

// startLocal registers the services and checks of the config files and
// starts anti-entropy and the reaper. The node is registered with the
// ID and address the leader gives it from Serf.
func (a *Agent) startLocal() error {
	m := a.server.LocalMember()
	node := syncNode{Name: a.cfg.NodeName, ID: m.Tags["id"], Address: m.Addr.String(), Datacenter: a.cfg.Datacenter}
	a.local = newLocalAgent(a.cfg, a.server, node, a.logger.Named("local"))
	if err := a.local.load(a.cfg.Services, a.cfg.Checks); err != nil {
		a.local.runners.stopAll()
		return err
	}
	a.local.start()
	return nil
}
