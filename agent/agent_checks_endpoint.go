package agent

import (
	"net/http"
	"strings"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/agent/local"
	"github.com/consulcompat/consul/structs"
)

// agentCheckJSON is a check as /v1/agent/checks shows it (the official
// client's api.AgentCheck, with the fields Consul adds).
type agentCheckJSON struct {
	Node        string
	CheckID     string
	Name        string
	Status      string
	Notes       string
	Output      string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Type        string
	Interval    string
	Timeout     string
	ExposedPort int
	Definition  checkDefinitionJSON
	CreateIndex uint64
	ModifyIndex uint64
}

// checkDefinitionJSON is how a check runs, as Consul shows it in
// Definition (api.HealthCheckDefinition): durations as strings.
type checkDefinitionJSON struct {
	HTTP                           string
	Header                         map[string][]string `json:",omitempty"`
	Method                         string              `json:",omitempty"`
	Body                           string              `json:",omitempty"`
	TLSSkipVerify                  bool
	TCP                            string
	TTL                            string `json:",omitempty"`
	Interval                       string
	Timeout                        string
	DeregisterCriticalServiceAfter string
}

func toAgentCheckJSON(c *structs.HealthCheck, def *structs.CheckType) *agentCheckJSON {
	out := &agentCheckJSON{
		Node: c.Node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes, Output: c.Output,
		ServiceID: c.ServiceID, ServiceName: c.ServiceName, ServiceTags: c.ServiceTags, Type: c.Type,
		Definition: checkDefinitionJSON{Interval: "0s", Timeout: "0s", DeregisterCriticalServiceAfter: "0s"},
	}
	if out.ServiceTags == nil {
		out.ServiceTags = []string{}
	}
	if def != nil {
		if def.Interval > 0 {
			out.Interval = def.Interval.String()
		}
		if def.Timeout > 0 {
			out.Timeout = def.Timeout.String()
		}
		out.Definition = checkDefinitionJSON{
			HTTP: def.HTTP, Header: def.Header, Method: def.Method, Body: def.Body, TLSSkipVerify: def.TLSSkipVerify,
			TCP: def.TCP, Interval: def.Interval.String(), Timeout: def.Timeout.String(),
			DeregisterCriticalServiceAfter: def.DeregisterCriticalServiceAfter.String(),
		}
		if def.TTL > 0 {
			out.Definition.TTL = def.TTL.String()
		}
	}
	return out
}

// vetCheckWrite is Consul's rule for changing a check: service:write on
// its service, or node:write on the node for a node check.
func (a *Agent) vetCheckWrite(z acl.Authorizer, c *structs.HealthCheck) error {
	if c.ServiceID != "" {
		return vetServiceWrite(z, c.ServiceName)
	}
	if !z.NodeWrite(a.cfg.NodeName) {
		return permissionDenied("node:write", a.cfg.NodeName)
	}
	return nil
}

// checkVisible is Consul's rule for reading a check of the agent: read
// on its service, or on the node for a node check.
func (a *Agent) checkVisible(z acl.Authorizer, serviceID, serviceName string) bool {
	if serviceID != "" {
		return z.ServiceRead(serviceName)
	}
	return z.NodeRead(a.cfg.NodeName)
}

// agentChecks serves GET /v1/agent/checks: the agent's checks the token
// may read, by ID.
func (a *Agent) agentChecks(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	tok := token(req)
	authz, err := a.server.ResolveToken(tok)
	if err != nil {
		return nil, err
	}
	defs := a.local.State().CheckDefs()
	all := map[string]*agentCheckJSON{}
	for id, c := range a.local.State().AllChecks() {
		all[id] = toAgentCheckJSON(c, defs[id])
	}
	filtered, err := filterResult(req, all)
	if err != nil {
		return nil, err
	}
	out := filtered.(map[string]*agentCheckJSON)
	total := len(out)
	for id, c := range out {
		if !a.checkVisible(authz, c.ServiceID, c.ServiceName) {
			delete(out, id)
		}
	}
	setFilteredByACLs(w, tok, total != len(out))
	return out, nil
}

