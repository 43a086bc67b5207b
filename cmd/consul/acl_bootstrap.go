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
	var (
		hf  httpFlags
		out aclOutput
	)
	fs := newFlagSet("acl bootstrap")
	out.register(fs, false)
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclBootstrapHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	t, _, err := client.ACL().Bootstrap()
	if err != nil {
		u.error("Failed ACL bootstrapping: %v", err)
		return 1
	}
	return out.print(u, t, func() string { return prettyToken(t, false) })
}
