package local

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/consulcompat/consul/structs"
)

// Check timings, Consul's.
const (
	// minCheckInterval is the shortest interval an HTTP or TCP check
	// runs at; a shorter one is raised to it.
	minCheckInterval = time.Second
	// defaultCheckTimeout bounds one HTTP request or TCP connect.
	defaultCheckTimeout = 10 * time.Second
)

// Texts a check reports, Consul's.
const (
	ttlExpiredOutput   = "TTL expired"
	httpCheckUserAgent = "Consul Health Check"
	httpCheckAccept    = "text/plain, text/*, */*"
)

// checkUpdater receives the results of checks. The runners call it from
// their own goroutines; it must not call back into the runners.
type checkUpdater func(checkID, status, output string)

// checkRunners are the goroutines that run the agent's checks, one per
// check that has something to run (TTL, HTTP or TCP). Each is started
// when its check is registered and stopped, and waited for, when it is
// deregistered or the agent shuts down.
type checkRunners struct {
	update checkUpdater

	mu      sync.Mutex
	runners map[string]*checkRunner
}

// checkRunner is one running check.
type checkRunner struct {
	cancel context.CancelFunc
	done   chan struct{}
	// ttl takes the output of each update of a TTL check, to restart its
	// timer; nil for other checks.
	ttl chan string
}

func newCheckRunners(update checkUpdater) *checkRunners {
	return &checkRunners{update: update, runners: make(map[string]*checkRunner)}
}

// start runs the check id by def, in place of any runner it had. A
// definition with nothing to run (a maintenance check) starts nothing.
func (r *checkRunners) start(id string, def *structs.CheckType) {
	r.stop(id)
	if def == nil || def.Type() == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cr := &checkRunner{cancel: cancel, done: make(chan struct{})}
	switch def.Type() {
	case structs.CheckTypeTTL:
		cr.ttl = make(chan string)
		go cr.runTTL(ctx, id, def.TTL, r.update)
	case structs.CheckTypeHTTP:
		go cr.runInterval(ctx, id, def, newHTTPProbe(def), r.update)
	case structs.CheckTypeTCP:
		go cr.runInterval(ctx, id, def, tcpProbe(def), r.update)
	}
	r.mu.Lock()
	r.runners[id] = cr
	r.mu.Unlock()
}

// stop stops the runner of a check, if it has one, and waits for it.
func (r *checkRunners) stop(id string) {
	r.mu.Lock()
	cr, ok := r.runners[id]
	delete(r.runners, id)
	r.mu.Unlock()
	if ok {
		cr.cancel()
		<-cr.done
	}
}

// stopAll stops every runner and waits for them.
func (r *checkRunners) stopAll() {
	r.mu.Lock()
	all := r.runners
	r.runners = make(map[string]*checkRunner)
	r.mu.Unlock()
	for _, cr := range all {
		cr.cancel()
	}
	for _, cr := range all {
		<-cr.done
	}
}

// ttlUpdated tells a TTL check's runner that the check was just updated
// with output, which restarts its timer. It returns once the runner has
// taken it, so that an expiry decided before cannot land after the
// update. It is false if id has no TTL runner.
func (r *checkRunners) ttlUpdated(id, output string) bool {
	r.mu.Lock()
	cr, ok := r.runners[id]
	r.mu.Unlock()
	if !ok || cr.ttl == nil {
		return false
	}
	select {
	case cr.ttl <- output:
	case <-cr.done:
	}
	return true
}

// runTTL turns the check critical when ttl passes without an update.
func (cr *checkRunner) runTTL(ctx context.Context, id string, ttl time.Duration, update checkUpdater) {
	defer close(cr.done)
	timer := time.NewTimer(ttl)
	defer timer.Stop()
	var last string
	for {
		select {
		case <-ctx.Done():
			return
		case last = <-cr.ttl:
			timer.Reset(ttl)
		case <-timer.C:
			out := ttlExpiredOutput
			if last != "" {
				out = fmt.Sprintf("%s (last output before timeout follows): %s", ttlExpiredOutput, last)
			}
			update(id, structs.HealthCritical, out)
		}
	}
}

// probe runs a check once and returns its status and output.
type probe func(ctx context.Context) (status, output string)

// runInterval runs probe at once and then every interval, each run
// bounded by the check's timeout, until ctx ends.
func (cr *checkRunner) runInterval(ctx context.Context, id string, def *structs.CheckType, p probe, update checkUpdater) {
	defer close(cr.done)
	interval := max(def.Interval, minCheckInterval)
	timeout := def.Timeout
	if timeout <= 0 {
		timeout = defaultCheckTimeout
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		runCtx, cancel := context.WithTimeout(ctx, timeout)
		status, output := p(runCtx)
		cancel()
		// A run cut short by the agent stopping the check says nothing
		// about the service.
		if ctx.Err() != nil {
			return
		}
		update(id, status, output)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// newHTTPProbe requests def.HTTP: a 2xx answer passes, 429 Too Many
// Requests warns, anything else or no answer is critical. The output is
// the status line and the start of the body, as Consul shows them.
func newHTTPProbe(def *structs.CheckType) probe {
	method := def.Method
	if method == "" {
		method = http.MethodGet
	}
	client := &http.Client{
		// Keep-alive connections would outlive the check's runner.
		Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: def.TLSSkipVerify},
		},
	}
	return func(ctx context.Context) (string, string) {
		var body io.Reader
		if def.Body != "" {
			body = strings.NewReader(def.Body)
		}
		req, err := http.NewRequestWithContext(ctx, method, def.HTTP, body)
		if err != nil {
			return structs.HealthCritical, err.Error()
		}
		req.Header.Set("User-Agent", httpCheckUserAgent)
		req.Header.Set("Accept", httpCheckAccept)
		for k, vs := range def.Header {
			if strings.EqualFold(k, "Host") && len(vs) > 0 {
				req.Host = vs[0]
				continue
			}
			req.Header[http.CanonicalHeaderKey(k)] = vs
		}
		resp, err := client.Do(req)
		if err != nil {
			return structs.HealthCritical, err.Error()
		}
		defer resp.Body.Close()
		buf, _ := io.ReadAll(io.LimitReader(resp.Body, maxCheckOutput))
		output := fmt.Sprintf("HTTP %s %s: %s Output: %s", method, def.HTTP, resp.Status, buf)
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode <= 299:
			return structs.HealthPassing, output
		case resp.StatusCode == http.StatusTooManyRequests:
			return structs.HealthWarning, output
		}
		return structs.HealthCritical, output
	}
}

// tcpProbe connects to def.TCP: a connection passes, anything else is
// critical.
func tcpProbe(def *structs.CheckType) probe {
	return func(ctx context.Context) (string, string) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", def.TCP)
		if err != nil {
			return structs.HealthCritical, err.Error()
		}
		conn.Close()
		return structs.HealthPassing, fmt.Sprintf("TCP connect %s: Success", def.TCP)
	}
}
