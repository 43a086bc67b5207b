package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/consulcompat/consul/structs"
)

// maxSessionBody bounds a session creation body.
const maxSessionBody = 64 * 1024

// lockDelayInSeconds is Consul's rule for a bare LockDelay number: below
// it, the number counts seconds (old clients sent 15 for 15s); at or
// above it, nanoseconds.
const lockDelayInSeconds = 1000

// sessionCreateBody is the JSON of PUT /v1/session/create. LockDelay may
// be a duration string ("15s", as the official client sends "15000ms") or
// a number; Checks is the field older clients send for NodeChecks.
type sessionCreateBody struct {
	Name          string
	Node          string
	LockDelay     json.RawMessage
	Behavior      structs.SessionBehavior
	TTL           string
	Checks        []string
	NodeChecks    []string
	ServiceChecks []structs.ServiceCheck
}

// sessionCreate serves PUT /v1/session/create.
func (a *Agent) sessionCreate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	sess, err := a.decodeSession(req)
	if err != nil {
		return nil, err
	}
	args := structs.SessionRequest{Datacenter: parseDC(req), Op: structs.SessionCreate, Session: *sess,
		WriteRequest: structs.WriteRequest{Token: token(req)}}
	var id string
	if err := a.server.RPC("Session.Apply", &args, &id); err != nil {
		return nil, err
	}
	return map[string]string{"ID": id}, nil
}

// decodeSession reads a creation body over Consul's defaults: this
// agent's node, the serfHealth check, a 15 s lock delay, release.
func (a *Agent) decodeSession(req *http.Request) (*structs.Session, error) {
	body := sessionCreateBody{
		Node:       a.cfg.NodeName,
		Checks:     []string{structs.SerfCheckID},
		NodeChecks: []string{structs.SerfCheckID},
		Behavior:   structs.SessionKeysRelease,
	}
	raw, err := readBody(req, maxSessionBody)
	if err != nil {
		return nil, err
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, badRequest("Request decode failed: %v", err)
		}
	}
	delay, err := parseLockDelay(body.LockDelay)
	if err != nil {
		return nil, badRequest("Request decode failed: %v", err)
	}
	return &structs.Session{Name: body.Name, Node: body.Node, LockDelay: delay, Behavior: body.Behavior,
		TTL: body.TTL, NodeChecks: sessionNodeChecks(body.Checks, body.NodeChecks), ServiceChecks: body.ServiceChecks}, nil
}

// sessionNodeChecks merges the legacy Checks into NodeChecks as Consul
// does: an explicit empty Checks (or NodeChecks) means no node checks,
// the default serfHealth stands unless one of them replaces it, and
// other legacy checks are added to NodeChecks.
func sessionNodeChecks(checks, nodeChecks []string) []string {
	switch {
	case len(checks) == 0:
		return []string{}
	case len(checks) == 1 && checks[0] == structs.SerfCheckID:
		return nodeChecks
	case len(nodeChecks) == 0:
		return []string{}
	}
	merged := append([]string(nil), nodeChecks...)
	for _, c := range checks {
		if !slices.Contains(merged, c) {
			merged = append(merged, c)
		}
	}
	return merged
}

// parseLockDelay reads LockDelay: absent means the default, a string is a
// duration, a number is nanoseconds, and either below 1000 ns counts in
// seconds instead.
func parseLockDelay(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return structs.DefaultLockDelay, nil
	}
	var d time.Duration
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("invalid LockDelay %q: %v", s, err)
		}
	} else {
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, fmt.Errorf("invalid LockDelay %s: want a duration or a number", raw)
		}
		d = time.Duration(n)
	}
	if d < lockDelayInSeconds {
		d *= time.Second
	}
	return d, nil
}

// sessionDestroy serves PUT /v1/session/destroy/<id>.
func (a *Agent) sessionDestroy(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id := strings.TrimPrefix(req.URL.Path, "/v1/session/destroy/")
	if id == "" {
		return nil, badRequest("Missing session")
	}
	args := structs.SessionRequest{Datacenter: parseDC(req), Op: structs.SessionDestroy,
		Session: structs.Session{ID: id}, WriteRequest: structs.WriteRequest{Token: token(req)}}
	var out string
	if err := a.server.RPC("Session.Apply", &args, &out); err != nil {
		return nil, err
	}
	return true, nil
}

// sessionRenew serves PUT /v1/session/renew/<id>.
func (a *Agent) sessionRenew(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := sessionArgs(req, "/v1/session/renew/")
	if err != nil {
		return nil, err
	}
	var out structs.IndexedSessions
	if err := a.server.RPC("Session.Renew", &args, &out); err != nil {
		return nil, err
	}
	if len(out.Sessions) == 0 {
		return nil, fmt.Errorf("%w: Session id '%s' not found", structs.ErrNotFound, args.SessionID)
	}
	return out.Sessions, nil
}

// sessionInfo serves GET /v1/session/info/<id>.
func (a *Agent) sessionInfo(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := sessionArgs(req, "/v1/session/info/")
	if err != nil {
		return nil, err
	}
	return a.sessionRead(w, "Session.Get", &args)
}

// sessionList serves GET /v1/session/list.
func (a *Agent) sessionList(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	return a.sessionRead(w, "Session.List", &structs.DCSpecificRequest{Datacenter: parseDC(req), QueryOptions: opts})
}

// sessionNode serves GET /v1/session/node/<node>.
func (a *Agent) sessionNode(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := nodeArgs(req, "/v1/session/node/")
	if err != nil {
		return nil, err
	}
	return a.sessionRead(w, "Session.NodeSessions", &args)
}

// sessionArgs parses the session ID of a per-session path.
func sessionArgs(req *http.Request, prefix string) (structs.SessionSpecificRequest, error) {
	opts, err := parseQueryOptions(req)
	id := strings.TrimPrefix(req.URL.Path, prefix)
	if err == nil && id == "" {
		err = badRequest("Missing session")
	}
	return structs.SessionSpecificRequest{Datacenter: parseDC(req), SessionID: id, QueryOptions: opts}, err
}

// sessionRead calls a session read and answers its list, [] when empty.
func (a *Agent) sessionRead(w http.ResponseWriter, method string, args interface{}) (interface{}, error) {
	var out structs.IndexedSessions
	if err := a.server.RPC(method, args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	if out.Sessions == nil {
		out.Sessions = structs.Sessions{}
	}
	return out.Sessions, nil
}