// agentCheckRegister serves PUT /v1/agent/check/register
// (api.AgentCheckRegistration).
func (a *Agent) agentCheckRegister(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var body checkJSON
	if err := decodeJSONBody(req, maxAgentBody, &body); err != nil {
		return nil, err
	}
	if body.Name == "" {
		return nil, badRequest("Missing check name")
	}
	if body.Status != "" && !structs.ValidCheckStatus(body.Status) {
		return nil, badRequest("Bad check status")
	}
	ct, err := body.checkType("")
	if err != nil {
		return nil, err
	}
	if body.ID != "" {
		ct.CheckID = body.ID
	}
	if err := ct.Validate(); err != nil {
		return nil, badRequest("Invalid check: %v", err)
	}
	def := &structs.CheckDefinition{ServiceID: body.ServiceID, CheckType: *ct}
	tok := token(req)
	authz, err := a.server.ResolveToken(tok)
	if err != nil {
		return nil, err
	}
	if def.ServiceID != "" {
		if _, err := a.serviceFor(authz, def.ServiceID, true, local.MissingService(def.ServiceID)); err != nil {
			return nil, err
		}
	} else if err := a.vetCheckWrite(authz, &structs.HealthCheck{}); err != nil {
		return nil, err
	}
	// Replacing a check needs write on the one replaced too.
	id := def.CheckID
	if id == "" {
		id = def.Name
	}
	if old, _, ok := a.local.State().Check(id); ok {
		if err := a.vetCheckWrite(authz, old); err != nil {
			return nil, err
		}
	}
	return a.localAnswer(w, a.local.AddCheck(def, tok))
}

// vetCheckUpdate checks that the check is there and that the token may
// write it. A token that may not see the check is told the same whether
// or not it exists, so that IDs cannot be probed: only a token that may
// read the node and every service learns that an ID is unknown (404).
func (a *Agent) vetCheckUpdate(req *http.Request, id string) error {
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return err
	}
	c, _, ok := a.local.State().Check(id)
	switch {
	case ok && a.checkVisible(authz, c.ServiceID, c.ServiceName):
		return a.vetCheckWrite(authz, c)
	case !ok && authz.NodeRead(a.cfg.NodeName) && authz.ServiceReadAll():
		return local.UnknownCheck(id)
	}
	return deniedID("check", id)
}

// agentCheckDeregister serves PUT /v1/agent/check/deregister/<id>.
func (a *Agent) agentCheckDeregister(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id := strings.TrimPrefix(req.URL.Path, "/v1/agent/check/deregister/")
	if err := a.vetCheckUpdate(req, id); err != nil {
		return nil, err
	}
	return a.localAnswer(w, a.local.RemoveCheck(id))
}

// agentCheckPass, agentCheckWarn and agentCheckFail serve PUT
// /v1/agent/check/pass|warn|fail/<id>?note=: the note becomes the
// output of the TTL check.
func (a *Agent) agentCheckPass(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.checkTTLUpdate(w, req, strings.TrimPrefix(req.URL.Path, "/v1/agent/check/pass/"),
		structs.HealthPassing, req.URL.Query().Get("note"))
}

func (a *Agent) agentCheckWarn(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.checkTTLUpdate(w, req, strings.TrimPrefix(req.URL.Path, "/v1/agent/check/warn/"),
		structs.HealthWarning, req.URL.Query().Get("note"))
}

func (a *Agent) agentCheckFail(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.checkTTLUpdate(w, req, strings.TrimPrefix(req.URL.Path, "/v1/agent/check/fail/"),
		structs.HealthCritical, req.URL.Query().Get("note"))
}

// checkUpdateJSON is the body of PUT /v1/agent/check/update/<id>.
type checkUpdateJSON struct {
	Status string
	Output string
}

// agentCheckUpdate serves PUT /v1/agent/check/update/<id>.
func (a *Agent) agentCheckUpdate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var body checkUpdateJSON
	if err := decodeJSONBody(req, maxAgentBody, &body); err != nil {
		return nil, err
	}
	if !structs.ValidCheckStatus(body.Status) {
		return nil, badRequest("Invalid check status: '%s'", body.Status)
	}
	return a.checkTTLUpdate(w, req, strings.TrimPrefix(req.URL.Path, "/v1/agent/check/update/"), body.Status, body.Output)
}

func (a *Agent) checkTTLUpdate(w http.ResponseWriter, req *http.Request, id, status, output string) (interface{}, error) {
	if err := a.vetCheckUpdate(req, id); err != nil {
		return nil, err
	}
	return a.localAnswer(w, a.local.UpdateTTL(id, status, output))
}
