package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/consulcompat/consul/snapshot"
	"github.com/hashicorp/consul/api"
)

// registerInstance registers one instance of service on node with one
// check in status.
func registerInstance(t *testing.T, c *api.Client, node, service, id string, tags []string, status string) {
	t.Helper()
	_, err := c.Catalog().Register(&api.CatalogRegistration{
		Node: node, Address: "10.0.0.1", NodeMeta: map[string]string{"rack": node},
		Service: &api.AgentService{ID: id, Service: service, Tags: tags, Port: 80, Meta: map[string]string{"v": "1"}},
		Check:   &api.AgentCheck{CheckID: id + "-check", Name: id, ServiceID: id, Status: status},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// executedIDs runs a query and returns the service IDs it answered,
// sorted.
func executedIDs(t *testing.T, c *api.Client, idOrName string) []string {
	t.Helper()
	resp, _, err := c.PreparedQuery().Execute(idOrName, nil)
	if err != nil {
		t.Fatalf("execute %s: %v", idOrName, err)
	}
	ids := []string{}
	for _, n := range resp.Nodes {
		ids = append(ids, n.Service.ID)
	}
	sort.Strings(ids)
	return ids
}

func TestPreparedQueryLifecycle(t *testing.T) {
	_, c := testAgent(t)
	registerInstance(t, c, "n1", "web", "web-1", []string{"v1", "blue"}, api.HealthPassing)
	registerInstance(t, c, "n2", "web", "web-2", []string{"v2", "blue"}, api.HealthWarning)
	registerInstance(t, c, "n3", "web", "web-3", []string{"v1", "Canary"}, api.HealthCritical)
	registerInstance(t, c, "n4", "web", "web-4", []string{"v1", "canary"}, api.HealthPassing)
	pq := c.PreparedQuery()

	def := &api.PreparedQueryDefinition{Name: "web-stable", Service: api.ServiceQuery{Service: "web", Tags: []string{"!canary"}},
		DNS: api.QueryDNSOptions{TTL: "10s"}}
	id, _, err := pq.Create(def, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := pq.Get(id, nil)
	if err != nil || len(got) != 1 || got[0].Name != "web-stable" || got[0].Service.Tags[0] != "!canary" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	list, _, err := pq.List(nil)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("list = %+v, %v", list, err)
	}

	// Critical web-3 is out, warning web-2 in, canary web-4 excluded
	// (case-insensitively); by ID and by name alike.
	for _, key := range []string{id, "web-stable"} {
		if ids := executedIDs(t, c, key); strings.Join(ids, ",") != "web-1,web-2" {
			t.Fatalf("execute %s = %v", key, ids)
		}
	}
	resp, _, err := pq.Execute("web-stable", nil)
	if err != nil || resp.Service != "web" || resp.Datacenter != "dc1" || resp.DNS.TTL != "10s" || resp.Failovers != 0 {
		t.Fatalf("execute reply = %+v, %v", resp, err)
	}

	// Update: only passing instances, tag v1 required.
	def.ID = id
	def.Service.OnlyPassing = true
	def.Service.Tags = []string{"v1"}
	if _, err := pq.Update(def, nil); err != nil {
		t.Fatal(err)
	}
	if ids := executedIDs(t, c, "web-stable"); strings.Join(ids, ",") != "web-1,web-4" {
		t.Fatalf("after update = %v", ids)
	}
	// IgnoreCheckIDs makes a check's status not count.
	def.Service.IgnoreCheckIDs = []string{"web-3-check"}
	if _, err := pq.Update(def, nil); err != nil {
		t.Fatal(err)
	}
	if ids := executedIDs(t, c, "web-stable"); strings.Join(ids, ",") != "web-1,web-3,web-4" {
		t.Fatalf("with web-3's check ignored = %v", ids)
	}

	if _, err := pq.Delete(id, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pq.Execute("web-stable", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("execute a deleted query: %v", err)
	}
	if list, _, _ := pq.List(nil); len(list) != 0 {
		t.Fatalf("list after delete = %+v", list)
	}
}

// TestPreparedQueryHTTPShapes checks what curl sees: status codes,
// messages naming the field at fault, ?limit and ?near.
func TestPreparedQueryHTTPShapes(t *testing.T) {
	a, c := testAgent(t)
	for i := 1; i <= 5; i++ {
		registerInstance(t, c, fmt.Sprintf("n%d", i), "db", fmt.Sprintf("db-%d", i), nil, api.HealthPassing)
	}
	base := "http://" + a.HTTPAddr()
	r := doHTTP(t, "POST", base+"/v1/query", "", []byte(`{"Name":"db","Service":{"Service":"db"}}`))
	var created struct{ ID string }
	if r.status != 200 || json.Unmarshal(r.body, &created) != nil || created.ID == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/query", `{"Name":"x"}`, 400, "Must provide a Service name to query"},
		{"POST", "/v1/query", `{"Service":{"Service":"db"}}`, 400, "Must be bound to a session"},
		{"POST", "/v1/query", `{"Name":"x","Service":{"Service":"db","Failover":{"NearestN":-1}}}`, 400, "Bad NearestN '-1', must be >= 0"},
		{"POST", "/v1/query", `{"Name":"x","Service":{"Service":"db"},"DNS":{"TTL":"soon"}}`, 400, "Bad DNS TTL 'soon'"},
		{"POST", "/v1/query", `{"Name":"x","Service":{"Service":"db"},"Token":"<hidden>"}`, 400, "redacted token"},
		{"POST", "/v1/query", `{"Name":"db","Service":{"Service":"db"}}`, 400, "Name 'db' aliases an existing query name"},
		{"POST", "/v1/query", `{"Name":"` + created.ID + `","Service":{"Service":"db"}}`, 400, "aliases an existing query ID"},
		{"POST", "/v1/query", `{"Name":"x","Session":"nope","Service":{"Service":"db"}}`, 400, `Invalid session "nope"`},
		{"POST", "/v1/query", `{"Name":"x","Template":{"Type":"weird"},"Service":{"Service":"db"}}`, 400, "weird"},
		{"POST", "/v1/query", `{"Name":"x","Template":{"Type":"name_prefix_match","Regexp":"("},"Service":{"Service":"db"}}`, 400, "Invalid prepared query: Bad Regexp: error parsing regexp"},
		{"POST", "/v1/query", `{"Name":"x","Template":{"Type":"name_prefix_match"},"Service":{"Service":"${name.middle}"}}`, 400, "unknown variable accessed: name.middle"},
		{"POST", "/v1/query", `{"Name":`, 400, "Request decode failed"},
		{"GET", "/v1/query/nope", "", 404, "Query not found"},
		{"GET", "/v1/query/nope/execute", "", 404, "Query not found"},
		{"PUT", "/v1/query/nope", `{"Name":"y","Service":{"Service":"db"}}`, 404, "Cannot modify non-existent prepared query: 'nope'"},
		{"PUT", "/v1/query/db/execute", "", 405, ""},
		{"DELETE", "/v1/query", "", 405, ""},
		{"GET", "/v1/query/db/execute?limit=x", "", 400, "Bad limit"},
	}
	for _, tc := range cases {
		r := doHTTP(t, tc.method, base+tc.path, "", []byte(tc.body))
		if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s %s %s: %d %q, want %d containing %q", tc.method, tc.path, tc.body, r.status, r.body, tc.status, tc.want)
		}
	}

	var out struct {
		Service string
		Nodes   []api.ServiceEntry
	}
	r = doHTTP(t, "GET", base+"/v1/query/db/execute?limit=2&near=n4", "", nil)
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("execute: %d %s", r.status, r.body)
	}
	if len(out.Nodes) != 2 || out.Nodes[0].Node.Node != "n4" {
		t.Fatalf("?limit=2&near=n4 gave %d nodes, first %+v", len(out.Nodes), out.Nodes[0].Node)
	}
	if bytes.Contains(r.body, []byte(`"Index"`)) || bytes.Contains(r.body, []byte("KnownLeader")) {
		t.Fatalf("the reply body carries the query meta: %s", r.body)
	}
}

// TestPreparedQueryTemplate: one name_prefix_match template serves every
// service of a family, its regexp groups and name parts interpolated.
func TestPreparedQueryTemplate(t *testing.T) {
	a, c := testAgent(t)
	services := []string{"geo-db-east", "geo-db-west", "geo-cache-east"}
	for i, s := range services {
		registerInstance(t, c, fmt.Sprintf("n%d", i), s, s+"-1", []string{"primary"}, api.HealthPassing)
		registerInstance(t, c, fmt.Sprintf("n%d", i), s, s+"-2", []string{"replica"}, api.HealthPassing)
	}
	def := &api.PreparedQueryDefinition{
		Name:     "geo-",
		Template: api.QueryTemplate{Type: "name_prefix_match", Regexp: `^geo-(\w+)-(\w+)\.(primary|replica)$`},
		Service:  api.ServiceQuery{Service: "geo-${match(1)}-${match(2)}", Tags: []string{"${match(3)}"}},
	}
	if _, _, err := c.PreparedQuery().Create(def, nil); err != nil {
		t.Fatal(err)
	}
	// A plain query with a longer name wins over the template.
	if _, _, err := c.PreparedQuery().Create(&api.PreparedQueryDefinition{Name: "geo-db-east.primary",
		Service: api.ServiceQuery{Service: "geo-cache-east"}}, nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"geo-db-west.primary":    "geo-db-west-1",
		"geo-db-west.replica":    "geo-db-west-2",
		"geo-cache-east.replica": "geo-cache-east-2",
		"geo-db-east.primary":    "geo-cache-east-1,geo-cache-east-2",
	} {
		if ids := executedIDs(t, c, name); strings.Join(ids, ",") != want {
			t.Errorf("execute %s = %v, want %s", name, ids, want)
		}
	}
	r := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/query/geo-db-west.replica/explain", "", nil)
	var explained struct{ Query api.PreparedQueryDefinition }
	if err := json.Unmarshal(r.body, &explained); err != nil || r.status != 200 ||
		explained.Query.Service.Service != "geo-db-west" || explained.Query.Service.Tags[0] != "replica" {
		t.Fatalf("explain: %d %s", r.status, r.body)
	}
	// The stored template is untouched by rendering.
	stored, _, _ := c.PreparedQuery().List(nil)
	for _, q := range stored {
		if q.Name == "geo-" && q.Service.Service != "geo-${match(1)}-${match(2)}" {
			t.Fatalf("stored template changed: %+v", q.Service)
		}
	}
}

// TestPreparedQueryBoundToSession: a query bound to a session goes with
// it, and survives a save and restore with it.
func TestPreparedQueryBoundToSession(t *testing.T) {
	_, c := testAgent(t)
	registerInstance(t, c, "n1", "web", "web-1", nil, api.HealthPassing)
	sid := createSession(t, c, &api.SessionEntry{})
	bound, _, err := c.PreparedQuery().Create(&api.PreparedQueryDefinition{Session: sid, Service: api.ServiceQuery{Service: "web"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	named, _, err := c.PreparedQuery().Create(&api.PreparedQueryDefinition{Name: "web", Service: api.ServiceQuery{Service: "web"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	archive := saveSnapshot(t, c)
	info, err := snapshot.Inspect(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	counted := false
	for _, rs := range info.Records {
		counted = counted || (rs.Name == "PreparedQuery" && rs.Count == 2)
	}
	if !counted {
		t.Fatalf("inspect does not count 2 prepared queries: %+v", info.Records)
	}

	if _, err := c.Session().Destroy(sid, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PreparedQuery().Get(bound, nil); err == nil {
		t.Fatal("the query outlived its session")
	}
	if err := c.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{bound, named} {
		if got, _, err := c.PreparedQuery().Get(id, nil); err != nil || len(got) != 1 {
			t.Fatalf("query %s after restore: %+v, %v", id, got, err)
		}
	}
	if ids := executedIDs(t, c, bound); len(ids) != 1 {
		t.Fatalf("restored query runs: %v", ids)
	}
}
