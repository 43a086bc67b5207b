package main

import (
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"
)

// Built-in ACL IDs, as Consul assigns them.
const (
	// aclGlobalManagementPolicyID is the policy granting everything, which
	// the bootstrap token holds.
	aclGlobalManagementPolicyID = "00000000-0000-0000-0000-000000000001"
	// aclAnonymousTokenID is the token of requests that carry none.
	aclAnonymousTokenID = "00000000-0000-0000-0000-000000000002"
)

// uuidLen is the length of a whole UUID: an -id that long is used as
// given, without listing anything.
const uuidLen = 36

// tokenAccessorID resolves a token's -id as Consul's CLI does: a whole
// accessor ID, "anonymous", or a prefix that only one token's accessor ID
// starts with.
func tokenAccessorID(c *api.Client, id string) (string, error) {
	if id == "anonymous" {
		return aclAnonymousTokenID, nil
	}
	if len(id) == uuidLen {
		return id, nil
	}
	tokens, _, err := c.ACL().TokenList(nil)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = t.AccessorID
	}
	return uniquePrefix("token", id, ids)
}

// policyID resolves a policy's -id: a whole ID, "global-management", or a
// unique prefix.
func policyID(c *api.Client, id string) (string, error) {
	if id == "global-management" {
		return aclGlobalManagementPolicyID, nil
	}
	if len(id) == uuidLen {
		return id, nil
	}
	policies, _, err := c.ACL().PolicyList(nil)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(policies))
	for i, p := range policies {
		ids[i] = p.ID
	}
	return uniquePrefix("policy", id, ids)
}

// roleID resolves a role's -id: a whole ID or a unique prefix.
func roleID(c *api.Client, id string) (string, error) {
	if len(id) == uuidLen {
		return id, nil
	}
	roles, _, err := c.ACL().RoleList(nil)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	return uniquePrefix("role", id, ids)
}

// uniquePrefix returns the one ID of ids that starts with prefix.
func uniquePrefix(kind, prefix string, ids []string) (string, error) {
	found := ""
	for _, id := range ids {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("Partial %s ID is not unique", kind)
		}
		found = id
	}
	if found == "" {
		return "", fmt.Errorf("No such %s ID with prefix: %s", kind, prefix)
	}
	return found, nil
}

// policyIDByName returns the ID of the policy called name.
func policyIDByName(c *api.Client, name string) (string, error) {
	p, _, err := c.ACL().PolicyReadByName(name, nil)
	if err != nil {
		return "", fmt.Errorf("Failed to find policy with name %s: %w", name, err)
	}
	if p == nil {
		return "", fmt.Errorf("No such policy with name %s", name)
	}
	return p.ID, nil
}

// roleIDByName returns the ID of the role called name.
func roleIDByName(c *api.Client, name string) (string, error) {
	r, _, err := c.ACL().RoleReadByName(name, nil)
	if err != nil {
		return "", fmt.Errorf("Failed to find role with name %s: %w", name, err)
	}
	if r == nil {
		return "", fmt.Errorf("No such role with name %s", name)
	}
	return r.ID, nil
}
