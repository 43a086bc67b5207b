package main

const aclTokenCloneHelp = `
Usage: consul acl token clone [options] -id=ID

  Creates a new token with the policies, roles, identities and locality of
  an existing one, and new accessor and secret IDs.

      $ consul acl token clone -id abcd -description "replication, second"
`

// runACLTokenClone is `consul acl token clone`.
func runACLTokenClone(u *ui, args []string) int {
	var id, description string
	c := newACLCommand("acl token clone", aclTokenCloneHelp, printsObject, false)
	c.fs.StringVar(&id, "id", "", "The accessor `ID` of the token to clone, a unique prefix of it, or \"anonymous\".")
	c.fs.StringVar(&description, "description", "", "A `description` of the new token.")
	if code, done := c.parse(u, args); done {
		return code
	}
	if id == "" {
		u.error("Cannot clone a token without specifying the -id parameter")
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
	t, _, err := client.ACL().TokenClone(accessor, description, nil)
	if err != nil {
		u.error("Error cloning token: %v", err)
		return 1
	}
	return c.out.print(u, tokenObject(t))
}
