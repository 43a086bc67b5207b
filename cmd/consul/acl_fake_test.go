package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// fakeACL is a stand-in for the agent's /v1/acl endpoints, keeping tokens,
// policies and roles in maps, so that the acl commands' requests and
// output can be tested without a server. It is a double of the HTTP peer
// only: the real ACL endpoints are tested in agent/ and consul/.
type fakeACL struct {
	*httptest.Server

	mu           sync.Mutex
	tokens       map[string]*api.ACLToken  // by accessor ID
	policies     map[string]*api.ACLPolicy // by ID
	roles        map[string]*api.ACLRole   // by ID
	seq          int
	bootstrapped bool
	// required, when set, is the only token secret the endpoints accept
	// (bootstrap aside); others get 403 Permission denied.
	required string
	requests []aclRequest
}

// aclRequest is a request the fake received.
type aclRequest struct {
	method, path string
	query        url.Values
	token        string
	body         []byte
}

// decode unmarshals the request's body into v.
func (r aclRequest) decode(t *testing.T, v interface{}) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: body %q: %v", r.method, r.path, r.body, err)
	}
}

// fields returns the top-level JSON keys of the request's body.
func (r aclRequest) fields(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	r.decode(t, &m)
	return m
}

// aclCreateTime is every object's creation time, for stable output.
var aclCreateTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// aclHash is every object's content hash; "6162636465666768" in hex.
var aclHash = []byte("abcdefgh")

func newFakeACL(t *testing.T) *fakeACL {
	t.Helper()
	f := &fakeACL{
		tokens:   make(map[string]*api.ACLToken),
		policies: make(map[string]*api.ACLPolicy),
		roles:    make(map[string]*api.ACLRole),
	}
	// What every Consul cluster holds from the start.
	f.policies[aclGlobalManagementPolicyID] = &api.ACLPolicy{
		ID: aclGlobalManagementPolicyID, Name: "global-management",
		Description: "Builtin Policy that grants unlimited access",
		Rules:       "acl = \"write\"", Hash: aclHash, CreateIndex: 1, ModifyIndex: 1,
	}
	f.tokens[aclAnonymousTokenID] = &api.ACLToken{
		AccessorID: aclAnonymousTokenID, SecretID: "anonymous",
		Description: "Anonymous Token", CreateTime: aclCreateTime, Hash: aclHash,
		CreateIndex: 2, ModifyIndex: 2,
	}
	f.seq = 2
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// nextID returns a new UUID-shaped ID. Its first 8 characters tell it
// from every other ID, so that tests can use them as a unique prefix;
// "0000000" is a prefix of them all.
func (f *fakeACL) nextID() string {
	f.seq++
	return fmt.Sprintf("%08d-1111-4222-8333-%012d", f.seq, f.seq)
}

// last returns the last request received.
func (f *fakeACL) last(t *testing.T) aclRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request reached the server")
	}
	return f.requests[len(f.requests)-1]
}

// count returns the number of requests received so far.
func (f *fakeACL) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// find returns the last request with the method and path.
func (f *fakeACL) find(t *testing.T, method, path string) aclRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if r := f.requests[i]; r.method == method && r.path == path {
			return r
		}
	}
	t.Fatalf("no %s %s among the requests", method, path)
	return aclRequest{}
}

// addPolicy stores a policy directly, as if created earlier.
func (f *fakeACL) addPolicy(name, rules string) *api.ACLPolicy {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &api.ACLPolicy{ID: f.nextID(), Name: name, Rules: rules, Hash: aclHash}
	p.CreateIndex, p.ModifyIndex = uint64(f.seq), uint64(f.seq)
	f.policies[p.ID] = p
	return p
}

// addRole stores a role linked to the policies.
func (f *fakeACL) addRole(name string, policies ...*api.ACLPolicy) *api.ACLRole {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &api.ACLRole{ID: f.nextID(), Name: name, Hash: aclHash}
	r.CreateIndex, r.ModifyIndex = uint64(f.seq), uint64(f.seq)
	for _, p := range policies {
		r.Policies = append(r.Policies, &api.ACLLink{ID: p.ID, Name: p.Name})
	}
	f.roles[r.ID] = r
	return r
}

// addToken stores a token linked to the policies.
func (f *fakeACL) addToken(description string, policies ...*api.ACLPolicy) *api.ACLToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &api.ACLToken{AccessorID: f.nextID(), SecretID: f.nextID(), Description: description,
		CreateTime: aclCreateTime, Hash: aclHash}
	t.CreateIndex, t.ModifyIndex = uint64(f.seq), uint64(f.seq)
	for _, p := range policies {
		t.Policies = append(t.Policies, &api.ACLLink{ID: p.ID, Name: p.Name})
	}
	f.tokens[t.AccessorID] = t
	return t
}

// token returns a stored token, or nil.
func (f *fakeACL) token(accessor string) *api.ACLToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens[accessor]
}

