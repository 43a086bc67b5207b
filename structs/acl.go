package structs

import (
	"errors"
	"time"
)

// ACL message types not yet numbered in structs.go; Consul's values.
const (
	ACLBootstrapRequestType MessageType = 11
)

// ACLTokenPolicyLink names a policy a token or role grants.
type ACLTokenPolicyLink struct {
	ID   string
	Name string `json:",omitempty"`
}

// ACLTokenRoleLink names a role a token holds.
type ACLTokenRoleLink struct {
	ID   string
	Name string `json:",omitempty"`
}

// ACLToken is an ACL token; field names are Consul's.
type ACLToken struct {
	AccessorID  string
	SecretID    string
	Description string
	Policies    []ACLTokenPolicyLink `json:",omitempty"`
	Roles       []ACLTokenRoleLink   `json:",omitempty"`
	Local       bool
	CreateTime  time.Time
	Hash        []byte `json:",omitempty"`
	RaftIndex
}

// Validate says whether a token from a state dump can be stored.
func (t *ACLToken) Validate() error {
	if t.AccessorID == "" || t.SecretID == "" {
		return errors.New("token without AccessorID or SecretID")
	}
	return nil
}

// ACLPolicy is a named set of rules.
type ACLPolicy struct {
	ID          string
	Name        string
	Description string
	Rules       string
	Datacenters []string `json:",omitempty"`
	Hash        []byte   `json:",omitempty"`
	RaftIndex
}

// Validate says whether a policy from a state dump can be stored.
func (p *ACLPolicy) Validate() error {
	if p.ID == "" || p.Name == "" {
		return errors.New("policy without ID or Name")
	}
	return nil
}

// ACLRolePolicyLink names a policy a role grants.
type ACLRolePolicyLink = ACLTokenPolicyLink

// ACLRole is a named set of policies that tokens can hold.
type ACLRole struct {
	ID          string
	Name        string
	Description string
	Policies    []ACLRolePolicyLink `json:",omitempty"`
	Hash        []byte              `json:",omitempty"`
	RaftIndex
}

// Validate says whether a role from a state dump can be stored.
func (r *ACLRole) Validate() error {
	if r.ID == "" || r.Name == "" {
		return errors.New("role without ID or Name")
	}
	return nil
}

// ACLOp says what an ACL write does.
type ACLOp string

// ACL write operations.
const (
	ACLSet    ACLOp = "set"
	ACLDelete ACLOp = "delete"
)

// ACLTokenSetRequest is the Raft entry and RPC argument that creates,
// updates or deletes a token (by AccessorID).
type ACLTokenSetRequest struct {
	Datacenter string
	ACLToken   ACLToken
	// Create asks for a new token (PUT /v1/acl/token), with the caller's
	// AccessorID and SecretID if it gives them; otherwise the token with
	// ACLToken.AccessorID is updated (PUT /v1/acl/token/<accessor>). As in
	// Consul.
	Create bool
	WriteRequest
}

// ACLTokenBootstrapRequest is the Raft entry of a bootstrap: the initial
// management token, and the reset index it must match (0: first time).
type ACLTokenBootstrapRequest struct {
	Token      ACLToken
	ResetIndex uint64
}

// ACLPolicySetRequest creates or updates a policy.
type ACLPolicySetRequest struct {
	Datacenter string
	Policy     ACLPolicy
	WriteRequest
}

// ACLRoleSetRequest creates or updates a role.
type ACLRoleSetRequest struct {
	Datacenter string
	Role       ACLRole
	WriteRequest
}

// ACLDeleteRequest deletes a token (by AccessorID), policy or role by ID.
type ACLDeleteRequest struct {
	Datacenter string
	ID         string
	WriteRequest
}

// ACLGetRequest reads a token (by AccessorID or, for "self", by the
// request's own secret), a policy or a role by ID or name.
type ACLGetRequest struct {
	Datacenter string
	ID         string
	Name       string
	Self       bool
	QueryOptions
}

// ACLListRequest lists tokens (optionally those holding a policy or
// role), policies or roles.
type ACLListRequest struct {
	Datacenter string
	Policy     string
	Role       string
	QueryOptions
}

// ACLTokenResponse carries one token.
type ACLTokenResponse struct {
	Token *ACLToken
	QueryMeta
}

// ACLTokensResponse carries tokens.
type ACLTokensResponse struct {
	Tokens []*ACLToken
	QueryMeta
}

// ACLPolicyResponse carries one policy.
type ACLPolicyResponse struct {
	Policy *ACLPolicy
	QueryMeta
}

// ACLPoliciesResponse carries policies.
type ACLPoliciesResponse struct {
	Policies []*ACLPolicy
	QueryMeta
}

// ACLRoleResponse carries one role.
type ACLRoleResponse struct {
	Role *ACLRole
	QueryMeta
}

// ACLRolesResponse carries roles.
type ACLRolesResponse struct {
	Roles []*ACLRole
	QueryMeta
}
