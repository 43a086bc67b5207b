package main

const aclBootstrapHelp = `
Usage: consul acl bootstrap [options]

  Bootstraps the ACL system: asks the servers for a new token with unlimited
  privileges (the global-management policy) and prints it, secret included.
  This works once per cluster; afterwards the servers refuse.

      $ consul acl bootstrap
`

// runACLBootstrap is `consul acl bootstrap`.
func runACLBootstrap(u *ui, args []string) int {
	c := newACLCommand("acl bootstrap", aclBootstrapHelp, printsObject, false)
	if code, done := c.parse(u, args); done {
		return code
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	t, _, err := client.ACL().Bootstrap()
	if err != nil {
		u.error("Failed ACL bootstrapping: %v", err)
		return 1
	}
	return c.out.print(u, tokenObject(t))
}
