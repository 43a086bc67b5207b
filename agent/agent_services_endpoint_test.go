package agent

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/consul/api"
)

const testNode = "agent-test"

func TestAgentServiceWithTTLCheck(t *testing.T) {
	_, c := testAgent(t, withLocal())
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: "web-1", Name: "web", Tags: []string{"v1"}, Port: 8080, Address: "127.0.0.2",
		Meta:  map[string]string{"version": "1"},
		Check: &api.AgentServiceCheck{TTL: "1s", Status: api.HealthPassing, Notes: "the app reports"},
	})
	if err != nil {
		t.Fatal(err)
	}

	services, err := c.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	want := &api.AgentService{ID: "web-1", Service: "web", Tags: []string{"v1"}, Port: 8080, Address: "127.0.0.2",
		Meta: map[string]string{"version": "1"}, Weights: api.AgentWeights{Passing: 1, Warning: 1}, Datacenter: "dc1"}
	if len(services) != 1 || !reflect.DeepEqual(services["web-1"], want) {
		t.Fatalf("agent services %+v", services["web-1"])
	}
	one, _, err := c.Agent().Service("web-1", nil)
	if err != nil || one.Service != "web" || one.ContentHash == "" {
		t.Fatalf("agent service %+v %v", one, err)
	}
	checks, err := c.Agent().Checks()
	if err != nil {
		t.Fatal(err)
	}
	chk := checks["service:web-1"]
	if chk == nil || chk.Status != api.HealthPassing || chk.Name != "Service 'web' check" || chk.ServiceName != "web" ||
		chk.Type != "ttl" || chk.Node != testNode || chk.Notes != "the app reports" {
		t.Fatalf("agent check %+v", chk)
	}

	// The registration is synced before it answers.
	entries, _, err := c.Health().Service("web", "", false, nil)
	if err != nil || len(entries) != 1 {
		t.Fatalf("health service %+v %v", entries, err)
	}
	if e := entries[0]; e.Node.Node != testNode || e.Service.ID != "web-1" || e.Service.Port != 8080 ||
		!reflect.DeepEqual(e.Service.Tags, []string{"v1"}) {
		t.Fatalf("catalog instance %+v %+v", e.Node, e.Service)
	}

	// Without a report, the TTL runs out; the catalog hears of it.
	testutil.Until(t, 10*time.Second, "TTL expired in the catalog", func() bool {
		hc := catalogCheck(t, c, testNode, "service:web-1")
		return hc != nil && hc.Status == api.HealthCritical && hc.Output == "TTL expired"
	})
	if checks, _ := c.Agent().Checks(); checks["service:web-1"].Status != api.HealthCritical {
		t.Fatalf("agent check after expiry %+v", checks["service:web-1"])
	}
	if passing, _, _ := c.Health().Service("web", "", true, nil); len(passing) != 0 {
		t.Fatalf("a critical instance is listed as passing: %+v", passing)
	}

	if err := c.Agent().PassTTL("service:web-1", "all good"); err != nil {
		t.Fatal(err)
	}
	hc := catalogCheck(t, c, testNode, "service:web-1")
	if hc == nil || hc.Status != api.HealthPassing || hc.Output != "all good" {
		t.Fatalf("catalog check right after PassTTL %+v", hc)
	}
	if err := c.Agent().UpdateTTL("service:web-1", "busy", api.HealthWarning); err != nil {
		t.Fatal(err)
	}
	if hc := catalogCheck(t, c, testNode, "service:web-1"); hc.Status != api.HealthWarning || hc.Output != "busy" {
		t.Fatalf("catalog check after UpdateTTL %+v", hc)
	}
	testutil.Until(t, 10*time.Second, "TTL expired again, with the last output", func() bool {
		hc := catalogCheck(t, c, testNode, "service:web-1")
		return hc.Status == api.HealthCritical && hc.Output == "TTL expired (last output before timeout follows): busy"
	})
}

