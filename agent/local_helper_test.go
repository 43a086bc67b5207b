package agent

import (
	"io"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"
)

// testLogger discards what an agent started by hand logs below errors.
func testLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: io.Discard})
}

// checkAgentLeaks fails the test if goroutines that were not there when
// it started are still there after its cleanups ran (the agent's
// Shutdown among them). Call it before starting anything, so that it
// runs last. As in the consul package, it allows 3 s: memberlist's
// Shutdown does not wait for a probe in flight.
func checkAgentLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			// A Raft future pending when Raft shuts down may never be
			// answered; the goroutine waiting on it is Raft's (raftWait).
			err := goleak.Find(before, goleak.IgnoreAnyFunction("github.com/consulcompat/consul/consul.(*Server).raftWait.func1"))
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// testLocalAgent is testAgentWith with anti-entropy and the reaper
// quickened for tests, and a leak check after shutdown.
func testLocalAgent(t *testing.T, mutate func(*config.Config)) (*Agent, *api.Client) {
	t.Helper()
	checkAgentLeaks(t)
	return testAgentWith(t, func(c *config.Config) {
		c.AEInterval = 200 * time.Millisecond
		c.CheckReapInterval = 50 * time.Millisecond
		c.CheckDeregisterIntervalMin = time.Millisecond
		if mutate != nil {
			mutate(c)
		}
	})
}

// eventually is retryUntil with a message on failure.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 8s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// catalogCheck returns a check of the agent's node as the catalog has
// it, or nil.
func catalogCheck(t *testing.T, c *api.Client, node, id string) *api.HealthCheck {
	t.Helper()
	checks, _, err := c.Health().Node(node, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, hc := range checks {
		if hc.CheckID == id {
			return hc
		}
	}
	return nil
}

// catalogHasService tells whether the catalog has the service instance
// on node.
func catalogHasService(t *testing.T, c *api.Client, node, id string) bool {
	t.Helper()
	n, _, err := c.Catalog().Node(node, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n != nil && n.Services[id] != nil
}
