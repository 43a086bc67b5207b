package main

import (
	"github.com/hashicorp/consul/api"
)

const aclRoleListHelp = `
Usage: consul acl role list [options]

  Lists every role, with its policies and identities.

      $ consul acl role list
`

// runACLRoleList is `consul acl role list`.
func runACLRoleList(u *ui, args []string) int {
	var (
		hf  httpFlags
		out aclOutput
	)
	fs := newFlagSet("acl role list")
	out.register(fs, true)
	hf.register(fs, true)
	if code, done := parseFlags(u, fs, aclRoleListHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	roles, _, err := client.ACL().RoleList(hf.queryOptions())
	if err != nil {
		u.error("Failed to retrieve the role list: %v", err)
		return 1
	}
	if roles == nil {
		roles = []*api.ACLRole{}
	}
	return out.print(u, roles, func() string { return prettyRoleList(roles, out.meta) })
}
