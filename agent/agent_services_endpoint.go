package agent

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/agent/local"
	"github.com/consulcompat/consul/structs"
)

// maxAgentBody bounds a service or check registration body.
const maxAgentBody = 1 << 20

// serviceRegistrationJSON is a service registration as the HTTP API takes
// it (the official client's api.AgentServiceRegistration).
type serviceRegistrationJSON struct {
	ID                string
	Name              string
	Tags              []string
	Port              int
	Address           string
	Meta              map[string]string
	Weights           *structs.Weights
	EnableTagOverride bool
	Check             *checkJSON
	Checks            []*checkJSON

	// Connect, which this agent does not have: given, they are refused.
	Kind    string
	Proxy   json.RawMessage
	Connect json.RawMessage
}

// checkJSON is a check definition as the HTTP API takes it: the official
// client's api.AgentServiceCheck, and api.AgentCheckRegistration, which
// adds ID and ServiceID. Durations are strings ("10s") or nanoseconds.
type checkJSON struct {
	ID        string
	CheckID   string
	Name      string
	Notes     string
	ServiceID string
	Status    string

	TTL                            json.RawMessage
	Interval                       json.RawMessage
	Timeout                        json.RawMessage
	DeregisterCriticalServiceAfter json.RawMessage

	HTTP          string
	Header        map[string][]string
	Method        string
	Body          string
	TLSSkipVerify bool
	TCP           string

	// Kinds of check this agent cannot run: given, they are refused
	// rather than registered as something else.
	ScriptArgs        []string
	Args              []string
	DockerContainerID string
	GRPC              string
	H2PING            string
	UDP               string
	AliasNode         string
	AliasService      string
	OSService         string
}

// parseDuration reads a duration field: a string such as "10s", or a
// number of nanoseconds.
func parseDuration(field string, raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, badRequest("Request decode failed: %s: %q is not a duration such as \"10s\"", field, s)
		}
		return d, nil
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return time.Duration(n), nil
	}
	return 0, badRequest("Request decode failed: %s: expected a duration such as \"10s\", got %s", field, raw)
}

// checkType turns a check definition into the agent's, refusing the
// kinds of check this agent cannot run. field names it in errors ("" for
// the top level of the body).
func (c *checkJSON) checkType(field string) (*structs.CheckType, error) {
	at := func(name string) string {
		if field == "" {
			return name
		}
		return field + "." + name
	}
	for _, k := range []struct{ kind, set string }{
		{"script", strings.Join(append(c.ScriptArgs, c.Args...), " ")},
		{"Docker", c.DockerContainerID},
		{"gRPC", c.GRPC},
		{"H2PING", c.H2PING},
		{"UDP", c.UDP},
		{"alias", c.AliasNode + c.AliasService},
		{"OS service", c.OSService},
	} {
		if k.set != "" {
			return nil, badRequest("Invalid check: %s checks are not supported by this agent", k.kind)
		}
	}
	ct := &structs.CheckType{
		CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes,
		HTTP: c.HTTP, Header: c.Header, Method: c.Method, Body: c.Body, TLSSkipVerify: c.TLSSkipVerify,
		TCP: c.TCP,
	}
	for _, d := range []struct {
		name string
		raw  json.RawMessage
		dst  *time.Duration
	}{
		{"TTL", c.TTL, &ct.TTL},
		{"Interval", c.Interval, &ct.Interval},
		{"Timeout", c.Timeout, &ct.Timeout},
		{"DeregisterCriticalServiceAfter", c.DeregisterCriticalServiceAfter, &ct.DeregisterCriticalServiceAfter},
	} {
		v, err := parseDuration(at(d.name), d.raw)
		if err != nil {
			return nil, err
		}
		*d.dst = v
	}
	return ct, nil
}

