package main

import (
	"github.com/hashicorp/consul/api"
)

const aclPolicyUpdateHelp = `
Usage: consul acl policy update [options] (-id=ID | -name=NAME)

  Updates a policy. What is not given is kept, unless -no-merge is given:
  then every field is what the command gives, and empty when not given.
  To rename a policy, give its -id and the new -name.

      $ consul acl policy update -id abcd -name better-name
      $ consul acl policy update -name my-policy -rules @rules.hcl
`

// runACLPolicyUpdate is `consul acl policy update`.
func runACLPolicyUpdate(u *ui, args []string) int {
	var (
		id, name, description, rules string
		datacenters                  stringsFlag
		noMerge                      bool
	)
	c := newACLCommand("acl policy update", aclPolicyUpdateHelp, printsObjectMeta, false)
	fs := c.fs
	aclPolicy.idFlag(fs, &id, "update")
	fs.StringVar(&name, "name", "", "The policy's new `name`; without -id, the name of the policy to update.")
	fs.StringVar(&description, "description", "", "The policy's new `description`.")
	fs.Var(&datacenters, "valid-datacenter", "A `datacenter` the policy is valid in; replaces the current list. May be repeated.")
	fs.StringVar(&rules, "rules", "", "The policy's new `rules`: the rules, @FILE to read them from a file, or - for\nstandard input.")
	fs.BoolVar(&noMerge, "no-merge", false, "Replace every field of the policy with what is given, instead of keeping what is not.")
	if code, done := c.parse(u, args); done {
		return code
	}
	if !aclPolicy.requireID(u, id, name) {
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
	full, ok := aclPolicy.findID(u, client, id, name)
	if !ok {
		return 1
	}

	p := &api.ACLPolicy{ID: full, Name: name, Description: description, Datacenters: datacenters, Rules: text}
	if !noMerge {
		current, _, err := client.ACL().PolicyRead(full, nil)
		if err != nil {
			u.error("Error reading policy %q: %v", full, err)
			return 1
		}
		// isSet rather than emptiness: an empty -description clears it.
		if !isSet(fs, "name") {
			p.Name = current.Name
		}
		if !isSet(fs, "description") {
			p.Description = current.Description
		}
		if !isSet(fs, "rules") {
			p.Rules = current.Rules
		}
		if len(datacenters) == 0 {
			p.Datacenters = current.Datacenters
		}
	}
	updated, _, err := client.ACL().PolicyUpdate(p, nil)
	if err != nil {
		u.error("Error updating policy %q: %v", full, err)
		return 1
	}
	return c.out.print(u, policyObject(updated))
}
