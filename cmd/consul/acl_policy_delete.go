package main

const aclPolicyDeleteHelp = `
Usage: consul acl policy delete [options] (-id=ID | -name=NAME)

  Deletes a policy, given its ID (or a unique prefix of it) or its name.

      $ consul acl policy delete -id b6b85
      $ consul acl policy delete -name my-policy
`

// runACLPolicyDelete is `consul acl policy delete`.
func runACLPolicyDelete(u *ui, args []string) int {
	var (
		hf       httpFlags
		id, name string
	)
	fs := newFlagSet("acl policy delete")
	fs.StringVar(&id, "id", "", "The `ID` of the policy to delete, or a unique prefix of it.")
	fs.StringVar(&name, "name", "", "The `name` of the policy to delete.")
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclPolicyDeleteHelp, args); done {
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
		full, err = policyID(client, id)
	} else {
		full, err = policyIDByName(client, name)
	}
	if err != nil {
		u.error("Error determining policy ID: %v", err)
		return 1
	}
	if _, err := client.ACL().PolicyDelete(full, nil); err != nil {
		u.error("Error deleting policy %q: %v", full, err)
		return 1
	}
	u.info("Policy %q deleted successfully", full)
	return 0
}