// definition turns a registration into the agent's service definition.
func (r *serviceRegistrationJSON) definition() (*structs.ServiceDefinition, error) {
	if r.Kind != "" {
		return nil, badRequest("Invalid service kind %q: Connect is not supported by this agent", r.Kind)
	}
	for _, raw := range []json.RawMessage{r.Proxy, r.Connect} {
		if len(raw) > 0 && string(raw) != "null" {
			return nil, badRequest("Connect is not supported by this agent")
		}
	}
	def := &structs.ServiceDefinition{
		ID: r.ID, Name: r.Name, Tags: r.Tags, Address: r.Address, Port: r.Port, Meta: r.Meta,
		Weights: r.Weights, EnableTagOverride: r.EnableTagOverride,
	}
	if r.Check != nil {
		ct, err := r.Check.checkType("Check")
		if err != nil {
			return nil, err
		}
		def.Check = ct
	}
	for i, c := range r.Checks {
		if c == nil {
			continue
		}
		ct, err := c.checkType(fmt.Sprintf("Checks[%d]", i))
		if err != nil {
			return nil, err
		}
		def.Checks = append(def.Checks, ct)
	}
	return def, nil
}

// agentServiceJSON is a service as /v1/agent/services shows it (the
// official client's api.AgentService).
type agentServiceJSON struct {
	ID                string
	Service           string
	Tags              []string
	Meta              map[string]string
	Port              int
	Address           string
	Weights           structs.Weights
	EnableTagOverride bool
	ContentHash       string `json:",omitempty"`
	Datacenter        string
}

func (a *Agent) agentServiceJSON(s *structs.NodeService) *agentServiceJSON {
	out := &agentServiceJSON{
		ID: s.ID, Service: s.Service, Tags: s.Tags, Meta: s.Meta, Port: s.Port, Address: s.Address,
		Weights: local.WeightsOf(s), EnableTagOverride: s.EnableTagOverride, Datacenter: a.cfg.Datacenter,
	}
	// Consul shows empty lists and maps rather than null.
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.Meta == nil {
		out.Meta = map[string]string{}
	}
	return out
}

// permissionDenied says which permission the token lacks, after
// Consul's "Permission denied" that clients match on.
func permissionDenied(perm, name string) error {
	return fmt.Errorf("%w: token lacks permission '%s' on %q", structs.ErrPermissionDenied, perm, name)
}

func vetServiceWrite(z acl.Authorizer, name string) error {
	if !z.ServiceWrite(name) {
		return permissionDenied("service:write", name)
	}
	return nil
}

// localAnswer ends a handler that changed the local state: on success
// the catalog is brought up to date before the empty 200, as Consul
// does; a failure goes to the usual error mapping.
func (a *Agent) localAnswer(w http.ResponseWriter, err error) (interface{}, error) {
	if err != nil {
		return nil, err
	}
	a.local.SyncChanges()
	return nil, nil
}

// agentServices serves GET /v1/agent/services: the agent's services the
// token may read, by ID.
func (a *Agent) agentServices(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	tok := token(req)
	authz, err := a.server.ResolveToken(tok)
	if err != nil {
		return nil, err
	}
	all := map[string]*agentServiceJSON{}
	for id, s := range a.local.State().AllServices() {
		all[id] = a.agentServiceJSON(s)
	}
	filtered, err := filterResult(req, all)
	if err != nil {
		return nil, err
	}
	out := filtered.(map[string]*agentServiceJSON)
	total := len(out)
	for id, s := range out {
		if !authz.ServiceRead(s.Service) {
			delete(out, id)
		}
	}
	setFilteredByACLs(w, tok, total != len(out))
	return out, nil
}

// setFilteredByACLs sets X-Consul-Results-Filtered-By-ACLs for a token
// that was given, as Consul does, so that the anonymous caller learns
// nothing of what it cannot see.
func setFilteredByACLs(w http.ResponseWriter, tok string, filtered bool) {
	if tok != "" && filtered {
		w.Header().Set("X-Consul-Results-Filtered-By-ACLs", "true")
	}
}

// agentService serves GET /v1/agent/service/<id>, with the content hash
// Consul adds.
func (a *Agent) agentService(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id := strings.TrimPrefix(req.URL.Path, "/v1/agent/service/")
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return nil, err
	}
	svc, err := a.serviceFor(authz, id, false, notFoundf("unknown service ID: %s", id))
	if err != nil {
		return nil, err
	}
	out := a.agentServiceJSON(svc)
	buf, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write(buf)
	out.ContentHash = strconv.FormatUint(h.Sum64(), 16)
	w.Header().Set("X-Consul-ContentHash", out.ContentHash)
	return out, nil
}

