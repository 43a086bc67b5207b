package main

import (
	"github.com/hashicorp/consul/api"
)

const aclPolicyCreateHelp = `
Usage: consul acl policy create -name=NAME [options]

  Creates a policy. -rules takes the rules themselves, "@FILE" to read them
  from a file, or "-" to read them from standard input.

      $ consul acl policy create -name new-policy \
                                 -description "This is an example policy" \
                                 -valid-datacenter dc1 \
                                 -rules @rules.hcl
`

// runACLPolicyCreate is `consul acl policy create`.
func runACLPolicyCreate(u *ui, args []string) int {
	var (
		hf                       httpFlags
		out                      aclOutput
		name, description, rules string
		datacenters              stringsFlag
	)
	fs := newFlagSet("acl policy create")
	fs.StringVar(&name, "name", "", "The new policy's `name`. Required.")
	fs.StringVar(&description, "description", "", "A `description` of the policy.")
	fs.Var(&datacenters, "valid-datacenter", "A `datacenter` the policy is valid in; all when not given. May be repeated.")
	fs.StringVar(&rules, "rules", "", "The policy's `rules`: the rules, @FILE to read them from a file, or - for\nstandard input.")
	out.register(fs, true)
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, aclPolicyCreateHelp, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) || !out.check(u) {
		return 1
	}
	if name == "" {
		u.error("Missing required '-name' flag")
		return 1
	}
	text, err := loadRules(u.in, rules)
	if err != nil {
		u.error("Error loading rules: %v", err)
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	p, _, err := client.ACL().PolicyCreate(&api.ACLPolicy{
		Name:        name,
		Description: description,
		Datacenters: datacenters,
		Rules:       text,
	}, nil)
	if err != nil {
		u.error("Failed to create new policy: %v", err)
		return 1
	}
	return out.print(u, p, func() string { return prettyPolicy(p, out.meta) })
}
