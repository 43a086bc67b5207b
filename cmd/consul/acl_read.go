package main

const aclPolicyReadHelp = `
Usage: consul acl policy read [options] (-id=ID | -name=NAME)

  Prints one policy, rules included. -id takes the policy's ID or a unique
  prefix of it.

      $ consul acl policy read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba
      $ consul acl policy read -name my-policy
`

const aclRoleReadHelp = `
Usage: consul acl role read [options] (-id=ID | -name=NAME)

  Prints one role. -id takes the role's ID or a unique prefix of it.

      $ consul acl role read -id fdabbcb5-9de5-4b1a-961f-77214ae88cba
      $ consul acl role read -name my-role
`

// runRead is `consul acl policy read` and `acl role read`. (`acl token
// read` is runACLTokenRead: a token is named by -id or -self, not -name.)
func (k *aclKind) runRead(u *ui, args []string) int {
	var id, name string
	c := newACLCommand("acl "+k.name+" read", k.readHelp, printsObjectMeta, true)
	k.idFlag(c.fs, &id, "read")
	k.nameFlag(c.fs, &name, "read")
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

	var (
		full, ref string
		obj       aclObject
		err       error
	)
	if id != "" {
		if full, ok = k.findID(u, client, id, ""); !ok {
			return 1
		}
		ref = k.ref("id", full)
		obj, err = k.read(client, full, c.http.queryOptions())
	} else {
		ref = k.ref("name", name)
		obj, err = k.readByName(client, name, c.http.queryOptions())
	}
	if err != nil {
		u.error("Error reading %s %q: %v", k.name, ref, err)
		return 1
	}
	if obj.value == nil {
		u.error("%s", k.notFound(full, name))
		return 1
	}
	return c.out.print(u, obj)
}

// ref names the object read by an ID or a name in read's errors: the bare
// value, or "by:value" for kinds with taggedRefs.
func (k *aclKind) ref(by, value string) string {
	if k.taggedRefs {
		return by + ":" + value
	}
	return value
}
