// Package local is the agent's own services and checks: their state,
// the runners of their checks (TTL, HTTP, TCP), anti-entropy, which keeps
// the catalog equal to them, and the reaper of services critical for too
// long. The HTTP API in package agent calls it; it reaches the server
// only through an RPCCaller.
package local

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

// serviceMaintCheckID is the ID of a service's maintenance check.
func serviceMaintCheckID(serviceID string) string {
	return serviceMaintCheckPrefix + serviceID
}

// Agent is this agent's own services and checks: their state, the
// runners of their checks, anti-entropy, and the reaper of services
// critical for too long. Its methods are what the HTTP API and the
// config files ask for; ops serialises them, so that a check's runner
// and its entry in the state change together. ACLs are checked by the
// callers.
type Agent struct {
	node    string
	state   *State
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

// New builds the local agent of node, with the timings and the agent
// token of cfg; nothing runs until Start.
func New(cfg *config.Config, rpc RPCCaller, node SyncNode, logger hclog.Logger) *Agent {
	state := newState()
	l := &Agent{
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

// Start registers the services and checks of the config files, then
// starts anti-entropy and the reaper. If one of them is refused, it stops
// the runners of those already registered and starts nothing.
func (l *Agent) Start(services []*structs.ServiceDefinition, checks []*structs.CheckDefinition) error {
	if err := l.load(services, checks); err != nil {
		l.runners.stopAll()
		return err
	}
	l.ae.start()
	go l.reapLoop()
	return nil
}

// load registers the services and checks of the config files.
func (l *Agent) load(services []*structs.ServiceDefinition, checks []*structs.CheckDefinition) error {
	for _, s := range services {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("agent: service %q: %v", s.Name, err)
		}
		if err := l.AddService(s, "", false); err != nil {
			return fmt.Errorf("agent: service %q: %w", s.Name, err)
		}
	}
	for _, c := range checks {
		if err := l.AddCheck(c, ""); err != nil {
			return fmt.Errorf("agent: check %q: %w", c.Name, err)
		}
	}
	return nil
}

// SignalStop asks anti-entropy and the reaper to stop, without waiting.
func (l *Agent) SignalStop() {
	l.stopOnce.Do(func() { close(l.stopCh) })
	l.ae.signalStop()
}

// Stop stops anti-entropy, the reaper and every check's runner, and
// waits for them all. The local state stays as it was. It must follow a
// Start that succeeded.
func (l *Agent) Stop() {
	l.SignalStop()
	<-l.ae.done
	<-l.reapDone
	l.ops.Lock()
	defer l.ops.Unlock()
	l.runners.stopAll()
}

// State is the agent's services and checks, for the HTTP API to read.
// They change only through the Agent's methods, which keep the checks'
// runners in step with them.
func (l *Agent) State() *State {
	return l.state
}

// SyncChanges brings the catalog up to date now, as Consul does before
// answering a registration. A failure is only logged: the change is
// made locally, and anti-entropy tries again.
func (l *Agent) SyncChanges() {
	l.ae.syncAndLog(false)
}

// checkResult takes a runner's result.
func (l *Agent) checkResult(id, status, output string) {
	l.state.updateCheck(id, status, output)
}

// serviceCheck is the check of a service built from its definition: by
// default "service:<id>" (with ":<n>" when the service has several) and
// named after the service, as Consul does.
func (l *Agent) serviceCheck(svc *structs.NodeService, ct *structs.CheckType, i, n int) *structs.HealthCheck {
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

// AddService registers a service with its checks, in place of any with
// its ID. A check already there keeps its status and output, as in
// Consul; with replaceChecks, the service's checks that the definition
// no longer names are removed. def must be valid.
func (l *Agent) AddService(def *structs.ServiceDefinition, token string, replaceChecks bool) error {
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
		for id, c := range l.state.AllChecks() {
			if c.ServiceID == svc.ID && !named[id] && id != serviceMaintCheckID(svc.ID) {
				l.runners.stop(id)
				l.state.removeCheck(id)
			}
		}
	}
	l.state.setService(svc, token)
	for i, c := range checks {
		l.runners.stop(c.CheckID)
		if old, _, ok := l.state.Check(c.CheckID); ok && old.ServiceID == svc.ID {
			c.Status, c.Output = old.Status, old.Output
		}
		l.state.setCheck(c, types[i], token)
		l.runners.start(c.CheckID, types[i])
	}
	return nil
}

// RemoveService deregisters a service and its checks.
func (l *Agent) RemoveService(id string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	return l.removeServiceLocked(id)
}

func (l *Agent) removeServiceLocked(id string) error {
	if _, _, ok := l.state.Service(id); !ok {
		return UnknownService(id)
	}
	for cid, c := range l.state.AllChecks() {
		if c.ServiceID == id {
			l.runners.stop(cid)
		}
	}
	l.state.removeService(id)
	return nil
}

// AddCheck registers a check, on the node or on a service of the agent,
// in place of any with its ID. def must be valid.
func (l *Agent) AddCheck(def *structs.CheckDefinition, token string) error {
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
		return fmt.Errorf("%w: Invalid check: %v", structs.ErrBadRequest, err)
	}

	l.ops.Lock()
	defer l.ops.Unlock()
	if h.ServiceID != "" {
		if _, _, ok := l.state.Service(h.ServiceID); !ok {
			return MissingService(h.ServiceID)
		}
	}
	l.runners.stop(h.CheckID)
	l.state.setCheck(h, &ct, token)
	l.runners.start(h.CheckID, &ct)
	return nil
}

// RemoveCheck deregisters a check.
func (l *Agent) RemoveCheck(id string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	if _, _, ok := l.state.Check(id); !ok {
		return UnknownCheck(id)
	}
	l.runners.stop(id)
	l.state.removeCheck(id)
	return nil
}

// UnknownService, UnknownCheck and MissingService are the errors for an
// ID the agent does not have, in Consul's words; they wrap
// structs.ErrNotFound, which the HTTP API answers with 404. The HTTP API
// returns them too when it finds the ID missing before calling the Agent.

// UnknownService is the error for a service ID to change or remove.
func UnknownService(id string) error {
	return fmt.Errorf("%w: Unknown service ID %q. Ensure that the service ID is passed, not the service name.", structs.ErrNotFound, id)
}

// UnknownCheck is the error for a check ID to change or remove.
func UnknownCheck(id string) error {
	return fmt.Errorf("%w: Unknown check ID %q. Ensure that the check ID is passed, not the check name.", structs.ErrNotFound, id)
}

// MissingService is the error for a check registered on a service ID.
func MissingService(id string) error {
	return fmt.Errorf("%w: ServiceID %q does not exist", structs.ErrNotFound, id)
}

// UpdateTTL sets the status and output of a TTL check and restarts its
// timer.
func (l *Agent) UpdateTTL(id, status, output string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	if _, _, ok := l.state.Check(id); !ok {
		return UnknownCheck(id)
	}
	if !l.runners.ttlUpdated(id, output) {
		// Consul's text, and its status: 500.
		return fmt.Errorf("CheckID %q does not have associated TTL", id)
	}
	l.state.updateCheck(id, status, output)
	return nil
}

// SetNodeMaintenance puts the node in maintenance, with a critical check
// that takes every service of the node out of healthy answers, or takes
// it out. Enabling twice keeps the first reason, as in Consul.
func (l *Agent) SetNodeMaintenance(enable bool, reason, token string) {
	l.ops.Lock()
	defer l.ops.Unlock()
	_, _, on := l.state.Check(nodeMaintCheckID)
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

// SetServiceMaintenance is SetNodeMaintenance for one service.
func (l *Agent) SetServiceMaintenance(id string, enable bool, reason, token string) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	svc, _, ok := l.state.Service(id)
	if !ok {
		return fmt.Errorf("%w: No service registered with ID %q", structs.ErrNotFound, id)
	}
	checkID := serviceMaintCheckID(id)
	_, _, on := l.state.Check(checkID)
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
