package main

import (
	"time"

	"github.com/hashicorp/consul/api"
)

const aclTokenCreateHelp = `
Usage: consul acl token create [options]

  Creates a token linked to policies, roles or identities; at least one
  must be given. Policies and roles are named by ID (or a unique prefix of
  one) or by name.

      $ consul acl token create -description "Replication token" \
                                -policy-name acl-replication \
                                -role-id c630d4ef-6

  The accessor and secret IDs are generated unless -accessor and -secret
  give them.
`

// runACLTokenCreate is `consul acl token create`.
func runACLTokenCreate(u *ui, args []string) int {
	var (
		links                         linkFlags
		idents                        identityFlags
		accessor, secret, description string
		local                         bool
		expiresTTL                    time.Duration
	)
	c := newACLCommand("acl token create", aclTokenCreateHelp, printsObjectMeta, false)
	fs := c.fs
	fs.StringVar(&accessor, "accessor", "", "Create the token with this accessor `ID`, a UUID; generated if not given.")
	fs.StringVar(&secret, "secret", "", "Create the token with this secret `ID`, a UUID; generated if not given.")
	fs.StringVar(&description, "description", "", "A `description` of the token.")
	fs.BoolVar(&local, "local", false, "Create a token local to this datacenter, not replicated to others.")
	fs.DurationVar(&expiresTTL, "expires-ttl", 0, "How long the token is valid for (a `duration` such as 24h); for ever if not given.")
	links.register(fs, "token", "", "link to", true)
	idents.register(fs, "token")
	if code, done := c.parse(u, args); done {
		return code
	}
	if expiresTTL < 0 {
		u.error("Invalid -expires-ttl: %v is negative", expiresTTL)
		return 1
	}
	if !links.anyPolicies() && !links.anyRoles() && !idents.any() {
		u.error("Cannot create a token without specifying -policy-name, -policy-id, -role-name, -role-id, -service-identity, or -node-identity at least once")
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
	policies, roles, ok := links.resolve(u, client)
	if !ok {
		return 1
	}
	created, _, err := client.ACL().TokenCreate(&api.ACLToken{
		AccessorID:        accessor,
		SecretID:          secret,
		Description:       description,
		Local:             local,
		ExpirationTTL:     expiresTTL,
		Policies:          policies,
		Roles:             roles,
		ServiceIdentities: svcs,
		NodeIdentities:    nodes,
	}, nil)
	if err != nil {
		u.error("Failed to create new token: %v", err)
		return 1
	}
	return c.out.print(u, tokenObject(created))
}
