package main

import (
	"github.com/hashicorp/consul/api"
)

const aclRoleUpdateHelp = `
Usage: consul acl role update [options] -id=ID

  Updates a role. By default what is given is merged into the role: a new
  name or description replaces the current one, and policies and
  identities are added to the role's. With -no-merge, the role becomes
  exactly what the command gives.

      $ consul acl role update -id abcd -name better-name
      $ consul acl role update -id abcd -policy-name token-replication
`

// runACLRoleUpdate is `consul acl role update`.
func runACLRoleUpdate(u *ui, args []string) int {
	var (
		links                 linkFlags
		idents                identityFlags
		id, name, description string
		noMerge               bool
	)
	c := newACLCommand("acl role update", aclRoleUpdateHelp, printsObjectMeta, false)
	aclRole.idFlag(c.fs, &id, "update")
	c.fs.StringVar(&name, "name", "", "The role's new `name`.")
	c.fs.StringVar(&description, "description", "", "The role's new `description`.")
	links.register(c.fs, "role", "", "give", false)
	idents.register(c.fs, "role")
	c.fs.BoolVar(&noMerge, "no-merge", false, "Replace every field of the role with what is given, instead of merging.")
	if code, done := c.parse(u, args); done {
		return code
	}
	if id == "" {
		u.error("Cannot update a role without specifying the -id parameter")
		return 1
	}
	svcs, nodes, ok := idents.parse(u)
	if !ok {
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	full, ok := aclRole.findID(u, client, id, "")
	if !ok {
		return 1
	}
	policies, _, ok := links.resolve(u, client)
	if !ok {
		return 1
	}
	// The current role is read even with -no-merge, to fail clearly when
	// there is none.
	r, _, err := client.ACL().RoleRead(full, nil)
	if err != nil {
		u.error("Error when retrieving current role: %v", err)
		return 1
	}
	if r == nil {
		u.error("%s", aclRole.notFound(full, ""))
		return 1
	}

	if noMerge {
		r = &api.ACLRole{ID: full, Name: name, Description: description,
			Policies: policies, ServiceIdentities: svcs, NodeIdentities: nodes}
	} else {
		if name != "" {
			r.Name = name
		}
		if description != "" {
			r.Description = description
		}
		r.Policies = mergeLinks(r.Policies, policies)
		r.ServiceIdentities = mergeServiceIdentities(r.ServiceIdentities, svcs)
		r.NodeIdentities = mergeNodeIdentities(r.NodeIdentities, nodes)
	}
	updated, _, err := client.ACL().RoleUpdate(r, nil)
	if err != nil {
		u.error("Error updating role %q: %v", full, err)
		return 1
	}
	return c.out.print(u, roleObject(updated))
}

// mergeServiceIdentities adds identities to list; one for a service
// already there replaces it.
func mergeServiceIdentities(list, add []*api.ACLServiceIdentity) []*api.ACLServiceIdentity {
	for _, a := range add {
		replaced := false
		for i, l := range list {
			if l.ServiceName == a.ServiceName {
				list[i], replaced = a, true
				break
			}
		}
		if !replaced {
			list = append(list, a)
		}
	}
	return list
}

// mergeNodeIdentities adds the identities list does not hold yet.
func mergeNodeIdentities(list, add []*api.ACLNodeIdentity) []*api.ACLNodeIdentity {
	for _, a := range add {
		held := false
		for _, l := range list {
			if l.NodeName == a.NodeName && l.Datacenter == a.Datacenter {
				held = true
				break
			}
		}
		if !held {
			list = append(list, a)
		}
	}
	return list
}
