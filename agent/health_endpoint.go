package agent

import (
	"net/http"
	"strings"

	"github.com/consulcompat/consul/structs"
)

// healthNode serves GET /v1/health/node/<node>.
func (a *Agent) healthNode(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := nodeArgs(req, "/v1/health/node/")
	if err != nil {
		return nil, err
	}
	var out structs.IndexedHealthChecks
	if err := a.server.RPC("Health.NodeChecks", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return filterResult(req, out.HealthChecks)
}

// healthChecks serves GET /v1/health/checks/<service>.
func (a *Agent) healthChecks(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := serviceArgs(req, "/v1/health/checks/")
	if err != nil {
		return nil, err
	}
	var out structs.IndexedHealthChecks
	if err := a.server.RPC("Health.ServiceChecks", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return filterResult(req, out.HealthChecks)
}

// healthService serves GET /v1/health/service/<service> (?passing, ?tag).
func (a *Agent) healthService(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := serviceArgs(req, "/v1/health/service/")
	if err != nil {
		return nil, err
	}
	var out structs.IndexedCheckServiceNodes
	if err := a.server.RPC("Health.ServiceNodes", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return filterResult(req, out.Nodes)
}

// healthState serves GET /v1/health/state/<state>.
func (a *Agent) healthState(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	opts, meta, err := readArgs(req)
	if err != nil {
		return nil, err
	}
	args := structs.ChecksInStateRequest{Datacenter: parseDC(req), State: strings.TrimPrefix(req.URL.Path, "/v1/health/state/"),
		NodeMeta: meta, QueryOptions: opts}
	var out structs.IndexedHealthChecks
	if err := a.server.RPC("Health.ChecksInState", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return filterResult(req, out.HealthChecks)
}
