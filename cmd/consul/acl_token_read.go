package main

const aclTokenReadHelp = `
Usage: consul acl token read [options] (-id=ID | -self)

  Prints one token, secret included. -id takes the token's accessor ID, a
  unique prefix of one, or "anonymous"; -self reads the token the request
  is made with (-token or CONSUL_HTTP_TOKEN).

      $ consul acl token read -id 4be56c77-82
      $ consul acl token read -self
`

// runACLTokenRead is `consul acl token read`. Unlike policies and roles
// (aclKind.runRead), a token is named by -id or -self, not by -name.
func runACLTokenRead(u *ui, args []string) int {
	var (
		id   string
		self bool
	)
	c := newACLCommand("acl token read", aclTokenReadHelp, printsObjectMeta, true)
	aclToken.idFlag(c.fs, &id, "read")
	c.fs.BoolVar(&self, "self", false, "Read the token this request is made with, instead of -id.")
	if code, done := c.parse(u, args); done {
		return code
	}
	switch {
	case id == "" && !self:
		u.error("Must specify the -id parameter")
		return 1
	case id != "" && self:
		u.error("Cannot use both -id and -self")
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}

	if self {
		t, _, err := client.ACL().TokenReadSelf(c.http.queryOptions())
		if err != nil {
			u.error("Error reading token: %v", err)
			return 1
		}
		return c.out.print(u, tokenObject(t))
	}
	accessor, ok := aclToken.findID(u, client, id, "")
	if !ok {
		return 1
	}
	obj, err := aclToken.read(client, accessor, c.http.queryOptions())
	if err != nil {
		u.error("Error reading token %q: %v", accessor, err)
		return 1
	}
	return c.out.print(u, obj)
}
