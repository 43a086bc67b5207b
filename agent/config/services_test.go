package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/structs"
)

// webService is what webHCL and webJSON define.
var webService = &structs.ServiceDefinition{
	ID: "web-1", Name: "web", Tags: []string{"v1", "blue"}, Address: "10.0.0.5", Port: 8080,
	Meta: map[string]string{"version": "1.2"}, EnableTagOverride: true,
	Weights: &structs.Weights{Passing: 3, Warning: 1},
	Check: &structs.CheckType{
		CheckID: "web-http", Name: "web health", HTTP: "http://localhost:8080/health", Method: "HEAD",
		Header: map[string][]string{"X-Probe": {"a", "b"}}, TLSSkipVerify: true,
		Interval: 10 * time.Second, Timeout: 2 * time.Second, DeregisterCriticalServiceAfter: 90 * time.Minute,
	},
	Checks: []*structs.CheckType{
		{TTL: 30 * time.Second, Status: "passing", Notes: "app reports"},
		{TCP: "localhost:8080", Interval: 5 * time.Second},
	},
}

// memCheck is the node check of webHCL and webJSON.
var memCheck = &structs.CheckDefinition{CheckType: structs.CheckType{CheckID: "mem", Name: "Memory", TTL: time.Minute}}

const webHCL = `
service {
  name = "web"
  id   = "web-1"
  tags = ["v1", "blue"]
  address = "10.0.0.5"
  port = 8080
  meta {
    version = "1.2"
  }
  enable_tag_override = true
  weights {
    passing = 3
  }
  check {
    id       = "web-http"
    name     = "web health"
    http     = "http://localhost:8080/health"
    method   = "HEAD"
    header {
      X-Probe = ["a", "b"]
    }
    tls_skip_verify = true
    interval = "10s"
    timeout  = "2s"
    deregister_critical_service_after = "90m"
  }
  checks = [
    { ttl = "30s", status = "passing", notes = "app reports" },
    { tcp = "localhost:8080", interval = "5s" },
  ]
}
check {
  id   = "mem"
  name = "Memory"
  ttl  = "1m"
}
`

const webJSON = `{
  "service": {
    "name": "web",
    "id": "web-1",
    "tags": ["v1", "blue"],
    "address": "10.0.0.5",
    "port": 8080,
    "meta": {"version": "1.2"},
    "enable_tag_override": true,
    "weights": {"passing": 3},
    "check": {
      "id": "web-http",
      "name": "web health",
      "http": "http://localhost:8080/health",
      "method": "HEAD",
      "header": {"X-Probe": ["a", "b"]},
      "tls_skip_verify": true,
      "interval": "10s",
      "timeout": "2s",
      "deregister_critical_service_after": "90m"
    },
    "checks": [
      {"ttl": "30s", "status": "passing", "notes": "app reports"},
      {"tcp": "localhost:8080", "interval": "5s"}
    ]
  },
  "checks": [{"id": "mem", "name": "Memory", "ttl": "1m"}]
}`

