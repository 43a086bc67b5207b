package main

const aclRoleDeleteHelp = `
Usage: consul acl role delete [options] (-id=ID | -name=NAME)

  Deletes a role, given its ID (or a unique prefix of it) or its name.

      $ consul acl role delete -id b6b85
      $ consul acl role delete -name my-role
`

// runACLRoleDelete is `consul acl role delete`.
func runACLRoleDelete(u *ui, args []string) int {
	var (
		hf       httpFlags
		id, name string
	)
	fs := newFlagSet("acl role delete")
	fs.StringVar(&id, "id", "", "The `ID` of the role to delete, or a unique prefix of it.")
	fs.StringVar(&name, "name", "", "The `name` of the role to delete.")
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclRoleDeleteHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) {
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
	var (
		full string
		err  error
	)
	if id != "" {
		full, err = roleID(client, id)
	} else {
		full, err = roleIDByName(client, name)
	}
	if err != nil {
		u.error("Error determining role ID: %v", err)
		return 1
	}
	if _, err := client.ACL().RoleDelete(full, nil); err != nil {
		u.error("Error deleting role %q: %v", full, err)
		return 1
	}
	u.info("Role %q deleted successfully", full)
	return 0
}
