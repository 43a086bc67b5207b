package main

import (
	"github.com/hashicorp/consul/api"
)

const aclTokenListHelp = `
Usage: consul acl token list [options]

  Lists every token, with its policies and roles.

      $ consul acl token list
`

// runACLTokenList is `consul acl token list`.
func runACLTokenList(u *ui, args []string) int {
	var (
		hf  httpFlags
		out aclOutput
	)
	fs := newFlagSet("acl token list")
	out.register(fs, true)
	hf.register(fs, true)
	if code, done := parseFlags(u, fs, aclTokenListHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	tokens, _, err := client.ACL().TokenList(hf.queryOptions())
	if err != nil {
		u.error("Failed to retrieve the token list: %v", err)
		return 1
	}
	if tokens == nil {
		// An empty list, not null, in JSON.
		tokens = []*api.ACLTokenListEntry{}
	}
	return out.print(u, tokens, func() string { return prettyTokenList(tokens, out.meta) })
}
