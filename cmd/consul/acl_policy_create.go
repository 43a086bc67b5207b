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
		name, description, rules string
		datacenters              stringsFlag
	)
	c := newACLCommand("acl policy create", aclPolicyCreateHelp, printsObjectMeta, false)
	c.fs.StringVar(&name, "name", "", "The new policy's `name`. Required.")
	c.fs.StringVar(&description, "description", "", "A `description` of the policy.")
	c.fs.Var(&datacenters, "valid-datacenter", "A `datacenter` the policy is valid in; all when not given. May be repeated.")
	c.fs.StringVar(&rules, "rules", "", "The policy's `rules`: the rules, @FILE to read them from a file, or - for\nstandard input.")
	if code, done := c.parse(u, args); done {
		return code
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
	client, ok := c.client(u)
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
	return c.out.print(u, policyObject(p))
}
