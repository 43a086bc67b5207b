package agent

import (
	"io"
	"testing"

	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// testAgent starts a bootstrapped server agent on random loopback ports
// with its data in a temp dir, waits for a leader, and stops it when the
// test ends. It returns the agent and an official API client for it.
func testAgent(t *testing.T) (*Agent, *api.Client) {
	t.Helper()
	return testAgentWith(t, nil)
}

// testAgentWith is testAgent with its configuration changed by mutate.
func testAgentWith(t *testing.T, mutate func(*config.Config)) (*Agent, *api.Client) {
	t.Helper()
	cfg := &config.Config{
		NodeName:   "agent-test",
		Datacenter: "dc1",
		DataDir:    t.TempDir(),
		Server:     true,
		Bootstrap:  true,
		BindAddr:   "127.0.0.1",
		ClientAddr: "127.0.0.1",
		LogLevel:   "warn",
	}
	if mutate != nil {
		mutate(cfg)
	}
	a, err := New(cfg, hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	client, err := api.NewClient(&api.Config{Address: a.HTTPAddr()})
	if err != nil {
		t.Fatal(err)
	}
	retryUntil(t, func() bool {
		leader, err := client.Status().Leader()
		return err == nil && leader != ""
	})
	return a, client
}
