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
	args := structs.ACLTokenSetRequest{Datacenter: parseDC(req), Create: accessor == "", WriteRequest: structs.WriteRequest{Token: token(req)}}
	return a.aclWrite(req, "ACL.TokenSet", "Token Accessor ID", accessor, &args.ACLToken, &args.ACLToken.AccessorID, &args, &structs.ACLToken{})
}

// aclWrite decodes the body into rec, whose ID field is id, and sends
// args, which holds rec, to method; the answer is out. For an update,
// urlID is the ID in the URL, which the body's, if it has one, must
// match; what names the ID in that message.
func (a *Agent) aclWrite(req *http.Request, method, what, urlID string, rec interface{}, id *string, args, out interface{}) (interface{}, error) {
	if err := decodeACLBody(req, rec); err != nil {
		return nil, err
	}
	if urlID != "" {
		if *id != "" && *id != urlID {
			return nil, badRequest("%s in URL and payload do not match", what)
		}
		*id = urlID
	}
	if err := a.server.RPC(method, args, out); err != nil {
		return nil, err
	}
	return out, nil
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
	err = a.aclRead(w, "ACL.TokenRead", &args, &out, &out.QueryMeta)
	return out.Token, err
}

// aclRead sends a read to method and sets the reply's headers from its
// QueryMeta, meta.
func (a *Agent) aclRead(w http.ResponseWriter, method string, args, reply interface{}, meta *structs.QueryMeta) error {
	if err := a.server.RPC(method, args, reply); err != nil {
		return err
	}
	setMeta(w, meta)
	return nil
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
	args := structs.ACLTokenSetRequest{Datacenter: parseDC(req), ACLToken: clone, Create: true, WriteRequest: structs.WriteRequest{Token: token(req)}}
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

// aclList sends the list query of /v1/acl/tokens, /policies or /roles
// (?policy, ?role and the query options) to method.
func (a *Agent) aclList(w http.ResponseWriter, req *http.Request, method string, reply interface{}, meta *structs.QueryMeta) error {
	opts, err := parseQueryOptions(req)
	if err != nil {
		return err
	}
	q := req.URL.Query()
	args := structs.ACLListRequest{Datacenter: parseDC(req), Policy: q.Get("policy"), Role: q.Get("role"), QueryOptions: opts}
	return a.aclRead(w, method, &args, reply, meta)
}

// aclTokenList serves GET /v1/acl/tokens.
func (a *Agent) aclTokenList(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var out structs.ACLTokensResponse
	err := a.aclList(w, req, "ACL.TokenList", &out, &out.QueryMeta)
	return out.Tokens, err
}

// aclPolicyCreate serves PUT /v1/acl/policy.
func (a *Agent) aclPolicyCreate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclPolicyWrite(req, "")
}

// aclPolicyWrite creates (id "") or updates a policy from the body.
func (a *Agent) aclPolicyWrite(req *http.Request, id string) (interface{}, error) {
	args := structs.ACLPolicySetRequest{Datacenter: parseDC(req), WriteRequest: structs.WriteRequest{Token: token(req)}}
	return a.aclWrite(req, "ACL.PolicySet", "Policy ID", id, &args.Policy, &args.Policy.ID, &args, &structs.ACLPolicy{})
}

// aclPolicyByID serves /v1/acl/policy/<id> and /v1/acl/policy/name/<name>.
func (a *Agent) aclPolicyByID(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclNamedByID(w, req, "/v1/acl/policy/", "ACL.PolicyDelete", a.aclPolicyWrite, func(args *structs.ACLGetRequest) (interface{}, error) {
		var out structs.ACLPolicyResponse
		err := a.aclRead(w, "ACL.PolicyRead", args, &out, &out.QueryMeta)
		return found(out.Policy, "policy", err)
	})
}

// aclNamedByID serves <prefix><id> (GET, PUT, DELETE) and
// <prefix>name/<name> (GET) for policies and roles: a PUT goes to write,
// a DELETE to deleteMethod, a GET to read.
func (a *Agent) aclNamedByID(w http.ResponseWriter, req *http.Request, prefix, deleteMethod string,
	write func(*http.Request, string) (interface{}, error), read func(*structs.ACLGetRequest) (interface{}, error)) (interface{}, error) {
	id, name := splitNamePath(req.URL.Path, prefix)
	switch {
	case name != "" && req.Method != "GET":
		return nil, methodNotAllowed(w, req, "GET")
	case req.Method == "PUT":
		return write(req, id)
	case req.Method == "DELETE":
		return a.aclDelete(req, deleteMethod, id)
	}
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	return read(&structs.ACLGetRequest{Datacenter: parseDC(req), ID: id, Name: name, QueryOptions: opts})
}

// found answers the policy or role a read found, or a 404 naming kind
// when there was none.
func found[T any](rec *T, kind string, err error) (interface{}, error) {
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%w: ACL %s not found", structs.ErrNotFound, kind)
	}
	return rec, nil
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
	var out structs.ACLPoliciesResponse
	err := a.aclList(w, req, "ACL.PolicyList", &out, &out.QueryMeta)
	return out.Policies, err
}

// aclRoleCreate serves PUT /v1/acl/role.
func (a *Agent) aclRoleCreate(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclRoleWrite(req, "")
}

// aclRoleWrite creates (id "") or updates a role from the body.
func (a *Agent) aclRoleWrite(req *http.Request, id string) (interface{}, error) {
	args := structs.ACLRoleSetRequest{Datacenter: parseDC(req), WriteRequest: structs.WriteRequest{Token: token(req)}}
	return a.aclWrite(req, "ACL.RoleSet", "Role ID", id, &args.Role, &args.Role.ID, &args, &structs.ACLRole{})
}

// aclRoleByID serves /v1/acl/role/<id> and /v1/acl/role/name/<name>.
func (a *Agent) aclRoleByID(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.aclNamedByID(w, req, "/v1/acl/role/", "ACL.RoleDelete", a.aclRoleWrite, func(args *structs.ACLGetRequest) (interface{}, error) {
		var out structs.ACLRoleResponse
		err := a.aclRead(w, "ACL.RoleRead", args, &out, &out.QueryMeta)
		return found(out.Role, "role", err)
	})
}

// aclRoleList serves GET /v1/acl/roles.
func (a *Agent) aclRoleList(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var out structs.ACLRolesResponse
	err := a.aclList(w, req, "ACL.RoleList", &out, &out.QueryMeta)
	return out.Roles, err
}
