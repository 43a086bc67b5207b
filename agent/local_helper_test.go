package agent

import (
	"testing"

	"github.com/hashicorp/consul/api"
)

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
