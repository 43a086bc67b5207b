package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/gorilla/mux"
)

// endpoint is an HTTP handler that returns a value to encode as JSON (or
// nil when it wrote the response itself) or an error to map to a status.
type endpoint func(resp http.ResponseWriter, req *http.Request) (interface{}, error)

// handler builds the router. Paths and methods are Consul's.
func (a *Agent) handler() http.Handler {
	r := mux.NewRouter()
	// KV keys may hold "//" and trailing slashes; cleaning would change them.
	r.SkipClean(true)
	handle := func(path string, prefix bool, fn endpoint, methods ...string) {
		h := a.wrap(fn, methods)
		if prefix {
			r.PathPrefix(path).Handler(h)
		} else {
			r.Handle(path, h)
		}
	}
	handle("/v1/kv/", true, a.kvEndpoint, "GET", "PUT", "DELETE")
	handle("/v1/txn", false, a.txnEndpoint, "PUT")
	handle("/v1/status/leader", false, a.statusLeader, "GET")
	handle("/v1/status/peers", false, a.statusPeers, "GET")
	handle("/v1/agent/self", false, a.agentSelf, "GET")
	handle("/v1/agent/members", false, a.agentMembers, "GET")
	handle("/v1/agent/join/", true, a.agentJoin, "PUT")
	handle("/v1/agent/leave", false, a.agentLeave, "PUT")
	handle("/v1/agent/services", false, a.agentServices, "GET")
	handle("/v1/agent/service/register", false, a.agentServiceRegister, "PUT")
	handle("/v1/agent/service/deregister/", true, a.agentServiceDeregister, "PUT")
	handle("/v1/agent/service/maintenance/", true, a.agentServiceMaintenance, "PUT")
	handle("/v1/agent/service/", true, a.agentService, "GET")
	handle("/v1/agent/checks", false, a.agentChecks, "GET")
	handle("/v1/agent/check/register", false, a.agentCheckRegister, "PUT")
	handle("/v1/agent/check/deregister/", true, a.agentCheckDeregister, "PUT")
	handle("/v1/agent/check/pass/", true, a.agentCheckPass, "PUT")
	handle("/v1/agent/check/warn/", true, a.agentCheckWarn, "PUT")
	handle("/v1/agent/check/fail/", true, a.agentCheckFail, "PUT")
	handle("/v1/agent/check/update/", true, a.agentCheckUpdate, "PUT")
	handle("/v1/agent/maintenance", false, a.agentNodeMaintenance, "PUT")
	handle("/v1/snapshot", false, a.snapshotEndpoint, "GET", "PUT")
	handle("/v1/acl/bootstrap", false, a.aclBootstrap, "PUT")
	handle("/v1/acl/token", false, a.aclTokenCreate, "PUT")
	handle("/v1/acl/token/", true, a.aclTokenByID, "GET", "PUT", "DELETE")
	handle("/v1/acl/tokens", false, a.aclTokenList, "GET")
	handle("/v1/acl/policy", false, a.aclPolicyCreate, "PUT")
	handle("/v1/acl/policy/", true, a.aclPolicyByID, "GET", "PUT", "DELETE")
	handle("/v1/acl/policies", false, a.aclPolicyList, "GET")
	handle("/v1/acl/role", false, a.aclRoleCreate, "PUT")
	handle("/v1/acl/role/", true, a.aclRoleByID, "GET", "PUT", "DELETE")
	handle("/v1/acl/roles", false, a.aclRoleList, "GET")
	handle("/v1/catalog/register", false, a.catalogRegister, "PUT")
	handle("/v1/catalog/deregister", false, a.catalogDeregister, "PUT")
	handle("/v1/catalog/datacenters", false, a.catalogDatacenters, "GET")
	handle("/v1/catalog/nodes", false, a.catalogNodes, "GET")
	handle("/v1/catalog/services", false, a.catalogServices, "GET")
	handle("/v1/catalog/service/", true, a.catalogService, "GET")
	handle("/v1/catalog/node/", true, a.catalogNode, "GET")
	handle("/v1/catalog/node-services/", true, a.catalogNodeServices, "GET")
	handle("/v1/health/node/", true, a.healthNode, "GET")
	handle("/v1/health/checks/", true, a.healthChecks, "GET")
	handle("/v1/health/service/", true, a.healthService, "GET")
	handle("/v1/health/state/", true, a.healthState, "GET")
	handle("/v1/session/create", false, a.sessionCreate, "PUT")
	handle("/v1/session/destroy/", true, a.sessionDestroy, "PUT")
	handle("/v1/session/renew/", true, a.sessionRenew, "PUT")
	handle("/v1/session/info/", true, a.sessionInfo, "GET")
	handle("/v1/session/node/", true, a.sessionNode, "GET")
	handle("/v1/session/list", false, a.sessionList, "GET")
	handle("/v1/query", false, a.queryRoot, "GET", "POST")
	handle("/v1/query/", true, a.querySpecific, "GET", "PUT", "DELETE")
	handle("/v1/operator/raft/configuration", false, a.raftConfiguration, "GET")
	handle("/v1/operator/raft/peer", false, a.raftRemovePeer, "DELETE")
	a.handleDebug(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Error(w, fmt.Sprintf("Unknown path %q", req.URL.Path), http.StatusNotFound)
	})
	return r
}

