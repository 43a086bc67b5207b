package agent

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func registerWeb(t *testing.T, c *api.Client, node, id string, tags []string, status string) {
	t.Helper()
	_, err := c.Catalog().Register(&api.CatalogRegistration{
		Node: node, Address: "10.0.0.1", NodeMeta: map[string]string{"rack": node},
		Service: &api.AgentService{ID: id, Service: "web", Tags: tags, Port: 8080, Meta: map[string]string{"v": "1"}},
		Check:   &api.AgentCheck{CheckID: id + "-check", Name: "web alive", ServiceID: id, Status: status},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestCatalogAndHealthWithAPIClient(t *testing.T) {
	_, c := testAgent(t)
	registerWeb(t, c, "n1", "web-1", []string{"v1", "blue"}, api.HealthPassing)
	registerWeb(t, c, "n2", "web-2", []string{"v2", "blue"}, api.HealthCritical)

	dcs, err := c.Catalog().Datacenters()
	if err != nil || !reflect.DeepEqual(dcs, []string{"dc1"}) {
		t.Fatalf("datacenters %v %v", dcs, err)
	}
	// The agent's own node is there too, put there by the leader.
	nodes, _, err := c.Catalog().Nodes(nil)
	if err != nil || len(nodes) != 3 || nodes[1].Meta["rack"] != "n1" {
		t.Fatalf("nodes %+v %v", nodes, err)
	}
	services, _, err := c.Catalog().Services(nil)
	if err != nil || !reflect.DeepEqual(services["web"], []string{"blue", "v1", "v2"}) || services["consul"] == nil {
		t.Fatalf("services %v %v", services, err)
	}
	blue, _, err := c.Catalog().ServiceMultipleTags("web", []string{"blue", "v2"}, nil)
	if err != nil || len(blue) != 1 || blue[0].ServiceID != "web-2" || blue[0].ServicePort != 8080 {
		t.Fatalf("service by tags %+v %v", blue, err)
	}
	byMeta, _, err := c.Catalog().Service("web", "", &api.QueryOptions{NodeMeta: map[string]string{"rack": "n1"}})
	if err != nil || len(byMeta) != 1 || byMeta[0].Node != "n1" {
		t.Fatalf("service by node meta %+v %v", byMeta, err)
	}
	node, _, err := c.Catalog().Node("n1", nil)
	if err != nil || node == nil || node.Services["web-1"] == nil {
		t.Fatalf("node %+v %v", node, err)
	}
	passing, _, err := c.Health().Service("web", "", true, nil)
	if err != nil || len(passing) != 1 || passing[0].Service.ID != "web-1" || len(passing[0].Checks) != 1 {
		t.Fatalf("passing instances %+v %v", passing, err)
	}
	critical, _, err := c.Health().State(api.HealthCritical, nil)
	if err != nil || len(critical) != 1 || critical[0].CheckID != "web-2-check" {
		t.Fatalf("critical checks %+v %v", critical, err)
	}
	checks, _, err := c.Health().Checks("web", nil)
	if err != nil || len(checks) != 2 {
		t.Fatalf("service checks %+v %v", checks, err)
	}
	nodeChecks, _, err := c.Health().Node("n2", nil)
	if err != nil || len(nodeChecks) != 1 || nodeChecks[0].ServiceName != "web" {
		t.Fatalf("node checks %+v %v", nodeChecks, err)
	}

	if _, err := c.Catalog().Deregister(&api.CatalogDeregistration{Node: "n2", ServiceID: "web-2"}, nil); err != nil {
		t.Fatal(err)
	}
	if all, _, _ := c.Health().Service("web", "", false, nil); len(all) != 1 {
		t.Fatalf("after deregistering web-2: %+v", all)
	}
	if _, err := c.Catalog().Deregister(&api.CatalogDeregistration{Node: "n2"}, nil); err != nil {
		t.Fatal(err)
	}
	if nodes, _, _ := c.Catalog().Nodes(nil); len(nodes) != 2 {
		t.Fatalf("after deregistering n2: %+v", nodes)
	}
	if _, err := c.Catalog().Register(&api.CatalogRegistration{Address: "x"}, nil); err == nil {
		t.Fatal("a registration without a node was accepted")
	}
	if _, _, err := c.Health().State("purple", nil); err == nil {
		t.Fatal("an unknown state was accepted")
	}
}

func TestCatalogBlockingQueryWokenByRegister(t *testing.T) {
	_, c := testAgent(t)
	registerWeb(t, c, "n1", "web-1", nil, api.HealthPassing)
	_, meta, err := c.Health().Service("web", "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		entries, _, err := c.Health().Service("web", "", false, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
		}
		got <- len(entries)
	}()
	time.Sleep(50 * time.Millisecond)
	registerWeb(t, c, "n2", "web-2", nil, api.HealthPassing)
	select {
	case n := <-got:
		if n != 2 {
			t.Fatalf("woke with %d instances", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a registration did not wake the blocking query")
	}
}

func TestCatalogOf1000ServicesRoundTripsWithIndexes(t *testing.T) {
	_, c := testAgent(t)
	for i := 0; i < 1000; i++ {
		_, err := c.Catalog().Register(&api.CatalogRegistration{
			Node: fmt.Sprintf("node-%02d", i%50), Address: "10.1.0.1",
			Service: &api.AgentService{ID: fmt.Sprintf("svc-%04d", i), Service: fmt.Sprintf("svc-%d", i%40), Port: i},
			Check:   &api.AgentCheck{CheckID: fmt.Sprintf("chk-%04d", i), ServiceID: fmt.Sprintf("svc-%04d", i), Status: api.HealthPassing},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	before := catalogSnapshot(t, c)
	body, _, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := io.ReadAll(body)
	body.Close()

	_, fresh := testAgent(t)
	if err := fresh.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	if after := catalogSnapshot(t, fresh); !reflect.DeepEqual(before, after) {
		t.Fatal("the catalog differs after a restore into a fresh agent (indexes included)")
	}
}

// catalogSnapshot reads every instance with its Create/Modify indexes.
func catalogSnapshot(t *testing.T, c *api.Client) map[string][3]uint64 {
	t.Helper()
	out := map[string][3]uint64{}
	for i := 0; i < 40; i++ {
		entries, _, err := c.Health().Service(fmt.Sprintf("svc-%d", i), "", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			out[e.Service.ID] = [3]uint64{e.Service.CreateIndex, e.Service.ModifyIndex, e.Checks[0].ModifyIndex}
		}
	}
	if len(out) != 1000 {
		t.Fatalf("%d instances, want 1000", len(out))
	}
	return out
}

func TestCatalogFilterExpressions(t *testing.T) {
	a, c := testAgent(t)
	registerWeb(t, c, "n1", "web-1", []string{"v1"}, api.HealthPassing)
	registerWeb(t, c, "n2", "web-2", []string{"v2"}, api.HealthCritical)
	got, _, err := c.Catalog().Service("web", "", &api.QueryOptions{Filter: `ServiceTags contains "v2"`})
	if err != nil || len(got) != 1 || got[0].ServiceID != "web-2" {
		t.Fatalf("catalog filter %+v %v", got, err)
	}
	nodes, _, err := c.Catalog().Nodes(&api.QueryOptions{Filter: `Meta.rack == "n1"`})
	if err != nil || len(nodes) != 1 || nodes[0].Node != "n1" {
		t.Fatalf("node filter %+v %v", nodes, err)
	}
	checks, _, err := c.Health().State(api.HealthAny, &api.QueryOptions{Filter: `Status == "critical"`})
	if err != nil || len(checks) != 1 || checks[0].ServiceID != "web-2" {
		t.Fatalf("check filter %+v %v", checks, err)
	}
	entries, _, err := c.Health().Service("web", "", false, &api.QueryOptions{Filter: `Service.Port == 8080 and Node.Node == "n2"`})
	if err != nil || len(entries) != 1 {
		t.Fatalf("health filter %+v %v", entries, err)
	}
	if r := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/catalog/nodes?filter=Meta.rack%20%3D%3D", "", nil); r.status != 400 || !bytes.Contains(r.body, []byte("boolean expression")) {
		t.Fatalf("bad filter: %d %s", r.status, r.body)
	}
}
