package main

import (
	"github.com/hashicorp/consul/api"
)

const aclRoleCreateHelp = `
Usage: consul acl role create -name=NAME [options]

  Creates a role: a named set of policies and identities that tokens can
  link to. At least one policy or identity must be given; policies are
  named by ID (or a unique prefix of one) or by name.

      $ consul acl role create -name new-role \
                               -description "This is an example role" \
                               -policy-id b52fc3de-5 \
                               -policy-name acl-replication \
                               -service-identity web
`

// runACLRoleCreate is `consul acl role create`.
func runACLRoleCreate(u *ui, args []string) int {
	var (
		links             linkFlags
		idents            identityFlags
		name, description string
	)
	c := newACLCommand("acl role create", aclRoleCreateHelp, printsObjectMeta, false)
	c.fs.StringVar(&name, "name", "", "The new role's `name`. Required.")
	c.fs.StringVar(&description, "description", "", "A `description` of the role.")
	links.register(c.fs, "role", "", "link to", false)
	idents.register(c.fs, "role")
	if code, done := c.parse(u, args); done {
		return code
	}
	if name == "" {
		u.error("Missing required '-name' flag")
		return 1
	}
	if !links.anyPolicies() && !idents.any() {
		u.error("Cannot create a role without specifying -policy-name, -policy-id, -service-identity, or -node-identity at least once")
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
	policies, _, ok := links.resolve(u, client)
	if !ok {
		return 1
	}
	created, _, err := client.ACL().RoleCreate(&api.ACLRole{Name: name, Description: description,
		Policies: policies, ServiceIdentities: svcs, NodeIdentities: nodes}, nil)
	if err != nil {
		u.error("Failed to create new role: %v", err)
		return 1
	}
	return c.out.print(u, roleObject(created))
}
