package e2e

import (
	"os"
	"path/filepath"
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

// TestServicesCLI registers a service with a TTL check from a file and
// one from flags through the agent, sees them in the catalog with their
// health, and deregisters them.
func TestServicesCLI(t *testing.T) {
	dir := t.TempDir()
	a := startAgent(t, filepath.Join(dir, "data"))
	file := filepath.Join(dir, "web.hcl")
	os.WriteFile(file, []byte(`service {
  name = "web"
  id   = "web-1"
  port = 8080
  tags = ["v1"]
  check {
    ttl    = "30s"
    status = "passing"
  }
}
`), 0o600)
	if out, code := a.runCLI("services", "register", file); code != 0 || !strings.Contains(out, "Registered service: web") {
		t.Fatalf("register file: %d %s", code, out)
	}
	if out, code := a.runCLI("services", "register", "-name=db", "-port=5432", "-tag=primary"); code != 0 {
		t.Fatalf("register flags: %d %s", code, out)
	}
	c := a.client()
	entries, _, err := c.Health().Service("web", "v1", true, nil)
	if err != nil || len(entries) != 1 || entries[0].Service.Port != 8080 {
		t.Fatalf("web in the catalog: %+v %v", entries, err)
	}
	if out, code := a.runCLI("catalog", "services", "-tags"); code != 0 || !strings.Contains(out, "primary") {
		t.Fatalf("catalog services: %d %s", code, out)
	}
	if out, code := a.runCLI("services", "deregister", file); code != 0 {
		t.Fatalf("deregister file: %d %s", code, out)
	}
	if out, code := a.runCLI("services", "deregister", "-id=db"); code != 0 {
		t.Fatalf("deregister id: %d %s", code, out)
	}
	if services, _, _ := c.Catalog().Services(nil); services["web"] != nil || services["db"] != nil {
		t.Fatalf("services left: %v", services)
	}
	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte("data_dir = \"/tmp\"\n"), 0o600)
	if out, code := a.runCLI("services", "register", bad); code != 1 || !strings.Contains(out, "only service definitions") {
		t.Fatalf("a file that is not a service definition: %d %s", code, out)
	}
}