func TestAgentHTTPCheckFollowsTheServer(t *testing.T) {
	var code atomic.Int32
	code.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("User-Agent") != "Consul Health Check" || r.Header.Get("X-Probe") != "yes" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(int(code.Load()))
		w.Write([]byte("hello " + strings.Repeat("x", 10000)))
	}))
	_, c := testAgent(t, withLocal())
	t.Cleanup(srv.Close)

	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		Name: "api", Port: 9090,
		Check: &api.AgentServiceCheck{CheckID: "api-http", HTTP: srv.URL + "/health", Interval: "1s", Timeout: "2s",
			Header: map[string][]string{"X-Probe": {"yes"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	status := func() (string, string) {
		hc := catalogCheck(t, c, testNode, "api-http")
		if hc == nil {
			return "", ""
		}
		return hc.Status, hc.Output
	}
	testutil.Until(t, 10*time.Second, "HTTP check passing", func() bool { s, _ := status(); return s == api.HealthPassing })
	_, out := status()
	if !strings.HasPrefix(out, "HTTP GET "+srv.URL+"/health: 200 OK Output: hello xxx") || len(out) > 4200 {
		t.Fatalf("output %.120q... (%d bytes)", out, len(out))
	}
	checks, _ := c.Agent().Checks()
	if d := checks["api-http"].Definition; d.HTTP != srv.URL+"/health" || d.IntervalDuration != time.Second || d.TimeoutDuration != 2*time.Second {
		t.Fatalf("definition %+v", d)
	}

	code.Store(http.StatusInternalServerError)
	testutil.Until(t, 10*time.Second, "HTTP check critical on 500", func() bool {
		s, out := status()
		return s == api.HealthCritical && strings.Contains(out, "500 Internal Server Error")
	})
	code.Store(http.StatusTooManyRequests)
	testutil.Until(t, 10*time.Second, "HTTP check warning on 429", func() bool { s, _ := status(); return s == api.HealthWarning })
	srv.Close()
	testutil.Until(t, 10*time.Second, "HTTP check critical when nothing answers", func() bool { s, _ := status(); return s == api.HealthCritical })
}

func TestAgentTCPCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, c := testAgent(t, withLocal())
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()

	err = c.Agent().CheckRegister(&api.AgentCheckRegistration{
		ID: "db-port", Name: "db port",
		AgentServiceCheck: api.AgentServiceCheck{TCP: addr, Interval: "1s", Timeout: "1s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "TCP check passing", func() bool {
		hc := catalogCheck(t, c, testNode, "db-port")
		return hc != nil && hc.Status == api.HealthPassing && hc.Output == "TCP connect "+addr+": Success" && hc.Type == "tcp"
	})
	ln.Close()
	testutil.Until(t, 10*time.Second, "TCP check critical once the listener is gone", func() bool {
		hc := catalogCheck(t, c, testNode, "db-port")
		return hc.Status == api.HealthCritical && strings.Contains(hc.Output, "connection refused")
	})
}

func TestAntiEntropyRepairsTheCatalog(t *testing.T) {
	_, c := testAgent(t, withLocal())
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80,
		Check: &api.AgentServiceCheck{TTL: "1m", Status: api.HealthPassing}})
	if err != nil {
		t.Fatal(err)
	}
	if !catalogHasService(t, c, testNode, "web-1") {
		t.Fatal("the service is not in the catalog after registration")
	}

	// Deleted behind the agent's back: it comes back with its check.
	if _, err := c.Catalog().Deregister(&api.CatalogDeregistration{Node: testNode, ServiceID: "web-1"}, nil); err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "the service is registered again", func() bool {
		hc := catalogCheck(t, c, testNode, "service:web-1")
		return catalogHasService(t, c, testNode, "web-1") && hc != nil && hc.Status == api.HealthPassing
	})

	// Changed behind its back: its own version wins.
	_, err = c.Catalog().Register(&api.CatalogRegistration{Node: testNode, Address: "127.0.0.1", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "web-1", Service: "web", Port: 81}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "the service's port is put back", func() bool {
		n, _, _ := c.Catalog().Node(testNode, nil)
		return n != nil && n.Services["web-1"] != nil && n.Services["web-1"].Port == 80
	})

	// Unknown to the agent, on its node: removed; the leader's own
	// entries stay.
	_, err = c.Catalog().Register(&api.CatalogRegistration{Node: testNode, Address: "127.0.0.1", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "stray", Service: "stray"},
		Check:   &api.AgentCheck{CheckID: "stray-check", Status: api.HealthPassing}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "the stray service and check are removed", func() bool {
		return !catalogHasService(t, c, testNode, "stray") && catalogCheck(t, c, testNode, "stray-check") == nil
	})
	testutil.Until(t, 10*time.Second, "the leader's serfHealth and consul service are there", func() bool {
		return catalogHasService(t, c, testNode, "consul") && catalogCheck(t, c, testNode, "serfHealth") != nil
	})
	time.Sleep(500 * time.Millisecond) // a few more syncs
	if !catalogHasService(t, c, testNode, "consul") || catalogCheck(t, c, testNode, "serfHealth") == nil {
		t.Fatal("anti-entropy removed what the leader owns")
	}
}

