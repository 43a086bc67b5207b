package main

const aclTokenCloneHelp = `
Usage: consul acl token clone [options] -id=ID

  Creates a new token with the policies, roles, identities and locality of
  an existing one, and new accessor and secret IDs.

      $ consul acl token clone -id abcd -description "replication, second"
`

// runACLTokenClone is `consul acl token clone`.
func runACLTokenClone(u *ui, args []string) int {
	var (
		hf              httpFlags
		out             aclOutput
		id, description string
	)
	fs := newFlagSet("acl token clone")
	fs.StringVar(&id, "id", "", "The accessor `ID` of the token to clone, a unique prefix of it, or \"anonymous\".")
	fs.StringVar(&description, "description", "", "A `description` of the new token.")
	out.register(fs, false)
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclTokenCloneHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	if id == "" {
		u.error("Cannot clone a token without specifying the -id parameter")
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
	t, _, err := client.ACL().TokenClone(accessor, description, nil)
	if err != nil {
		u.error("Error cloning token: %v", err)
		return 1
	}
	return out.print(u, t, func() string { return prettyToken(t, false) })
}