// wrap checks the method, runs fn and writes its result or its error.
func (a *Agent) wrap(fn endpoint, methods []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !methodAllowed(req.Method, methods) {
			methodNotAllowed(w, req, methods...)
			return
		}
		out, err := fn(w, req)
		if err != nil {
			a.writeError(w, req, err)
			return
		}
		if out != nil {
			writeJSON(w, http.StatusOK, out)
		}
	})
}

// methodNotAllowed answers 405 with an Allow header. It returns nil, so a
// handler that found a sub-path's method wrong can return it as its error.
func methodNotAllowed(w http.ResponseWriter, req *http.Request, allowed ...string) error {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	http.Error(w, fmt.Sprintf("method %s not allowed", req.Method), http.StatusMethodNotAllowed)
	return nil
}

func methodAllowed(m string, allowed []string) bool {
	for _, a := range allowed {
		if m == a {
			return true
		}
	}
	return false
}

// writeJSON writes v as indented JSON, as Consul does.
func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	buf, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf)
}

// errorStatus is the one place that maps errors to HTTP status codes.
func errorStatus(err error) int {
	switch {
	case errors.Is(err, structs.ErrBadRequest), errors.Is(err, structs.ErrSnapshotCorrupt):
		return http.StatusBadRequest
	case errors.Is(err, structs.ErrTooLarge), errors.Is(err, structs.ErrSnapshotTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, structs.ErrPermissionDenied), errors.Is(err, structs.ErrACLNotFound):
		return http.StatusForbidden
	case errors.Is(err, structs.ErrACLDisabled):
		return http.StatusUnauthorized
	case errors.Is(err, structs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, structs.ErrDiskFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, structs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, structs.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorText is the message shown to the user, without the sentinel
// prefixes that only exist to carry the status code.
func errorText(err error) string {
	msg := err.Error()
	for _, s := range []error{structs.ErrBadRequest, structs.ErrTooLarge, structs.ErrNotFound, structs.ErrConflict, structs.ErrUnavailable} {
		msg = strings.TrimPrefix(msg, s.Error()+": ")
	}
	return msg
}

func (a *Agent) writeError(w http.ResponseWriter, req *http.Request, err error) {
	status := errorStatus(err)
	if status == http.StatusInternalServerError {
		a.logger.Error("request failed", "method", req.Method, "path", req.URL.Path, "error", err)
	}
	http.Error(w, errorText(err), status)
}

// badRequest makes an input error with Consul's text.
func badRequest(format string, args ...interface{}) error {
	return fmt.Errorf("%w: %s", structs.ErrBadRequest, fmt.Sprintf(format, args...))
}

// notFoundf is an error the HTTP API answers with 404 and its text.
func notFoundf(format string, args ...interface{}) error {
	return fmt.Errorf("%w: %s", structs.ErrNotFound, fmt.Sprintf(format, args...))
}

// token finds the ACL token: X-Consul-Token, then Authorization: Bearer,
// then ?token=, as Consul orders them.
func token(req *http.Request) string {
	if t := req.Header.Get("X-Consul-Token"); t != "" {
		return t
	}
	if auth := req.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(auth, "Bearer "))
	}
	return req.URL.Query().Get("token")
}

// has tells whether a flag-like query parameter is present (?recurse).
func has(req *http.Request, name string) bool {
	_, ok := req.URL.Query()[name]
	return ok
}

// parseDC returns ?dc.
func parseDC(req *http.Request) string {
	return req.URL.Query().Get("dc")
}

// parseQueryOptions reads the options every read endpoint accepts.
func parseQueryOptions(req *http.Request) (structs.QueryOptions, error) {
	q := req.URL.Query()
	opts := structs.QueryOptions{
		Token:             token(req),
		AllowStale:        has(req, "stale"),
		RequireConsistent: has(req, "consistent"),
	}
	if opts.AllowStale && opts.RequireConsistent {
		return opts, badRequest("Cannot specify ?stale with ?consistent, conflicting semantics.")
	}
	if v := q.Get("index"); v != "" {
		idx, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return opts, badRequest("Invalid index")
		}
		opts.MinQueryIndex = idx
	}
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return opts, badRequest("Invalid wait time")
		}
		opts.MaxQueryTime = d
	}
	return opts, nil
}

