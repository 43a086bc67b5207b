package agent

import (
	"fmt"
	"time"
)

// retryJoin joins the addresses of -retry-join, trying again every
// -retry-interval until one answers. After -retry-max failed rounds (when
// set) it gives up and the agent stops, as Consul's does.
func (a *Agent) retryJoin() {
	defer close(a.retryDone)
	for attempt := 1; ; attempt++ {
		n, err := a.server.JoinLAN(a.cfg.RetryJoin)
		if err == nil {
			a.logger.Info("retry-join: joined cluster", "contacted", n, "attempt", attempt)
			return
		}
		if a.cfg.RetryMax > 0 && attempt >= a.cfg.RetryMax {
			a.logger.Error("retry-join: giving up", "attempts", attempt, "error", err)
			a.stopped(fmt.Errorf("agent: -retry-join %v: no agent answered in %d attempts: %w", a.cfg.RetryJoin, attempt, err))
			return
		}
		a.logger.Warn("retry-join: join failed, will try again", "addrs", a.cfg.RetryJoin, "in", a.cfg.RetryInterval, "error", err)
		select {
		case <-time.After(a.cfg.RetryInterval):
		case <-a.retryStop:
			return
		}
	}
}

// stopRetryJoin ends retryJoin, if running, and waits for it.
func (a *Agent) stopRetryJoin() {
	if a.retryStop == nil {
		return
	}
	// Leave and Shutdown may both ask.
	a.retryStopOnce.Do(func() { close(a.retryStop) })
	<-a.retryDone
}
