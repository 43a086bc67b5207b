package main

import (
	"github.com/hashicorp/consul/api"
)

const aclTokenReadHelp = `
Usage: consul acl token read [options] (-id=ID | -self)

  Prints one token, secret included. -id takes the token's accessor ID, a
  unique prefix of one, or "anonymous"; -self reads the token the request
  is made with (-token or CONSUL_HTTP_TOKEN).

      $ consul acl token read -id 4be56c77-82
      $ consul acl token read -self
`

// runACLTokenRead is `consul acl token read`.
func runACLTokenRead(u *ui, args []string) int {
	var (
		hf   httpFlags
		out  aclOutput
		id   string
		self bool
	)
	fs := newFlagSet("acl token read")
	fs.StringVar(&id, "id", "", "The accessor `ID` of the token to read, or a unique prefix of it.")
	fs.BoolVar(&self, "self", false, "Read the token this request is made with, instead of -id.")
	out.register(fs, true)
	hf.register(fs, true)
	if code, done := parseFlags(u, fs, aclTokenReadHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	switch {
	case id == "" && !self:
		u.error("Must specify the -id parameter")
		return 1
	case id != "" && self:
		u.error("Cannot use both -id and -self")
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}

	var t *api.ACLToken
	if self {
		var err error
		if t, _, err = client.ACL().TokenReadSelf(hf.queryOptions()); err != nil {
			u.error("Error reading token: %v", err)
			return 1
		}
	} else {
		accessor, err := tokenAccessorID(client, id)
		if err != nil {
			u.error("Error determining token ID: %v", err)
			return 1
		}
		if t, _, err = client.ACL().TokenRead(accessor, hf.queryOptions()); err != nil {
			u.error("Error reading token %q: %v", accessor, err)
			return 1
		}
	}
	return out.print(u, t, func() string { return prettyToken(t, out.meta) })
}
