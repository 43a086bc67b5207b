package local

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/consulcompat/consul/structs"
)

// maxCheckOutput bounds the output a check keeps, Consul's 4 KiB.
const maxCheckOutput = 4 * 1024

// State holds the services and checks registered with this agent:
// the truth that anti-entropy copies into the catalog. It is safe for
// concurrent use, and what it returns are copies.
type State struct {
	mu       sync.Mutex
	services map[string]*localService
	checks   map[string]*localCheck

	// changed receives a signal, never blocking, after every change the
	// catalog must see promptly (a check's output alone is not one).
	changed chan struct{}
}

// localService is a service with the token it was registered with.
type localService struct {
	service *structs.NodeService
	token   string
}

// localCheck is a check with the definition it runs by (nil for a
// maintenance check), its registration token, and since when it has
// been critical (zero while it is not).
type localCheck struct {
	check         *structs.HealthCheck
	def           *structs.CheckType
	token         string
	criticalSince time.Time
}

func newState() *State {
	return &State{
		services: make(map[string]*localService),
		checks:   make(map[string]*localCheck),
		changed:  make(chan struct{}, 1),
	}
}

func (l *State) notify() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func cloneService(s *structs.NodeService) *structs.NodeService {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	c.Meta = maps.Clone(s.Meta)
	if s.Weights != nil {
		w := *s.Weights
		c.Weights = &w
	}
	return &c
}

func cloneCheck(h *structs.HealthCheck) *structs.HealthCheck {
	c := *h
	c.ServiceTags = slices.Clone(h.ServiceTags)
	return &c
}

// setService adds or replaces a service. Its checks follow a change of
// its name or tags, as the catalog copies them onto each check.
func (l *State) setService(svc *structs.NodeService, token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	svc = cloneService(svc)
	l.services[svc.ID] = &localService{service: svc, token: token}
	for _, c := range l.checks {
		if c.check.ServiceID == svc.ID {
			c.check.ServiceName, c.check.ServiceTags = svc.Service, slices.Clone(svc.Tags)
		}
	}
	l.notify()
}

// removeService removes a service and every check on it, and returns
// the IDs of those checks; ok is false if there was no such service.
func (l *State) removeService(id string) (checkIDs []string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.services[id]; !ok {
		return nil, false
	}
	delete(l.services, id)
	for cid, c := range l.checks {
		if c.check.ServiceID == id {
			delete(l.checks, cid)
			checkIDs = append(checkIDs, cid)
		}
	}
	l.notify()
	return checkIDs, true
}

// Service returns a copy of a service and its token.
func (l *State) Service(id string) (*structs.NodeService, string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.services[id]
	if !ok {
		return nil, "", false
	}
	return cloneService(s.service), s.token, true
}

// AllServices returns copies of every service, by ID.
func (l *State) AllServices() map[string]*structs.NodeService {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]*structs.NodeService, len(l.services))
	for id, s := range l.services {
		out[id] = cloneService(s.service)
	}
	return out
}

// setServiceTags changes a service's tags, for a service whose tags the
// catalog may override (EnableTagOverride). It is not a change the
// catalog needs to hear of: the tags came from there.
func (l *State) setServiceTags(id string, tags []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.services[id]
	if !ok {
		return
	}
	s.service.Tags = slices.Clone(tags)
	for _, c := range l.checks {
		if c.check.ServiceID == id {
			c.check.ServiceTags = slices.Clone(tags)
		}
	}
}

// setCheck adds or replaces a check. A check on a service gets the
// service's name and tags; that service must be there.
func (l *State) setCheck(h *structs.HealthCheck, def *structs.CheckType, token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h = cloneCheck(h)
	h.Output = truncateOutput(h.Output)
	if s, ok := l.services[h.ServiceID]; ok {
		h.ServiceName, h.ServiceTags = s.service.Service, slices.Clone(s.service.Tags)
	}
	c := &localCheck{check: h, def: def, token: token}
	if h.Status == structs.HealthCritical {
		c.criticalSince = time.Now()
		if old, ok := l.checks[h.CheckID]; ok && !old.criticalSince.IsZero() {
			c.criticalSince = old.criticalSince
		}
	}
	l.checks[h.CheckID] = c
	l.notify()
}

// removeCheck removes a check; ok is false if there was no such check.
func (l *State) removeCheck(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.checks[id]; !ok {
		return false
	}
	delete(l.checks, id)
	l.notify()
	return true
}

// Check returns a copy of a check and its definition.
func (l *State) Check(id string) (*structs.HealthCheck, *structs.CheckType, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.checks[id]
	if !ok {
		return nil, nil, false
	}
	return cloneCheck(c.check), c.def, true
}

// AllChecks returns copies of every check, by ID.
func (l *State) AllChecks() map[string]*structs.HealthCheck {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]*structs.HealthCheck, len(l.checks))
	for id, c := range l.checks {
		out[id] = cloneCheck(c.check)
	}
	return out
}

// CheckDefs returns the definition of every check that has one, by ID.
func (l *State) CheckDefs() map[string]*structs.CheckType {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]*structs.CheckType, len(l.checks))
	for id, c := range l.checks {
		if c.def != nil {
			out[id] = c.def
		}
	}
	return out
}

// updateCheck sets a check's status and output. A new status is a
// change the catalog hears of at once; a new output alone waits for the
// next full sync, as Consul defers output-only updates. ok is false if
// there is no such check.
func (l *State) updateCheck(id, status, output string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.checks[id]
	if !ok {
		return false
	}
	output = truncateOutput(output)
	if c.check.Status == status && c.check.Output == output {
		return true
	}
	statusChanged := c.check.Status != status
	c.check.Status, c.check.Output = status, output
	switch {
	case status != structs.HealthCritical:
		c.criticalSince = time.Time{}
	case c.criticalSince.IsZero():
		c.criticalSince = time.Now()
	}
	if statusChanged {
		l.notify()
	}
	return true
}

// criticalFor maps each check that is critical now to how long it has
// been.
func (l *State) criticalFor(now time.Time) map[string]time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]time.Duration)
	for id, c := range l.checks {
		if !c.criticalSince.IsZero() {
			out[id] = now.Sub(c.criticalSince)
		}
	}
	return out
}

// syncView is what anti-entropy needs of the local state: copies of the
// services and checks with the token each was registered with.
type syncView struct {
	services      map[string]*structs.NodeService
	checks        map[string]*structs.HealthCheck
	serviceTokens map[string]string
	checkTokens   map[string]string
}

func (l *State) syncView() syncView {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := syncView{
		services:      make(map[string]*structs.NodeService, len(l.services)),
		checks:        make(map[string]*structs.HealthCheck, len(l.checks)),
		serviceTokens: make(map[string]string, len(l.services)),
		checkTokens:   make(map[string]string, len(l.checks)),
	}
	for id, s := range l.services {
		v.services[id], v.serviceTokens[id] = cloneService(s.service), s.token
	}
	for id, c := range l.checks {
		v.checks[id], v.checkTokens[id] = cloneCheck(c.check), c.token
	}
	return v
}

// truncateOutput keeps the first maxCheckOutput bytes of a check output.
func truncateOutput(s string) string {
	if len(s) > maxCheckOutput {
		return s[:maxCheckOutput]
	}
	return s
}
