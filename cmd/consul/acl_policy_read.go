package main

import (
	"github.com/hashicorp/consul/api"
)

const aclPolicyReadHelp = `
Usage: consul acl policy read [options] (-id=ID | -name=NAME)

  Prints one policy, rules included. -id takes the policy's ID or a unique
  prefix of it.

      $ consul acl policy read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba
      $ consul acl policy read -name my-policy
`

// runACLPolicyRead is `consul acl policy read`.
func runACLPolicyRead(u *ui, args []string) int {
	var (
		hf       httpFlags
		out      aclOutput
		id, name string
	)
	fs := newFlagSet("acl policy read")
	fs.StringVar(&id, "id", "", "The `ID` of the policy to read, or a unique prefix of it.")
	fs.StringVar(&name, "name", "", "The `name` of the policy to read.")
	out.register(fs, true)
	hf.register(fs, true)
	if code, done := parseFlags(u, fs, aclPolicyReadHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
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

	var p *api.ACLPolicy
	if id != "" {
		full, err := policyID(client, id)
		if err != nil {
			u.error("Error determining policy ID: %v", err)
			return 1
		}
		if p, _, err = client.ACL().PolicyRead(full, hf.queryOptions()); err != nil {
			u.error("Error reading policy %q: %v", "id:"+full, err)
			return 1
		}
	} else {
		var err error
		if p, _, err = client.ACL().PolicyReadByName(name, hf.queryOptions()); err != nil {
			u.error("Error reading policy %q: %v", "name:"+name, err)
			return 1
		}
	}
	if p == nil {
		u.error("Error policy not found: %s", name)
		return 1
	}
	return out.print(u, p, func() string { return prettyPolicy(p, out.meta) })
}
