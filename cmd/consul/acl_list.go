package main

const aclTokenListHelp = `
Usage: consul acl token list [options]

  Lists every token, with its policies and roles.

      $ consul acl token list
`

const aclPolicyListHelp = `
Usage: consul acl policy list [options]

  Lists every policy, without its rules.

      $ consul acl policy list
`

const aclRoleListHelp = `
Usage: consul acl role list [options]

  Lists every role, with its policies and identities.

      $ consul acl role list
`

// runList is `consul acl token list`, `acl policy list` and `acl role
// list`.
func (k *aclKind) runList(u *ui, args []string) int {
	c := newACLCommand("acl "+k.name+" list", k.listHelp, printsObjectMeta, true)
	if code, done := c.parse(u, args); done {
		return code
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	list, err := k.list(client, c.http.queryOptions())
	if err != nil {
		u.error("Failed to retrieve the %s list: %v", k.name, err)
		return 1
	}
	return c.out.print(u, list)
}
