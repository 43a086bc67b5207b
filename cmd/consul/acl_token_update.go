package main

import (
	"github.com/hashicorp/consul/api"
)

const aclTokenUpdateHelp = `
Usage: consul acl token update [options] -id=ID

  Updates a token's description, policies, roles and identities; whether
  it is local cannot change. What is not given is kept. -policy-id and
  -policy-name replace the token's policies, and -role-id and -role-name
  its roles; the -append- variants add to them instead. -service-identity
  and -node-identity replace the token's identities of that kind.

      $ consul acl token update -id abcd -description "replication"
      $ consul acl token update -id abcd -policy-name token-replication \
                                -role-name db-updater
      $ consul acl token update -id abcd -append-policy-name kv-read
`

// runACLTokenUpdate is `consul acl token update`.
func runACLTokenUpdate(u *ui, args []string) int {
	var (
		set, add                  linkFlags
		idents                    identityFlags
		id, description           string
		mergePolicies, mergeRoles bool
	)
	c := newACLCommand("acl token update", aclTokenUpdateHelp, printsObjectMeta, false)
	fs := c.fs
	aclToken.idFlag(fs, &id, "update")
	fs.StringVar(&description, "description", "", "A new `description` of the token; kept when not given.")
	set.register(fs, "token", "", "give", true)
	add.register(fs, "token", "append-", "add to", true)
	fs.BoolVar(&mergePolicies, "merge-policies", false,
		"Add the -policy-id and -policy-name policies to the token's instead of replacing them.\n"+
			"Deprecated in Consul for -append-policy-id and -append-policy-name.")
	fs.BoolVar(&mergeRoles, "merge-roles", false,
		"Add the -role-id and -role-name roles to the token's instead of replacing them.\n"+
			"Deprecated in Consul for -append-role-id and -append-role-name.")
	idents.register(fs, "token")
	if code, done := c.parse(u, args); done {
		return code
	}
	switch {
	case id == "":
		u.error("Cannot update a token without specifying the -id parameter")
		return 1
	case set.anyPolicies() && add.anyPolicies():
		u.error("Cannot combine the use of policy-id/policy-name flags with append- variants. " +
			"To set or overwrite existing policies, use -policy-id or -policy-name. " +
			"To append to existing policies, use -append-policy-id or -append-policy-name.")
		return 1
	case set.anyRoles() && add.anyRoles():
		u.error("Cannot combine the use of role-id/role-name flags with append- variants. " +
			"To set or overwrite existing roles, use -role-id or -role-name. " +
			"To append to existing roles, use -append-role-id or -append-role-name.")
		return 1
	}
	svcs, nodes, ok := idents.parse(u)
	if !ok {
		return 1
	}

	client, ok := c.client(u)
	if !ok {
		return 1
	}
	accessor, ok := aclToken.findID(u, client, id, "")
	if !ok {
		return 1
	}
	t, _, err := client.ACL().TokenRead(accessor, nil)
	if err != nil {
		u.error("Error when retrieving current token: %v", err)
		return 1
	}

	// An empty -description cannot clear the description: it is taken
	// for "not given", as by Consul's CLI.
	if description != "" {
		t.Description = description
	}
	if len(idents.services) > 0 {
		t.ServiceIdentities = svcs
	}
	if len(idents.nodes) > 0 {
		t.NodeIdentities = nodes
	}

	var lists [4][]*api.ACLLink
	for i, resolve := range []func(*api.Client) ([]*api.ACLLink, error){set.policies, add.policies, set.roles, add.roles} {
		if lists[i], err = resolve(client); err != nil {
			u.error("%v", err)
			return 1
		}
	}
	t.Policies = updateLinks(t.Policies, lists[0], lists[1], set.anyPolicies() && !mergePolicies)
	t.Roles = updateLinks(t.Roles, lists[2], lists[3], set.anyRoles() && !mergeRoles)

	updated, _, err := client.ACL().TokenUpdate(t, nil)
	if err != nil {
		u.error("Failed to update token %s: %v", accessor, err)
		return 1
	}
	return c.out.print(u, tokenObject(updated))
}

// updateLinks returns a token's policies or roles after an update: those
// given replace the current ones when replace, else are added to them, and
// then those given to append are added.
func updateLinks(current, given, appended []*api.ACLLink, replace bool) []*api.ACLLink {
	if replace {
		current = nil
	}
	return mergeLinks(mergeLinks(current, given), appended)
}
