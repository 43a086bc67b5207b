package main

const aclTokenDeleteHelp = `
Usage: consul acl token delete [options] -id=ID

  Deletes a token, given its accessor ID or a unique prefix of it.

      $ consul acl token delete -id b6b85
`

const aclPolicyDeleteHelp = `
Usage: consul acl policy delete [options] (-id=ID | -name=NAME)

  Deletes a policy, given its ID (or a unique prefix of it) or its name.

      $ consul acl policy delete -id b6b85
      $ consul acl policy delete -name my-policy
`

const aclRoleDeleteHelp = `
Usage: consul acl role delete [options] (-id=ID | -name=NAME)

  Deletes a role, given its ID (or a unique prefix of it) or its name.

      $ consul acl role delete -id b6b85
      $ consul acl role delete -name my-role
`

// runDelete is `consul acl token delete`, `acl policy delete` and `acl
// role delete`; tokens are named by -id only.
func (k *aclKind) runDelete(u *ui, args []string) int {
	var id, name string
	c := newACLCommand("acl "+k.name+" delete", k.deleteHelp, printsMessage, false)
	k.idFlag(c.fs, &id, "delete")
	if k.named() {
		k.nameFlag(c.fs, &name, "delete")
	}
	if code, done := c.parse(u, args); done {
		return code
	}
	if !k.requireID(u, id, name) {
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	full, ok := k.findID(u, client, id, name)
	if !ok {
		return 1
	}
	if err := k.delete(client, full); err != nil {
		u.error("Error deleting %s %q: %v", k.name, full, err)
		return 1
	}
	u.info("%s %q deleted successfully", k.title, full)
	return 0
}