func TestAgentDeregisterAndMaintenance(t *testing.T) {
	_, c := testAgent(t, withLocal())
	for _, id := range []string{"web-1", "web-2"} {
		err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: id, Name: "web",
			Checks: api.AgentServiceChecks{{TTL: "1m", Status: api.HealthPassing}, {TTL: "1m", Status: api.HealthPassing}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	checks, _ := c.Agent().Checks()
	if checks["service:web-1:1"] == nil || checks["service:web-1:2"] == nil {
		t.Fatalf("service check IDs %v", keys(checks))
	}

	// Node maintenance: a critical check on the node, then gone.
	if err := c.Agent().EnableNodeMaintenance("upgrading"); err != nil {
		t.Fatal(err)
	}
	hc := catalogCheck(t, c, testNode, "_node_maintenance")
	if hc == nil || hc.Status != api.HealthCritical || hc.Notes != "upgrading" || hc.Name != "Node Maintenance Mode" {
		t.Fatalf("node maintenance check %+v", hc)
	}
	if passing, _, _ := c.Health().Service("web", "", true, nil); len(passing) != 0 {
		t.Fatalf("instances passing in node maintenance: %d", len(passing))
	}
	if err := c.Agent().DisableNodeMaintenance(); err != nil {
		t.Fatal(err)
	}
	if catalogCheck(t, c, testNode, "_node_maintenance") != nil {
		t.Fatal("node maintenance check still in the catalog")
	}
	if passing, _, _ := c.Health().Service("web", "", true, nil); len(passing) != 2 {
		t.Fatalf("instances passing after node maintenance: %d", len(passing))
	}

	// Service maintenance: only that instance.
	if err := c.Agent().EnableServiceMaintenance("web-2", ""); err != nil {
		t.Fatal(err)
	}
	hc = catalogCheck(t, c, testNode, "_service_maintenance:web-2")
	if hc == nil || hc.ServiceID != "web-2" || hc.Status != api.HealthCritical || !strings.HasPrefix(hc.Notes, "Maintenance mode is enabled for this service") {
		t.Fatalf("service maintenance check %+v", hc)
	}
	if passing, _, _ := c.Health().Service("web", "", true, nil); len(passing) != 1 || passing[0].Service.ID != "web-1" {
		t.Fatalf("passing instances in service maintenance %+v", passing)
	}
	if err := c.Agent().DisableServiceMaintenance("web-2"); err != nil {
		t.Fatal(err)
	}
	if catalogCheck(t, c, testNode, "_service_maintenance:web-2") != nil {
		t.Fatal("service maintenance check still in the catalog")
	}

	// Deregistering removes the service and its checks, here and there.
	if err := c.Agent().ServiceDeregister("web-1"); err != nil {
		t.Fatal(err)
	}
	if catalogHasService(t, c, testNode, "web-1") || catalogCheck(t, c, testNode, "service:web-1:1") != nil {
		t.Fatal("web-1 still in the catalog")
	}
	if services, _ := c.Agent().Services(); len(services) != 1 || services["web-2"] == nil {
		t.Fatalf("agent services %v", keys(services))
	}
	if checks, _ := c.Agent().Checks(); len(checks) != 2 {
		t.Fatalf("agent checks %v", keys(checks))
	}
	if err := c.Agent().CheckDeregister("service:web-2:2"); err != nil {
		t.Fatal(err)
	}
	if catalogCheck(t, c, testNode, "service:web-2:2") != nil {
		t.Fatal("deregistered check still in the catalog")
	}

	err := c.Agent().ServiceDeregister("web-1")
	if se, ok := err.(api.StatusError); !ok || se.Code != 404 ||
		se.Body != `Unknown service ID "web-1". Ensure that the service ID is passed, not the service name.` {
		t.Fatalf("deregistering an unknown service: %#v", err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDeregisterCriticalServiceAfter(t *testing.T) {
	_, c := testAgent(t, withLocal())
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "flaky", Name: "flaky",
		Check: &api.AgentServiceCheck{TTL: "200ms", Status: api.HealthPassing, DeregisterCriticalServiceAfter: "300ms"}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "steady", Name: "steady",
		Check: &api.AgentServiceCheck{TTL: "200ms", DeregisterCriticalServiceAfter: "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "the critical service is deregistered", func() bool {
		services, err := c.Agent().Services()
		return err == nil && services["flaky"] == nil && !catalogHasService(t, c, testNode, "flaky")
	})
	if services, _ := c.Agent().Services(); services["steady"] == nil {
		t.Fatal("a service critical for less than its limit was deregistered")
	}
}

func TestAgentServicesFromConfig(t *testing.T) {
	_, c := testAgent(t, withLocal(), withConfig(func(cfg *config.Config) {
		cfg.Services = []*structs.ServiceDefinition{{
			ID: "redis-1", Name: "redis", Port: 6379, Tags: []string{"primary"},
			Check: &structs.CheckType{TTL: time.Minute, Status: structs.HealthPassing},
		}}
		cfg.Checks = []*structs.CheckDefinition{
			{CheckType: structs.CheckType{Name: "disk", TTL: time.Minute, Status: structs.HealthWarning}},
			{ServiceID: "redis-1", CheckType: structs.CheckType{CheckID: "redis-mem", Name: "memory", TTL: time.Minute}},
		}
	}))
	services, err := c.Agent().Services()
	if err != nil || services["redis-1"] == nil || services["redis-1"].Port != 6379 {
		t.Fatalf("services %v %v", keys(services), err)
	}
	checks, _ := c.Agent().Checks()
	if checks["disk"] == nil || checks["disk"].Status != api.HealthWarning || checks["redis-mem"].ServiceName != "redis" {
		t.Fatalf("checks %v", keys(checks))
	}
	testutil.Until(t, 10*time.Second, "config services and checks in the catalog", func() bool {
		disk, mem := catalogCheck(t, c, testNode, "disk"), catalogCheck(t, c, testNode, "redis-mem")
		return catalogHasService(t, c, testNode, "redis-1") && disk != nil && disk.Status == api.HealthWarning &&
			mem != nil && mem.ServiceID == "redis-1"
	})
}

func TestAgentConfigCheckOnUnknownServiceFailsStart(t *testing.T) {
	err := testAgentStartErr(t, withLocal(), withConfig(func(c *config.Config) {
		c.Checks = []*structs.CheckDefinition{{ServiceID: "nope", CheckType: structs.CheckType{Name: "c", TTL: time.Second}}}
	}))
	if !strings.Contains(err.Error(), `ServiceID "nope" does not exist`) {
		t.Fatalf("error %v", err)
	}
}

func TestAgentLocalHTTPErrors(t *testing.T) {
	a, c := testAgent(t, withLocal())
	base := "http://" + a.HTTPAddr()
	if err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{Name: "web",
		Check: &api.AgentServiceCheck{CheckID: "web-tcp", TCP: "127.0.0.1:1", Interval: "1h"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path, body string
		status             int
		text               string
	}{
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Check": {"HTTP": "http://localhost/"}}`, 400,
			"Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or GRPC checks"},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Check": {"TTL": "1s", "Interval": "1s"}}`, 400,
			"Invalid check: Interval and TTL cannot be set simultaneously"},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Checks": [{"TTL": "1s"}, {"TTL": "soon"}]}`, 400,
			`Checks[1].TTL: "soon" is not a duration`},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Check": {"ScriptArgs": ["/bin/true"], "Interval": "1s"}}`, 400,
			"script checks are not supported"},
		{"PUT", "/v1/agent/service/register", `{"Port": 1}`, 400, "Missing service name"},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Port": "80"}`, 400, "Port"},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Address": "0.0.0.0"}`, 400, "Invalid service address"},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Weights": {"Passing": 0}}`, 400, "Invalid Weights"},
		{"PUT", "/v1/agent/service/register", `{"Name": "x", "Check": {"TTL": "1s", "Status": "ok"}}`, 400,
			"Status for checks must 'passing', 'warning', 'critical'"},
		{"PUT", "/v1/agent/service/register", `{"Name": `, 400, "Request decode failed"},
		{"PUT", "/v1/agent/service/register", ``, 400, "Request body is empty"},
		{"GET", "/v1/agent/service/register", ``, 405, ""},
		{"GET", "/v1/agent/service/nope", ``, 404, "unknown service ID: nope"},
		{"PUT", "/v1/agent/service/deregister/nope", ``, 404, `Unknown service ID "nope"`},
		{"PUT", "/v1/agent/check/register", `{"TTL": "1s"}`, 400, "Missing check name"},
		{"PUT", "/v1/agent/check/register", `{"Name": "c", "TTL": "1s", "Status": "up"}`, 400, "Bad check status"},
		{"PUT", "/v1/agent/check/register", `{"Name": "c"}`, 400, "Invalid check: TTL must be > 0 for TTL checks"},
		{"PUT", "/v1/agent/check/register", `{"Name": "c", "TTL": "1s", "ServiceID": "nope"}`, 404, `ServiceID "nope" does not exist`},
		{"PUT", "/v1/agent/check/pass/nope", ``, 404,
			`Unknown check ID "nope". Ensure that the check ID is passed, not the check name.`},
		{"PUT", "/v1/agent/check/deregister/nope", ``, 404, `Unknown check ID "nope"`},
		{"PUT", "/v1/agent/check/update/web-tcp", `{"Status": "fine"}`, 400, "Invalid check status: 'fine'"},
		{"PUT", "/v1/agent/check/update/web-tcp", `{"Status": "passing"}`, 500, `CheckID "web-tcp" does not have associated TTL`},
		{"PUT", "/v1/agent/maintenance", ``, 400, "Missing value for enable"},
		{"PUT", "/v1/agent/maintenance?enable=maybe", ``, 400, `Invalid value for enable: "maybe"`},
		{"PUT", "/v1/agent/service/maintenance/nope?enable=true", ``, 404, `Unknown service ID "nope"`},
		{"PUT", "/v1/agent/service/maintenance/web", ``, 400, "Missing value for enable"},
	}
	for _, tc := range cases {
		res := doHTTP(t, tc.method, base+tc.path, "", []byte(tc.body))
		if res.status != tc.status || !strings.Contains(string(res.body), tc.text) {
			t.Errorf("%s %s %s: %d %q, want %d containing %q", tc.method, tc.path, tc.body, res.status, res.body, tc.status, tc.text)
		}
	}
	if services, _ := c.Agent().Services(); len(services) != 1 {
		t.Fatalf("a refused registration left services: %v", keys(services))
	}
}

