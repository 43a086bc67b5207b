package main

import (
	"github.com/hashicorp/consul/api"
)

const aclPolicyListHelp = `
Usage: consul acl policy list [options]

  Lists every policy, without its rules.

      $ consul acl policy list
`

// runACLPolicyList is `consul acl policy list`.
func runACLPolicyList(u *ui, args []string) int {
	var (
		hf  httpFlags
		out aclOutput
	)
	fs := newFlagSet("acl policy list")
	out.register(fs, true)
	hf.register(fs, true)
	if code, done := parseFlags(u, fs, aclPolicyListHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	policies, _, err := client.ACL().PolicyList(hf.queryOptions())
	if err != nil {
		u.error("Failed to retrieve the policy list: %v", err)
		return 1
	}
	if policies == nil {
		policies = []*api.ACLPolicyListEntry{}
	}
	return out.print(u, policies, func() string { return prettyPolicyList(policies, out.meta) })
}
