package main

import (
	"github.com/hashicorp/consul/api"
)

const aclRoleReadHelp = `
Usage: consul acl role read [options] (-id=ID | -name=NAME)

  Prints one role. -id takes the role's ID or a unique prefix of it.

      $ consul acl role read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba
      $ consul acl role read -name my-role
`

// runACLRoleRead is `consul acl role read`.
func runACLRoleRead(u *ui, args []string) int {
	var (
		hf       httpFlags
		out      aclOutput
		id, name string
	)
	fs := newFlagSet("acl role read")
	fs.StringVar(&id, "id", "", "The `ID` of the role to read, or a unique prefix of it.")
	fs.StringVar(&name, "name", "", "The `name` of the role to read.")
	out.register(fs, true)
	hf.register(fs, true)
	if code, done := parseFlags(u, fs, aclRoleReadHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	if id == "" && name == "" {
		u.error("Must specify either the -id or -name parameters")
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}

	var r *api.ACLRole
	if id != "" {
		full, err := roleID(client, id)
		if err != nil {
			u.error("Error determining role ID: %v", err)
			return 1
		}
		if r, _, err = client.ACL().RoleRead(full, hf.queryOptions()); err != nil {
			u.error("Error reading role %q: %v", full, err)
			return 1
		}
		if r == nil {
			u.error("Role not found with ID %q", full)
			return 1
		}
	} else {
		var err error
		if r, _, err = client.ACL().RoleReadByName(name, hf.queryOptions()); err != nil {
			u.error("Error reading role %q: %v", name, err)
			return 1
		}
		if r == nil {
			u.error("Role not found with name %q", name)
			return 1
		}
	}
	return out.print(u, r, func() string { return prettyRole(r, out.meta) })
}