func TestAgentServicesACL(t *testing.T) {
	a, root := testAgent(t, withLocal(), withACLs(), withConfig(func(c *config.Config) { c.ACL.Tokens.Agent = rootSecret }))
	webWriter := clientWithToken(t, a, tokenWithRules(t, root, "web-write", `service "web" { policy = "write" }`))
	dbReader := clientWithToken(t, a, tokenWithRules(t, root, "db-read", `service "db" { policy = "read" }`))

	if err := webWriter.Agent().ServiceRegister(&api.AgentServiceRegistration{Name: "db"}); !is403(err) {
		t.Fatalf("registering db without service:write on it: %v", err)
	}
	if err := webWriter.Agent().ServiceRegister(&api.AgentServiceRegistration{Name: "web",
		Check: &api.AgentServiceCheck{TTL: "1m"}}); err != nil {
		t.Fatal(err)
	}
	if err := root.Agent().ServiceRegister(&api.AgentServiceRegistration{Name: "db"}); err != nil {
		t.Fatal(err)
	}
	if err := webWriter.Agent().CheckRegister(&api.AgentCheckRegistration{Name: "node-check",
		AgentServiceCheck: api.AgentServiceCheck{TTL: "1m"}}); !is403(err) {
		t.Fatalf("a node check without node:write: %v", err)
	}
	if err := webWriter.Agent().EnableNodeMaintenance(""); !is403(err) {
		t.Fatalf("node maintenance without node:write: %v", err)
	}
	if err := webWriter.Agent().ServiceDeregister("db"); !is403(err) {
		t.Fatalf("deregistering db without service:write on it: %v", err)
	}
	if err := webWriter.Agent().PassTTL("service:web", ""); err != nil {
		t.Fatal(err)
	}
	if err := dbReader.Agent().PassTTL("service:web", ""); !is403(err) {
		t.Fatalf("passing web's check with a db read token: %v", err)
	}

	services, err := dbReader.Agent().Services()
	if err != nil || len(services) != 1 || services["db"] == nil {
		t.Fatalf("services a db reader sees: %v %v", keys(services), err)
	}
	res := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/agent/services", "", nil)
	if res.status != 200 || strings.TrimSpace(string(res.body)) != "{}" {
		t.Fatalf("anonymous services: %d %s", res.status, res.body)
	}
	if _, _, err := dbReader.Agent().Service("web", nil); !is403(err) {
		t.Fatalf("reading web with a db read token: %v", err)
	}
	checks, err := dbReader.Agent().Checks()
	if err != nil || len(checks) != 0 {
		t.Fatalf("checks a db reader sees: %v %v", keys(checks), err)
	}
	if all, _ := root.Agent().Checks(); len(all) != 1 {
		t.Fatalf("checks the root token sees: %v", keys(all))
	}
	// The agent token syncs them.
	testutil.Until(t, 10*time.Second, "services synced with the agent token", func() bool {
		return catalogHasService(t, root, testNode, "web") && catalogHasService(t, root, testNode, "db")
	})
}

func TestAgentShutdownStopsEveryCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, c := testAgent(t, withLocal(), withConfig(func(c *config.Config) {
		c.Services = []*structs.ServiceDefinition{{Name: "s", Checks: []*structs.CheckType{
			{TTL: time.Minute}, {HTTP: srv.URL, Interval: time.Second}, {TCP: ln.Addr().String(), Interval: time.Second},
		}}}
	}))
	testutil.Until(t, 10*time.Second, "checks running and synced", func() bool {
		hc := catalogCheck(t, c, testNode, "service:s:2")
		return hc != nil && hc.Status == api.HealthPassing
	})
	if err := c.Agent().CheckRegister(&api.AgentCheckRegistration{Name: "extra",
		AgentServiceCheck: api.AgentServiceCheck{TCP: ln.Addr().String(), Interval: "1s"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

func TestAgentReRegistrationAndTagOverride(t *testing.T) {
	_, c := testAgent(t, withLocal())
	reg := &api.AgentServiceRegistration{ID: "web-1", Name: "web", Tags: []string{"a"}, EnableTagOverride: true,
		Checks: api.AgentServiceChecks{{CheckID: "one", TTL: "1m"}, {CheckID: "two", TTL: "1m"}}}
	if err := c.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	if err := c.Agent().PassTTL("one", "fine"); err != nil {
		t.Fatal(err)
	}

	// Registering again keeps a check's status; replace-existing-checks
	// drops the checks no longer named.
	reg.Checks = api.AgentServiceChecks{{CheckID: "one", TTL: "1m"}}
	if err := c.Agent().ServiceRegisterOpts(reg, api.ServiceRegisterOpts{ReplaceExistingChecks: true}); err != nil {
		t.Fatal(err)
	}
	checks, _ := c.Agent().Checks()
	if len(checks) != 1 || checks["one"].Status != api.HealthPassing || checks["one"].Output != "fine" {
		t.Fatalf("checks after re-registration %v %+v", keys(checks), checks["one"])
	}
	if catalogCheck(t, c, testNode, "two") != nil {
		t.Fatal("the dropped check is still in the catalog")
	}

	// With EnableTagOverride, tags changed in the catalog are taken, not
	// put back.
	_, err := c.Catalog().Register(&api.CatalogRegistration{Node: testNode, Address: "127.0.0.1", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "web-1", Service: "web", Tags: []string{"b"}, EnableTagOverride: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "the agent takes the catalog's tags", func() bool {
		s, _, err := c.Agent().Service("web-1", nil)
		return err == nil && reflect.DeepEqual(s.Tags, []string{"b"})
	})
	n, _, _ := c.Catalog().Node(testNode, nil)
	if !reflect.DeepEqual(n.Services["web-1"].Tags, []string{"b"}) {
		t.Fatalf("catalog tags %v", n.Services["web-1"].Tags)
	}

	// ?filter= works on the agent's lists as on the catalog's.
	if err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{Name: "db", Port: 5432}); err != nil {
		t.Fatal(err)
	}
	only, err := c.Agent().ServicesWithFilter(`Port == 5432`)
	if err != nil || len(only) != 1 || only["db"] == nil {
		t.Fatalf("filtered services %v %v", keys(only), err)
	}
	onlyChecks, err := c.Agent().ChecksWithFilter(`ServiceName == "web"`)
	if err != nil || len(onlyChecks) != 1 {
		t.Fatalf("filtered checks %v %v", keys(onlyChecks), err)
	}
}

// TestAgentIDsCannotBeProbed: a token that may not see a service or check
// of the agent gets the same answer for its ID as for an ID that does not
// exist, on every endpoint that takes one; only a token that may read
// every service (and the node, for checks) is told that an ID is unknown.
func TestAgentIDsCannotBeProbed(t *testing.T) {
	a, root := testAgent(t, withLocal(), withACLs(), withConfig(func(c *config.Config) { c.ACL.Tokens.Agent = rootSecret }))
	if err := root.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "secret-1", Name: "secret",
		Check: &api.AgentServiceCheck{CheckID: "secret-alive", TTL: "1m"}}); err != nil {
		t.Fatal(err)
	}
	if err := root.Agent().CheckRegister(&api.AgentCheckRegistration{ID: "disk", Name: "disk",
		AgentServiceCheck: api.AgentServiceCheck{TTL: "1m"}}); err != nil {
		t.Fatal(err)
	}
	webWriter := tokenWithRules(t, root, "web-write", `service "web" { policy = "write" }`)
	reader := tokenWithRules(t, root, "all-read", `service_prefix "" { policy = "read" }`+"\n"+`node_prefix "" { policy = "read" }`)

	base := "http://" + a.HTTPAddr()
	probes := []struct {
		method, known, unknown string
		body                   string
	}{
		{"PUT", "/v1/agent/service/deregister/secret-1", "/v1/agent/service/deregister/nope", ""},
		{"PUT", "/v1/agent/service/maintenance/secret-1?enable=true", "/v1/agent/service/maintenance/nope?enable=true", ""},
		{"GET", "/v1/agent/service/secret-1", "/v1/agent/service/nope", ""},
		{"PUT", "/v1/agent/check/deregister/secret-alive", "/v1/agent/check/deregister/nope", ""},
		{"PUT", "/v1/agent/check/deregister/disk", "/v1/agent/check/deregister/nope", ""},
		{"PUT", "/v1/agent/check/pass/secret-alive", "/v1/agent/check/pass/nope", ""},
		{"PUT", "/v1/agent/check/update/disk", "/v1/agent/check/update/nope", `{"Status":"passing"}`},
		{"PUT", "/v1/agent/check/register", "/v1/agent/check/register",
			`{"Name":"x","ServiceID":"secret-1","TTL":"1m"}` + "\x00" + `{"Name":"x","ServiceID":"nope","TTL":"1m"}`},
	}
	for _, p := range probes {
		knownBody, unknownBody, _ := strings.Cut(p.body, "\x00")
		if unknownBody == "" {
			unknownBody = knownBody
		}
		for _, secret := range []string{"", webWriter} {
			known := doHTTP(t, p.method, base+p.known, secret, []byte(knownBody))
			unknown := doHTTP(t, p.method, base+p.unknown, secret, []byte(unknownBody))
			known.body = bytes.ReplaceAll(known.body, []byte("secret-1"), []byte("ID"))
			known.body = bytes.ReplaceAll(known.body, []byte("secret-alive"), []byte("ID"))
			known.body = bytes.ReplaceAll(known.body, []byte("disk"), []byte("ID"))
			unknown.body = bytes.ReplaceAll(unknown.body, []byte("nope"), []byte("ID"))
			if known.status != 403 || unknown.status != known.status || !bytes.Equal(known.body, unknown.body) {
				t.Errorf("%s %s vs %s with token %q: %d %q vs %d %q: the answers tell the IDs apart",
					p.method, p.known, p.unknown, secret, known.status, known.body, unknown.status, unknown.body)
			}
		}
		// A token that may read everything learns nothing new from a 404.
		if res := doHTTP(t, p.method, base+p.unknown, reader, []byte(unknownBody)); res.status != 404 {
			t.Errorf("%s %s with a read-everything token: %d %s, want 404", p.method, p.unknown, res.status, res.body)
		}
	}
	if _, _, err := root.Agent().Service("secret-1", nil); err != nil {
		t.Fatalf("the probes changed the service: %v", err)
	}
}
