package local

import "time"

// Reaping of services critical too long, Consul's defaults.
const (
	// defaultCheckReapInterval is how often the reaper looks.
	defaultCheckReapInterval = 30 * time.Second
	// defaultDeregisterCriticalMin is the least DeregisterCriticalServiceAfter
	// honoured; a shorter one is raised to it.
	defaultDeregisterCriticalMin = time.Minute
)

// reapLoop deregisters, every reapInterval, the services with a check
// that has been critical for longer than its
// DeregisterCriticalServiceAfter.
func (l *Agent) reapLoop() {
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

func (l *Agent) reap() {
	l.ops.Lock()
	defer l.ops.Unlock()
	defs := l.state.CheckDefs()
	for id, d := range l.state.criticalFor(time.Now()) {
		def := defs[id]
		if def == nil || def.DeregisterCriticalServiceAfter <= 0 {
			continue
		}
		if d <= max(def.DeregisterCriticalServiceAfter, l.deregisterMin) {
			continue
		}
		c, _, ok := l.state.Check(id)
		if !ok || c.ServiceID == "" {
			continue
		}
		if l.removeServiceLocked(c.ServiceID) == nil {
			l.logger.Info("deregistered a service whose check was critical for too long",
				"service", c.ServiceID, "check", id, "critical_for", d.Round(time.Millisecond))
		}
	}
}