// agentServiceRegister serves PUT /v1/agent/service/register
// (?replace-existing-checks removes the service's checks the body does
// not name).
func (a *Agent) agentServiceRegister(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var body serviceRegistrationJSON
	if err := decodeJSONBody(req, maxAgentBody, &body); err != nil {
		return nil, err
	}
	def, err := body.definition()
	if err != nil {
		return nil, err
	}
	if err := def.Validate(); err != nil {
		return nil, badRequest("%v", err)
	}
	tok := token(req)
	authz, err := a.server.ResolveToken(tok)
	if err != nil {
		return nil, err
	}
	svc := def.NodeService()
	if err := vetServiceWrite(authz, svc.Service); err != nil {
		return nil, err
	}
	// Replacing a service needs write on the one replaced too.
	if old, _, ok := a.local.State().Service(svc.ID); ok {
		if err := vetServiceWrite(authz, old.Service); err != nil {
			return nil, err
		}
	}
	q := req.URL.Query()
	replace := has(req, "replace-existing-checks") && (q.Get("replace-existing-checks") == "" || q.Get("replace-existing-checks") == "true")
	return a.localAnswer(w, a.local.AddService(def, tok, replace))
}

// agentServiceDeregister serves PUT /v1/agent/service/deregister/<id>.
func (a *Agent) agentServiceDeregister(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id := strings.TrimPrefix(req.URL.Path, "/v1/agent/service/deregister/")
	if err := a.vetServiceUpdate(req, id); err != nil {
		return nil, err
	}
	return a.localAnswer(w, a.local.RemoveService(id))
}

// vetServiceUpdate checks that the service is there and that the token
// may write it.
func (a *Agent) vetServiceUpdate(req *http.Request, id string) error {
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return err
	}
	_, err = a.serviceFor(authz, id, true, local.UnknownService(id))
	return err
}

// serviceFor returns the agent's service with that ID if the token may
// read it (write, when write is set). A token that may not see the
// service is told the same whether or not it exists, so that IDs cannot
// be probed: only a token that may read every service, and so could list
// them, gets notFound for an unknown ID.
func (a *Agent) serviceFor(z acl.Authorizer, id string, write bool, notFound error) (*structs.NodeService, error) {
	svc, _, ok := a.local.State().Service(id)
	switch {
	case ok && z.ServiceRead(svc.Service):
		if write {
			return svc, vetServiceWrite(z, svc.Service)
		}
		return svc, nil
	case !ok && z.ServiceReadAll():
		return nil, notFound
	}
	return nil, deniedID("service", id)
}

// deniedID refuses a request about an agent service or check the token
// may not see, in words that do not depend on whether it exists.
func deniedID(kind, id string) error {
	return fmt.Errorf("%w: token may not see a %s with ID %q", structs.ErrPermissionDenied, kind, id)
}

// parseEnable reads ?enable= of the maintenance endpoints.
func parseEnable(req *http.Request) (bool, error) {
	if !has(req, "enable") {
		return false, badRequest("Missing value for enable")
	}
	raw := req.URL.Query().Get("enable")
	enable, err := strconv.ParseBool(raw)
	if err != nil {
		return false, badRequest("Invalid value for enable: %q", raw)
	}
	return enable, nil
}

// agentServiceMaintenance serves PUT
// /v1/agent/service/maintenance/<id>?enable=true|false&reason=.
func (a *Agent) agentServiceMaintenance(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id := strings.TrimPrefix(req.URL.Path, "/v1/agent/service/maintenance/")
	if id == "" {
		return nil, badRequest("Missing service ID")
	}
	enable, err := parseEnable(req)
	if err != nil {
		return nil, err
	}
	if err := a.vetServiceUpdate(req, id); err != nil {
		return nil, err
	}
	return a.localAnswer(w, a.local.SetServiceMaintenance(id, enable, req.URL.Query().Get("reason"), token(req)))
}

// agentNodeMaintenance serves PUT /v1/agent/maintenance?enable=&reason=.
func (a *Agent) agentNodeMaintenance(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	enable, err := parseEnable(req)
	if err != nil {
		return nil, err
	}
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return nil, err
	}
	if !authz.NodeWrite(a.cfg.NodeName) {
		return nil, permissionDenied("node:write", a.cfg.NodeName)
	}
	a.local.SetNodeMaintenance(enable, req.URL.Query().Get("reason"), token(req))
	return a.localAnswer(w, nil)
}
