package agent

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/consulcompat/consul/structs"
)

// maxACLBody bounds the JSON body of an ACL write.
const maxACLBody = 1 << 20

// decodeACLBody reads a JSON body of at most maxACLBody bytes into v.
func decodeACLBody(req *http.Request, v interface{}) error {
	return decodeJSONBody(req, maxACLBody, v)
}

// aclBootstrap serves PUT /v1/acl/bootstrap.
func (a *Agent) aclBootstrap(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var out structs.ACLToken
	err := a.server.RPC("ACL.Bootstrap", &structs.DCSpecificRequest{Datacenter: parseDC(req)}, &out)
	return &out, err
}

// aclTokenCreate serves PUT /v1/acl/token.
func (a *Agent) aclTokenCreate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclTokenWrite(req, "")
}

// aclTokenWrite creates (accessor "") or updates a token from the body.
func (a *Agent) aclTokenWrite(req *http.Request, accessor string) (interface{}, error) {
	args := structs.ACLTokenSetRequest{Datacenter: parseDC(req), WriteRequest: structs.WriteRequest{Token: token(req)}}
	if err := decodeACLBody(req, &args.ACLToken); err != nil {
		return nil, err
	}
	if accessor != "" {
		if args.ACLToken.AccessorID != "" && args.ACLToken.AccessorID != accessor {
			return nil, badRequest("Token Accessor ID in URL and payload do not match")
		}
		args.ACLToken.AccessorID = accessor
	}
	var out structs.ACLToken
	if err := a.server.RPC("ACL.TokenSet", &args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// aclTokenByID serves /v1/acl/token/<accessor>, /v1/acl/token/self and
// /v1/acl/token/<accessor>/clone.
func (a *Agent) aclTokenByID(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	rest := strings.TrimPrefix(req.URL.Path, "/v1/acl/token/")
	if id, ok := strings.CutSuffix(rest, "/clone"); ok {
		if req.Method != "PUT" {
			return nil, methodNotAllowed(w, req, "PUT")
		}
		return a.aclTokenClone(w, req, id)
	}
	if rest == "" {
		return nil, badRequest("Missing token ID")
	}
	switch req.Method {
	case "GET":
		return a.aclTokenRead(w, req, rest)
	case "PUT":
		return a.aclTokenWrite(req, rest)
	default:
		return a.aclDelete(req, "ACL.TokenDelete", rest)
	}
}

func (a *Agent) aclTokenRead(w http.ResponseWriter, req *http.Request, id string) (interface{}, error) {
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	args := structs.ACLGetRequest{Datacenter: parseDC(req), ID: id, Self: id == "self", QueryOptions: opts}
	var out structs.ACLTokenResponse
	if err := a.server.RPC("ACL.TokenRead", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Token, nil
}

// aclTokenClone copies a token's policies and roles into a new token,
// with the body's Description if it has one.
func (a *Agent) aclTokenClone(w http.ResponseWriter, req *http.Request, id string) (interface{}, error) {
	var body struct{ Description string }
	if req.ContentLength != 0 {
		if err := decodeACLBody(req, &body); err != nil {
			return nil, err
		}
	}
	var src structs.ACLTokenResponse
	get := structs.ACLGetRequest{Datacenter: parseDC(req), ID: id, QueryOptions: structs.QueryOptions{Token: token(req)}}
	if err := a.server.RPC("ACL.TokenRead", &get, &src); err != nil {
		return nil, err
	}
	clone := structs.ACLToken{Description: src.Token.Description, Policies: src.Token.Policies, Roles: src.Token.Roles, Local: src.Token.Local}
	if body.Description != "" {
		clone.Description = body.Description
	}
	args := structs.ACLTokenSetRequest{Datacenter: parseDC(req), ACLToken: clone, WriteRequest: structs.WriteRequest{Token: token(req)}}
	var out structs.ACLToken
	if err := a.server.RPC("ACL.TokenSet", &args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// aclDelete deletes a token, policy or role and answers true.
func (a *Agent) aclDelete(req *http.Request, method, id string) (interface{}, error) {
	args := structs.ACLDeleteRequest{Datacenter: parseDC(req), ID: id, WriteRequest: structs.WriteRequest{Token: token(req)}}
	var ok bool
	if err := a.server.RPC(method, &args, &ok); err != nil {
		return nil, err
	}
	return ok, nil
}

// aclList reads the list query of /v1/acl/tokens, /policies and /roles.
func aclListArgs(req *http.Request) (structs.ACLListRequest, error) {
	opts, err := parseQueryOptions(req)
	q := req.URL.Query()
	return structs.ACLListRequest{Datacenter: parseDC(req), Policy: q.Get("policy"), Role: q.Get("role"), QueryOptions: opts}, err
}

// aclTokenList serves GET /v1/acl/tokens.
func (a *Agent) aclTokenList(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := aclListArgs(req)
	if err != nil {
		return nil, err
	}
	var out structs.ACLTokensResponse
	if err := a.server.RPC("ACL.TokenList", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Tokens, nil
}

// aclPolicyCreate serves PUT /v1/acl/policy.
func (a *Agent) aclPolicyCreate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclPolicyWrite(req, "")
}

func (a *Agent) aclPolicyWrite(req *http.Request, id string) (interface{}, error) {
	args := structs.ACLPolicySetRequest{Datacenter: parseDC(req), WriteRequest: structs.WriteRequest{Token: token(req)}}
	if err := decodeACLBody(req, &args.Policy); err != nil {
		return nil, err
	}
	if id != "" {
		if args.Policy.ID != "" && args.Policy.ID != id {
			return nil, badRequest("Policy ID in URL and payload do not match")
		}
		args.Policy.ID = id
	}
	var out structs.ACLPolicy
	if err := a.server.RPC("ACL.PolicySet", &args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// aclPolicyByID serves /v1/acl/policy/<id> and /v1/acl/policy/name/<name>.
func (a *Agent) aclPolicyByID(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id, name := splitNamePath(req.URL.Path, "/v1/acl/policy/")
	switch {
	case name != "" && req.Method != "GET":
		return nil, methodNotAllowed(w, req, "GET")
	case req.Method == "PUT":
		return a.aclPolicyWrite(req, id)
	case req.Method == "DELETE":
		return a.aclDelete(req, "ACL.PolicyDelete", id)
	}
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	args := structs.ACLGetRequest{Datacenter: parseDC(req), ID: id, Name: name, QueryOptions: opts}
	var out structs.ACLPolicyResponse
	if err := a.server.RPC("ACL.PolicyRead", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	if out.Policy == nil {
		return nil, fmt.Errorf("%w: ACL policy not found", structs.ErrNotFound)
	}
	return out.Policy, nil
}

// splitNamePath reads "<prefix><id>" or "<prefix>name/<name>".
func splitNamePath(path, prefix string) (id, name string) {
	rest := strings.TrimPrefix(path, prefix)
	if n, ok := strings.CutPrefix(rest, "name/"); ok {
		return "", n
	}
	return rest, ""
}

// aclPolicyList serves GET /v1/acl/policies.
func (a *Agent) aclPolicyList(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := aclListArgs(req)
	if err != nil {
		return nil, err
	}
	var out structs.ACLPoliciesResponse
	if err := a.server.RPC("ACL.PolicyList", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Policies, nil
}

// aclRoleCreate serves PUT /v1/acl/role.
func (a *Agent) aclRoleCreate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclRoleWrite(req, "")
}

func (a *Agent) aclRoleWrite(req *http.Request, id string) (interface{}, error) {
	args := structs.ACLRoleSetRequest{Datacenter: parseDC(req), WriteRequest: structs.WriteRequest{Token: token(req)}}
	if err := decodeACLBody(req, &args.Role); err != nil {
		return nil, err
	}
	if id != "" {
		if args.Role.ID != "" && args.Role.ID != id {
			return nil, badRequest("Role ID in URL and payload do not match")
		}
		args.Role.ID = id
	}
	var out structs.ACLRole
	if err := a.server.RPC("ACL.RoleSet", &args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// aclRoleByID serves /v1/acl/role/<id> and /v1/acl/role/name/<name>.
func (a *Agent) aclRoleByID(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	id, name := splitNamePath(req.URL.Path, "/v1/acl/role/")
	switch {
	case name != "" && req.Method != "GET":
		return nil, methodNotAllowed(w, req, "GET")
	case req.Method == "PUT":
		return a.aclRoleWrite(req, id)
	case req.Method == "DELETE":
		return a.aclDelete(req, "ACL.RoleDelete", id)
	}
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	args := structs.ACLGetRequest{Datacenter: parseDC(req), ID: id, Name: name, QueryOptions: opts}
	var out structs.ACLRoleResponse
	if err := a.server.RPC("ACL.RoleRead", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	if out.Role == nil {
		return nil, fmt.Errorf("%w: ACL role not found", structs.ErrNotFound)
	}
	return out.Role, nil
}

// aclRoleList serves GET /v1/acl/roles.
func (a *Agent) aclRoleList(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := aclListArgs(req)
	if err != nil {
		return nil, err
	}
	var out structs.ACLRolesResponse
	if err := a.server.RPC("ACL.RoleList", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Roles, nil
}