// readBody reads a request body of at most max bytes; a larger one is
// refused before it is read whole.
func readBody(req *http.Request, max int64) ([]byte, error) {
	tooLarge := func(n int64) error {
		return fmt.Errorf("%w: Request body(%d bytes) too large, max size: %d bytes", structs.ErrTooLarge, n, max)
	}
	if req.ContentLength > max {
		return nil, tooLarge(req.ContentLength)
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, max+1))
	if err != nil {
		return nil, badRequest("reading request body: %v", err)
	}
	if int64(len(buf)) > max {
		return nil, tooLarge(int64(len(buf)))
	}
	return buf, nil
}

// decodeJSONBody reads a JSON body of at most max bytes into v; an empty
// or malformed body is a 400, a larger one a 413.
func decodeJSONBody(req *http.Request, max int64, v interface{}) error {
	body, err := readBody(req, max)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return badRequest("Request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("Request decode failed: %v", err)
	}
	return nil
}

// parseNodeMeta reads the repeatable ?node-meta=key:value.
func parseNodeMeta(req *http.Request) (map[string]string, error) {
	values := req.URL.Query()["node-meta"]
	if len(values) == 0 {
		return nil, nil
	}
	meta := make(map[string]string, len(values))
	for _, v := range values {
		k, val, ok := strings.Cut(v, ":")
		if !ok || k == "" {
			return nil, badRequest("Invalid node-meta %q: use key:value", v)
		}
		meta[k] = val
	}
	return meta, nil
}

// readArgs parses what every catalog and health read takes.
func readArgs(req *http.Request) (structs.QueryOptions, map[string]string, error) {
	opts, err := parseQueryOptions(req)
	if err != nil {
		return opts, nil, err
	}
	meta, err := parseNodeMeta(req)
	return opts, meta, err
}

// nodeArgs parses the node name of a per-node path.
func nodeArgs(req *http.Request, prefix string) (structs.NodeSpecificRequest, error) {
	opts, err := parseQueryOptions(req)
	node := strings.TrimPrefix(req.URL.Path, prefix)
	if err == nil && node == "" {
		err = badRequest("Missing node name")
	}
	return structs.NodeSpecificRequest{Datacenter: parseDC(req), Node: node, QueryOptions: opts}, err
}

// serviceArgs parses /v1/catalog/service/<name> and /v1/health/service/<name>.
func serviceArgs(req *http.Request, prefix string) (structs.ServiceSpecificRequest, error) {
	opts, meta, err := readArgs(req)
	name := strings.TrimPrefix(req.URL.Path, prefix)
	if err == nil && name == "" {
		err = badRequest("Missing service name")
	}
	return structs.ServiceSpecificRequest{Datacenter: parseDC(req), ServiceName: name,
		ServiceTags: req.URL.Query()["tag"], NodeMeta: meta, OnlyPassing: has(req, "passing"), QueryOptions: opts}, err
}

// setMeta writes the headers of every read reply.
func setMeta(w http.ResponseWriter, m *structs.QueryMeta) {
	setIndex(w, m.Index)
	if m.ResultsFilteredByACLs {
		w.Header().Set("X-Consul-Results-Filtered-By-ACLs", "true")
	}
	w.Header().Set("X-Consul-KnownLeader", strconv.FormatBool(m.KnownLeader))
	w.Header().Set("X-Consul-LastContact", strconv.FormatInt(m.LastContact.Milliseconds(), 10))
}

func setIndex(w http.ResponseWriter, index uint64) {
	w.Header().Set("X-Consul-Index", strconv.FormatUint(index, 10))
}
