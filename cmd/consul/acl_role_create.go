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
		hf                httpFlags
		out               aclOutput
		links             linkFlags
		idents            identityFlags
		name, description string
	)
	fs := newFlagSet("acl role create")
	fs.StringVar(&name, "name", "", "The new role's `name`. Required.")
	fs.StringVar(&description, "description", "", "A `description` of the role.")
	links.register(fs, "role", "", "link to", false)
	idents.register(fs, "role")
	out.register(fs, true)
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclRoleCreateHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	if name == "" {
		u.error("Missing required '-name' flag")
		return 1
	}
	if !links.anyPolicies() && !idents.any() {
		u.error("Cannot create a role without specifying -policy-name, -policy-id, -service-identity, or -node-identity at least once")
		return 1
	}
	svcs, nodes, err := idents.parse()
	if err != nil {
		u.error("%v", err)
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	r := &api.ACLRole{Name: name, Description: description, ServiceIdentities: svcs, NodeIdentities: nodes}
	if r.Policies, err = links.policies(client); err != nil {
		u.error("%v", err)
		return 1
	}
	created, _, err := client.ACL().RoleCreate(r, nil)
	if err != nil {
		u.error("Failed to create new role: %v", err)
		return 1
	}
	return out.print(u, created, func() string { return prettyRole(created, out.meta) })
}
