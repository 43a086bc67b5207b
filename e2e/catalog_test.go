package e2e

import (
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestCatalogCLI registers services with the official client and reads
// them back with `consul catalog ...`.
func TestCatalogCLI(t *testing.T) {
	a := startAgent(t, t.TempDir())
	c := a.client()
	for _, r := range []*api.CatalogRegistration{
		{Node: "web-01", Address: "10.0.0.5", NodeMeta: map[string]string{"rack": "r1"},
			Service: &api.AgentService{ID: "web-1", Service: "web", Tags: []string{"v1", "blue"}, Port: 80}},
		{Node: "db-01", Address: "10.0.0.6", Service: &api.AgentService{Service: "db", Port: 5432}},
	} {
		if _, err := c.Catalog().Register(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"catalog", "datacenters"}, []string{"dc1"}, nil},
		{[]string{"catalog", "nodes"}, []string{"Node", "web-01", "10.0.0.5", "db-01", "e2e"}, nil},
		{[]string{"catalog", "nodes", "-service=web"}, []string{"web-01"}, []string{"db-01"}},
		{[]string{"catalog", "nodes", "-node-meta=rack=r1", "-detailed"}, []string{"web-01", "rack=r1"}, []string{"db-01"}},
		{[]string{"catalog", "services"}, []string{"consul", "db", "web"}, nil},
		{[]string{"catalog", "services", "-node=web-01", "-tags"}, []string{"web", "blue,v1"}, []string{"db"}},
	}
	for _, tc := range cases {
		out, code := a.runCLI(tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%v: %q should not be in\n%s", tc.args, n, out)
			}
		}
	}
	if out, code := a.runCLI("catalog", "nodes", "extra"); code != 1 {
		t.Fatalf("an extra argument: %d %s", code, out)
	}
}