func TestLoadServicesAndChecks(t *testing.T) {
	cases := []struct {
		name         string
		files        map[string]string
		args         []string
		wantServices []*structs.ServiceDefinition
		wantChecks   []*structs.CheckDefinition
	}{
		{name: "none"},
		{
			name:         "every key in hcl",
			files:        map[string]string{"a.hcl": webHCL},
			args:         []string{"-config-file=@a.hcl"},
			wantServices: []*structs.ServiceDefinition{webService},
			wantChecks:   []*structs.CheckDefinition{memCheck},
		},
		{
			name:         "every key in json",
			files:        map[string]string{"a.json": webJSON},
			args:         []string{"-config-file=@a.json"},
			wantServices: []*structs.ServiceDefinition{webService},
			wantChecks:   []*structs.CheckDefinition{memCheck},
		},
		{
			name:         "json read by the hcl parser",
			files:        map[string]string{"a.hcl": webJSON},
			args:         []string{"-config-file=@a.hcl"},
			wantServices: []*structs.ServiceDefinition{webService},
			wantChecks:   []*structs.CheckDefinition{memCheck},
		},
		{
			name: "services as a list, service repeated, in order",
			files: map[string]string{"a.hcl": `
services = [{ name = "a" }, { name = "b", port = 1 }]
service { name = "c" }
service { name = "d" }
`},
			args: []string{"-config-file=@a.hcl"},
			wantServices: []*structs.ServiceDefinition{
				{Name: "a"}, {Name: "b", Port: 1}, {Name: "c"}, {Name: "d"},
			},
		},
		{
			name:         "json services list",
			files:        map[string]string{"a.json": `{"services": [{"name": "a"}, {"name": "b", "check": {"ttl": "5s"}}]}`},
			args:         []string{"-config-file=@a.json"},
			wantServices: []*structs.ServiceDefinition{{Name: "a"}, {Name: "b", Check: &structs.CheckType{TTL: 5 * time.Second}}},
		},
		{
			name: "services add up across a config dir",
			files: map[string]string{
				"d/1.json": `{"service": {"name": "a"}}`,
				"d/2.hcl":  `service { name = "b" }` + "\n" + `check { name = "c", service_id = "b", ttl = "10s" }`,
			},
			args:         []string{"-config-dir=@d"},
			wantServices: []*structs.ServiceDefinition{{Name: "a"}, {Name: "b"}},
			wantChecks: []*structs.CheckDefinition{
				{ServiceID: "b", CheckType: structs.CheckType{Name: "c", TTL: 10 * time.Second}},
			},
		},
		{
			name:       "check_id is id",
			files:      map[string]string{"a.json": `{"check": {"check_id": "x", "name": "X", "tcp": "h:1", "interval": "1s"}}`},
			args:       []string{"-config-file=@a.json"},
			wantChecks: []*structs.CheckDefinition{{CheckType: structs.CheckType{CheckID: "x", Name: "X", TCP: "h:1", Interval: time.Second}}},
		},
		{
			name:         "a service with only a check, as the json parser flattens it",
			files:        map[string]string{"a.json": `{"service": {"name": "s", "checks": [{"ttl": "1s"}]}}`},
			args:         []string{"-config-file=@a.json"},
			wantServices: []*structs.ServiceDefinition{{Name: "s", Checks: []*structs.CheckType{{TTL: time.Second}}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			got, err := Load(append([]string{"-dev"}, inDir(dir, tc.args)...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got.Services, tc.wantServices) {
				t.Errorf("services\n got %s\nwant %s", dump(got.Services), dump(tc.wantServices))
			}
			if !reflect.DeepEqual(got.Checks, tc.wantChecks) {
				t.Errorf("checks\n got %s\nwant %s", dump(got.Checks), dump(tc.wantChecks))
			}
		})
	}
}

// dump shows a list of pointers by value.
func dump[T any](list []*T) string {
	var parts []string
	for _, p := range list {
		parts = append(parts, fmt.Sprintf("%+v", *p))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestLoadServicesAndChecksErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "service without a name",
			files: map[string]string{"a.hcl": "service {\n  port = 80\n}\n"},
			want:  []string{`config: @/a.hcl: service[0]: Missing service name (line 1)`},
		},
		{
			name:  "unknown service key",
			files: map[string]string{"a.hcl": "service {\n  name = \"a\"\n  prot = 80\n}\n"},
			want:  []string{`unknown key "service[0].prot" (line 3)`},
		},
		{
			name:  "second service of a list named by its index",
			files: map[string]string{"a.json": `{"services": [{"name": "a"}, {"name": "b", "port": "80"}]}`},
			want:  []string{`key "services[1].port": expected an integer, got a string`},
		},
		{
			name:  "http check without interval",
			files: map[string]string{"a.hcl": `service { name = "a", check { http = "http://x/" } }`},
			want:  []string{`service[0].check[0]: invalid check: Interval must be > 0`},
		},
		{
			name:  "ttl and interval",
			files: map[string]string{"a.json": `{"check": {"name": "c", "ttl": "1s", "interval": "1s"}}`},
			want:  []string{`check[0]: invalid check: Interval and TTL cannot be set simultaneously`},
		},
		{
			name:  "check with nothing to run",
			files: map[string]string{"a.json": `{"check": {"name": "c"}}`},
			want:  []string{`check[0]: invalid check: TTL must be > 0 for TTL checks`},
		},
		{
			name:  "bad duration",
			files: map[string]string{"a.hcl": `check { name = "c", ttl = "soon" }`},
			want:  []string{`key "check[0].ttl": "soon" is not a duration`},
		},
		{
			name:  "bad status",
			files: map[string]string{"a.hcl": `check { name = "c", ttl = "1s", status = "ok" }`},
			want:  []string{`Status for checks must 'passing', 'warning', 'critical'`},
		},
		{
			name:  "top-level check without a name",
			files: map[string]string{"a.hcl": `check { id = "c", ttl = "1s" }`},
			want:  []string{`check[0]: Missing check name`},
		},
		{
			name:  "service_id inside a service",
			files: map[string]string{"a.hcl": `service { name = "a", check { ttl = "1s", service_id = "b" } }`},
			want:  []string{`unknown key "service[0].check[0].service_id"`},
		},
		{
			name:  "script check",
			files: map[string]string{"a.hcl": `check { name = "c", args = ["/bin/true"], interval = "1s" }`},
			want:  []string{`key "check[0].args": script checks are not supported by this agent`},
		},
		{
			name:  "services not objects",
			files: map[string]string{"a.json": `{"services": ["web"]}`},
			want:  []string{`key "services": element 0: expected an object, got a string`},
		},
		{
			name:  "bad weights",
			files: map[string]string{"a.hcl": `service { name = "a", weights { passing = 0 } }`},
			want:  []string{`service[0]: Invalid Weights: Passing must be greater than 0`},
		},
		{
			name:  "reserved meta key",
			files: map[string]string{"a.hcl": `service { name = "a", meta { consul-x = "1" } }`},
			want:  []string{`service[0]: Invalid Service Meta: Key prefix "consul-" is reserved`},
		},
		{
			name:  "key set twice in one service",
			files: map[string]string{"a.hcl": "service {\n  name = \"a\"\n  name = \"b\"\n}\n"},
			want:  []string{`key "service[0].name" is set twice (first on line 2)`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			var args []string
			for name := range tc.files {
				args = append(args, "-config-file=@"+name)
			}
			loadFails(t, dir, append([]string{"-dev"}, inDir(dir, args)...), tc.want)
		})
	}
}
