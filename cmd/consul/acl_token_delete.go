package main

const aclTokenDeleteHelp = `
Usage: consul acl token delete [options] -id=ID

  Deletes a token, given its accessor ID or a unique prefix of it.

      $ consul acl token delete -id b6b85
`

// runACLTokenDelete is `consul acl token delete`.
func runACLTokenDelete(u *ui, args []string) int {
	var (
		hf httpFlags
		id string
	)
	fs := newFlagSet("acl token delete")
	fs.StringVar(&id, "id", "", "The accessor `ID` of the token to delete, or a unique prefix of it.")
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclTokenDeleteHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) {
		return 1
	}
	if id == "" {
		u.error("Must specify the -id parameter")
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	accessor, err := tokenAccessorID(client, id)
	if err != nil {
		u.error("Error determining token ID: %v", err)
		return 1
	}
	if _, err := client.ACL().TokenDelete(accessor, nil); err != nil {
		u.error("Error deleting token %q: %v", accessor, err)
		return 1
	}
	u.info("Token %q deleted successfully", accessor)
	return 0
}
