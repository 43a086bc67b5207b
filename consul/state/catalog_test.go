package state

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/consulcompat/consul/structs"
)

func register(t *testing.T, s *Store, idx uint64, req *structs.RegisterRequest) {
	t.Helper()
	if err := s.EnsureRegistration(idx, req); err != nil {
		t.Fatal(err)
	}
}

func TestCatalogRegisterQueryDeregister(t *testing.T) {
	s := testStore(t)
	register(t, s, 1, &structs.RegisterRequest{Node: "n1", Address: "10.0.0.1",
		Service: &structs.NodeService{Service: "web", Tags: []string{"v1"}, Port: 80},
		Checks: structs.HealthChecks{
			{CheckID: "web-alive", ServiceID: "web", Status: structs.HealthPassing},
			{CheckID: "disk", Status: structs.HealthWarning},
		}})
	register(t, s, 2, &structs.RegisterRequest{Node: "n2", Address: "10.0.0.2",
		Service: &structs.NodeService{ID: "web-2", Service: "web", Tags: []string{"v2"}, Port: 81}})

	_, services, _ := s.Services(nil)
	if !reflect.DeepEqual(services, map[string][]string{"web": {"v1", "v2"}}) {
		t.Fatalf("services %v", services)
	}
	_, csn, _ := s.CheckServiceNodes(nil, "web")
	if len(csn) != 2 || len(csn[0].Checks) != 2 || csn[0].Checks[1].ServiceName != "web" {
		t.Fatalf("health %+v", csn)
	}
	// Registering the same thing again changes no index.
	before, _, _ := s.Nodes(nil)
	register(t, s, 3, &structs.RegisterRequest{Node: "n2", Address: "10.0.0.2",
		Service: &structs.NodeService{ID: "web-2", Service: "web", Tags: []string{"v2"}, Port: 81}})
	if after, _, _ := s.Nodes(nil); after != before {
		t.Fatalf("an identical registration moved the index from %d to %d", before, after)
	}
	if err := s.Deregister(4, &structs.DeregisterRequest{Node: "n1", ServiceID: "web"}); err != nil {
		t.Fatal(err)
	}
	_, checks, _ := s.Checks(nil, "node", "n1")
	if len(checks) != 1 || checks[0].CheckID != "disk" {
		t.Fatalf("deregistering a service must take its checks only: %+v", checks)
	}
	if err := s.Deregister(5, &structs.DeregisterRequest{Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	if _, nodes, _ := s.Nodes(nil); len(nodes) != 1 || nodes[0].Node != "n2" {
		t.Fatalf("nodes after deregistering n1: %+v", nodes)
	}
	if err := s.EnsureRegistration(6, &structs.RegisterRequest{Node: "n3", Check: &structs.HealthCheck{CheckID: "c", ServiceID: "nope"}}); err == nil {
		t.Fatal("a check of an unknown service was accepted")
	}
}

func TestCatalogRoundTripsThroughDumpWithIndexes(t *testing.T) {
	s := testStore(t)
	idx := uint64(0)
	for i := 0; i < 200; i++ {
		idx++
		register(t, s, idx, &structs.RegisterRequest{Node: fmt.Sprintf("node-%d", i%20), Address: "10.0.0.1",
			NodeMeta: map[string]string{"rack": fmt.Sprint(i % 3)},
			Service:  &structs.NodeService{ID: fmt.Sprintf("svc-%d", i), Service: fmt.Sprintf("svc-%d", i%7), Port: i},
			Check:    &structs.HealthCheck{CheckID: fmt.Sprintf("chk-%d", i), ServiceID: fmt.Sprintf("svc-%d", i), Status: structs.HealthPassing}})
	}
	if err := s.Deregister(idx+1, &structs.DeregisterRequest{Node: "node-3"}); err != nil {
		t.Fatal(err)
	}
	first := dump(t, s, idx+1)
	restored, _, err := Restore(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if second := dump(t, restored, idx+1); !bytes.Equal(first, second) {
		t.Fatal("a restored catalog does not dump to the same bytes")
	}
	for _, name := range []string{"svc-0", "svc-6"} {
		i1, a, _ := s.CheckServiceNodes(nil, name)
		i2, b, _ := restored.CheckServiceNodes(nil, name)
		if i1 != i2 || !reflect.DeepEqual(a, b) {
			t.Fatalf("%s differs after restore (index %d vs %d)", name, i1, i2)
		}
	}
}