func (f *fakeACL) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	token := r.Header.Get("X-Consul-Token")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, aclRequest{
		method: r.Method, path: r.URL.Path, query: r.URL.Query(), token: token, body: body,
	})

	path := strings.TrimPrefix(r.URL.Path, "/v1/acl/")
	if path == "bootstrap" && r.Method == http.MethodPut {
		f.bootstrap(w)
		return
	}
	if f.required != "" && token != f.required {
		http.Error(w, "Permission denied", http.StatusForbidden)
		return
	}

	switch kind, rest, _ := strings.Cut(path, "/"); {
	case kind == "tokens" && r.Method == http.MethodGet:
		f.listTokens(w)
	case kind == "policies" && r.Method == http.MethodGet:
		list := make([]*api.ACLPolicyListEntry, 0, len(f.policies))
		for _, p := range f.policies {
			list = append(list, &api.ACLPolicyListEntry{ID: p.ID, Name: p.Name, Description: p.Description,
				Datacenters: p.Datacenters, Hash: p.Hash, CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		json.NewEncoder(w).Encode(list)
	case kind == "roles" && r.Method == http.MethodGet:
		list := make([]*api.ACLRole, 0, len(f.roles))
		for _, role := range f.roles {
			list = append(list, role)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		json.NewEncoder(w).Encode(list)
	case kind == "token":
		f.serveToken(w, r, rest, token, body)
	case kind == "policy":
		f.servePolicy(w, r, rest, body)
	case kind == "role":
		f.serveRole(w, r, rest, body)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeACL) bootstrap(w http.ResponseWriter) {
	if f.bootstrapped {
		http.Error(w, "ACL bootstrap no longer allowed (reset index: 1)", http.StatusForbidden)
		return
	}
	f.bootstrapped = true
	t := &api.ACLToken{
		AccessorID: f.nextID(), SecretID: f.nextID(),
		Description: "Bootstrap Token (Global Management)",
		Policies:    []*api.ACLLink{{ID: aclGlobalManagementPolicyID, Name: "global-management"}},
		CreateTime:  aclCreateTime, Hash: aclHash,
	}
	t.CreateIndex, t.ModifyIndex = uint64(f.seq), uint64(f.seq)
	f.tokens[t.AccessorID] = t
	json.NewEncoder(w).Encode(t)
}

func (f *fakeACL) listTokens(w http.ResponseWriter) {
	list := make([]*api.ACLTokenListEntry, 0, len(f.tokens))
	for _, t := range f.tokens {
		list = append(list, &api.ACLTokenListEntry{
			AccessorID: t.AccessorID, SecretID: t.SecretID, Description: t.Description,
			Policies: t.Policies, Roles: t.Roles, ServiceIdentities: t.ServiceIdentities,
			NodeIdentities: t.NodeIdentities, Local: t.Local, CreateTime: t.CreateTime,
			ExpirationTime: t.ExpirationTime, Hash: t.Hash,
			CreateIndex: t.CreateIndex, ModifyIndex: t.ModifyIndex,
		})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].AccessorID < list[j].AccessorID })
	json.NewEncoder(w).Encode(list)
}

// serveToken answers /v1/acl/token[/...]; rest is what follows "token/".
func (f *fakeACL) serveToken(w http.ResponseWriter, r *http.Request, rest, secret string, body []byte) {
	id, clone := strings.CutSuffix(rest, "/clone")
	switch {
	case rest == "" && r.Method == http.MethodPut:
		var t api.ACLToken
		if !decodeBody(w, body, &t) || !f.resolveLinks(w, t.Policies, t.Roles) {
			return
		}
		if t.AccessorID == "" {
			t.AccessorID = f.nextID()
		}
		if t.SecretID == "" {
			t.SecretID = f.nextID()
		}
		f.stampToken(&t)
		if t.ExpirationTTL > 0 {
			exp := t.CreateTime.Add(t.ExpirationTTL)
			t.ExpirationTime, t.ExpirationTTL = &exp, 0
		}
		f.tokens[t.AccessorID] = &t
		json.NewEncoder(w).Encode(t)
	case rest == "self" && r.Method == http.MethodGet:
		for _, t := range f.tokens {
			if t.SecretID == secret {
				json.NewEncoder(w).Encode(t)
				return
			}
		}
		http.Error(w, "ACL not found", http.StatusForbidden)
	case f.tokens[id] == nil:
		http.Error(w, "token not found", http.StatusNotFound)
	case clone && r.Method == http.MethodPut:
		var req struct{ Description string }
		if !decodeBody(w, body, &req) {
			return
		}
		c := *f.tokens[id]
		c.AccessorID, c.SecretID = f.nextID(), f.nextID()
		if req.Description != "" {
			c.Description = req.Description
		}
		f.stampToken(&c)
		f.tokens[c.AccessorID] = &c
		json.NewEncoder(w).Encode(c)
	case r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(f.tokens[id])
	case r.Method == http.MethodPut:
		var t api.ACLToken
		if !decodeBody(w, body, &t) || !f.resolveLinks(w, t.Policies, t.Roles) {
			return
		}
		old := f.tokens[id]
		t.AccessorID, t.SecretID, t.Local, t.CreateTime = id, old.SecretID, old.Local, old.CreateTime
		t.Hash, t.CreateIndex = aclHash, old.CreateIndex
		f.seq++
		t.ModifyIndex = uint64(f.seq)
		f.tokens[id] = &t
		json.NewEncoder(w).Encode(t)
	case r.Method == http.MethodDelete:
		delete(f.tokens, id)
		json.NewEncoder(w).Encode(true)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// stampToken sets what the server sets on a new token.
func (f *fakeACL) stampToken(t *api.ACLToken) {
	t.CreateTime, t.Hash = aclCreateTime, aclHash
	f.seq++
	t.CreateIndex, t.ModifyIndex = uint64(f.seq), uint64(f.seq)
}

// servePolicy answers /v1/acl/policy[/...].
func (f *fakeACL) servePolicy(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if name, byName := strings.CutPrefix(rest, "name/"); byName && r.Method == http.MethodGet {
		for _, p := range f.policies {
			if p.Name == name {
				json.NewEncoder(w).Encode(p)
				return
			}
		}
		http.Error(w, "policy not found", http.StatusNotFound)
		return
	}
	var p api.ACLPolicy
	switch {
	case rest == "" && r.Method == http.MethodPut:
		if !decodeBody(w, body, &p) {
			return
		}
		if p.Name == "" {
			http.Error(w, "Invalid Policy: no Name is set", http.StatusBadRequest)
			return
		}
		p.ID = f.nextID()
	case f.policies[rest] == nil:
		http.Error(w, "policy not found", http.StatusNotFound)
		return
	case r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(f.policies[rest])
		return
	case r.Method == http.MethodDelete:
		delete(f.policies, rest)
		json.NewEncoder(w).Encode(true)
		return
	case r.Method == http.MethodPut:
		if !decodeBody(w, body, &p) {
			return
		}
		p.ID = rest
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p.Hash = aclHash
	f.seq++
	p.CreateIndex, p.ModifyIndex = uint64(f.seq), uint64(f.seq)
	f.policies[p.ID] = &p
	json.NewEncoder(w).Encode(p)
}

// serveRole answers /v1/acl/role[/...]. As Consul's, a read of a role
// that does not exist is a 404 that the client turns into nil.
func (f *fakeACL) serveRole(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	if name, byName := strings.CutPrefix(rest, "name/"); byName && r.Method == http.MethodGet {
		for _, role := range f.roles {
			if role.Name == name {
				json.NewEncoder(w).Encode(role)
				return
			}
		}
		http.Error(w, "role not found", http.StatusNotFound)
		return
	}
	var role api.ACLRole
	switch {
	case rest == "" && r.Method == http.MethodPut:
		if !decodeBody(w, body, &role) || !f.resolveLinks(w, role.Policies, nil) {
			return
		}
		role.ID = f.nextID()
	case f.roles[rest] == nil:
		http.Error(w, "role not found", http.StatusNotFound)
		return
	case r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(f.roles[rest])
		return
	case r.Method == http.MethodDelete:
		delete(f.roles, rest)
		json.NewEncoder(w).Encode(true)
		return
	case r.Method == http.MethodPut:
		if !decodeBody(w, body, &role) || !f.resolveLinks(w, role.Policies, nil) {
			return
		}
		role.ID = rest
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	role.Hash = aclHash
	f.seq++
	role.CreateIndex, role.ModifyIndex = uint64(f.seq), uint64(f.seq)
	f.roles[role.ID] = &role
	json.NewEncoder(w).Encode(role)
}

// resolveLinks fills in the ID or name each link lacks, as Consul does,
// or answers 400 for a link to nothing.
func (f *fakeACL) resolveLinks(w http.ResponseWriter, policies, roles []*api.ACLLink) bool {
	policyNames := make(map[string]string, len(f.policies))
	for id, p := range f.policies {
		policyNames[id] = p.Name
	}
	roleNames := make(map[string]string, len(f.roles))
	for id, r := range f.roles {
		roleNames[id] = r.Name
	}
	return resolveLinksOf(w, "policy", policies, policyNames) && resolveLinksOf(w, "role", roles, roleNames)
}

// resolveLinksOf resolves links to the objects of a kind, whose names by
// ID are names, or answers 400 for the first link to nothing.
func resolveLinksOf(w http.ResponseWriter, kind string, links []*api.ACLLink, names map[string]string) bool {
	for _, l := range links {
		if !resolveLink(l, names) {
			http.Error(w, fmt.Sprintf("cannot find %s %s%s", kind, l.ID, l.Name), http.StatusBadRequest)
			return false
		}
	}
	return true
}

// resolveLink fills in l's name from its ID or, without an ID, its ID
// from its name; false when nothing has that ID or name.
func resolveLink(l *api.ACLLink, names map[string]string) bool {
	if l.ID != "" {
		var ok bool
		l.Name, ok = names[l.ID]
		return ok
	}
	for id, name := range names {
		if name == l.Name {
			l.ID = id
			return true
		}
	}
	return false
}

// decodeBody unmarshals a request body, or answers 400.
func decodeBody(w http.ResponseWriter, body []byte, v interface{}) bool {
	if err := json.Unmarshal(body, v); err != nil {
		http.Error(w, "Request decode failed: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
