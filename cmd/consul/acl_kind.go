package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"
)

// Built-in ACL IDs, as Consul assigns them.
const (
	// aclGlobalManagementPolicyID is the policy granting everything, which
	// the bootstrap token holds.
	aclGlobalManagementPolicyID = "00000000-0000-0000-0000-000000000001"
	// aclAnonymousTokenID is the token of requests that carry none.
	aclAnonymousTokenID = "00000000-0000-0000-0000-000000000002"
)

// uuidLen is the length of a whole UUID: an -id that long is used as
// given, without listing anything.
const uuidLen = 36

// aclKind is what the acl commands that work alike on policies, roles and
// tokens (read, list, delete, and finding an object by -id or -name) need
// to know about one kind of object. Its functions only call the API; the
// commands' flags, checks and messages are written once, in its methods.
type aclKind struct {
	// name is the kind in messages and flag help ("policy"); title starts
	// a sentence with it ("Policy").
	name, title string
	// idNoun is how flag help names the ID: "`ID`", or "accessor `ID`".
	idNoun string
	// alias is an -id that names a built-in object by a word rather than
	// its ID ("anonymous"), and aliasID that ID; "" when there is none.
	alias, aliasID string
	// ids lists the IDs of every object of the kind, to resolve a prefix.
	ids func(c *api.Client) ([]string, error)
	// read returns the object with the whole ID, and readByName the one
	// called name (nil for tokens, which have no -name); a zero aclObject
	// when there is none.
	read, readByName func(c *api.Client, key string, q *api.QueryOptions) (aclObject, error)
	// list returns every object of the kind.
	list func(c *api.Client, q *api.QueryOptions) (aclObject, error)
	// delete deletes the object with the whole ID.
	delete func(c *api.Client, id string) error

	// readHelp, listHelp and deleteHelp are the commands' help texts;
	// readHelp is "" for tokens, whose read is a command of its own.
	readHelp, listHelp, deleteHelp string
	// taggedRefs makes read's errors name the object as "id:ID" or
	// "name:NAME" rather than by the bare ID or name, as Consul's CLI does
	// for policies.
	taggedRefs bool
	// notFound is read's error when the server has no such object: id is
	// the whole ID read, or "" when read by name.
	notFound func(id, name string) string
}

// aclPolicy is the kind of `consul acl policy`.
var aclPolicy = &aclKind{
	name: "policy", title: "Policy", idNoun: "`ID`",
	alias: "global-management", aliasID: aclGlobalManagementPolicyID,
	ids: func(c *api.Client) ([]string, error) {
		policies, _, err := c.ACL().PolicyList(nil)
		ids := make([]string, len(policies))
		for i, p := range policies {
			ids[i] = p.ID
		}
		return ids, err
	},
	read: func(c *api.Client, id string, q *api.QueryOptions) (aclObject, error) {
		p, _, err := c.ACL().PolicyRead(id, q)
		return policyObject(p), err
	},
	readByName: func(c *api.Client, name string, q *api.QueryOptions) (aclObject, error) {
		p, _, err := c.ACL().PolicyReadByName(name, q)
		return policyObject(p), err
	},
	list: func(c *api.Client, q *api.QueryOptions) (aclObject, error) {
		policies, _, err := c.ACL().PolicyList(q)
		return listObject(policies, prettyPolicyList), err
	},
	delete: func(c *api.Client, id string) error {
		_, err := c.ACL().PolicyDelete(id, nil)
		return err
	},
	readHelp: aclPolicyReadHelp, listHelp: aclPolicyListHelp, deleteHelp: aclPolicyDeleteHelp,
	taggedRefs: true,
	notFound:   func(_, name string) string { return "Error policy not found: " + name },
}

// aclRole is the kind of `consul acl role`.
var aclRole = &aclKind{
	name: "role", title: "Role", idNoun: "`ID`",
	ids: func(c *api.Client) ([]string, error) {
		roles, _, err := c.ACL().RoleList(nil)
		ids := make([]string, len(roles))
		for i, r := range roles {
			ids[i] = r.ID
		}
		return ids, err
	},
	read: func(c *api.Client, id string, q *api.QueryOptions) (aclObject, error) {
		r, _, err := c.ACL().RoleRead(id, q)
		return roleObject(r), err
	},
	readByName: func(c *api.Client, name string, q *api.QueryOptions) (aclObject, error) {
		r, _, err := c.ACL().RoleReadByName(name, q)
		return roleObject(r), err
	},
	list: func(c *api.Client, q *api.QueryOptions) (aclObject, error) {
		roles, _, err := c.ACL().RoleList(q)
		return listObject(roles, prettyRoleList), err
	},
	delete: func(c *api.Client, id string) error {
		_, err := c.ACL().RoleDelete(id, nil)
		return err
	},
	readHelp: aclRoleReadHelp, listHelp: aclRoleListHelp, deleteHelp: aclRoleDeleteHelp,
	notFound: func(id, name string) string {
		if id != "" {
			return fmt.Sprintf("Role not found with ID %q", id)
		}
		return fmt.Sprintf("Role not found with name %q", name)
	},
}

// aclToken is the kind of `consul acl token`, whose -id is an accessor ID.
var aclToken = &aclKind{
	name: "token", title: "Token", idNoun: "accessor `ID`",
	alias: "anonymous", aliasID: aclAnonymousTokenID,
	ids: func(c *api.Client) ([]string, error) {
		tokens, _, err := c.ACL().TokenList(nil)
		ids := make([]string, len(tokens))
		for i, t := range tokens {
			ids[i] = t.AccessorID
		}
		return ids, err
	},
	read: func(c *api.Client, id string, q *api.QueryOptions) (aclObject, error) {
		t, _, err := c.ACL().TokenRead(id, q)
		return tokenObject(t), err
	},
	list: func(c *api.Client, q *api.QueryOptions) (aclObject, error) {
		tokens, _, err := c.ACL().TokenList(q)
		return listObject(tokens, prettyTokenList), err
	},
	delete: func(c *api.Client, id string) error {
		_, err := c.ACL().TokenDelete(id, nil)
		return err
	},
	listHelp: aclTokenListHelp, deleteHelp: aclTokenDeleteHelp,
}

// named tells whether objects of the kind have names that -name takes.
func (k *aclKind) named() bool { return k.readByName != nil }

// idFlag registers -id, the object to verb ("read").
func (k *aclKind) idFlag(fs *flag.FlagSet, id *string, verb string) {
	fs.StringVar(id, "id", "", fmt.Sprintf("The %s of the %s to %s, or a unique prefix of it.", k.idNoun, k.name, verb))
}

// nameFlag registers -name, the object to verb, for kinds that have names.
func (k *aclKind) nameFlag(fs *flag.FlagSet, name *string, verb string) {
	fs.StringVar(name, "name", "", fmt.Sprintf("The `name` of the %s to %s.", k.name, verb))
}

// requireID reports a command line that names no object: neither -id nor,
// for kinds that have names, -name.
func (k *aclKind) requireID(u *ui, id, name string) bool {
	switch {
	case id != "" || name != "":
		return true
	case k.named():
		u.error("Must specify either the -id or -name parameters")
	default:
		u.error("Must specify the -id parameter")
	}
	return false
}

// findID returns the whole ID of the object that -id names or, without
// -id, the one called name, or reports why there is none.
func (k *aclKind) findID(u *ui, c *api.Client, id, name string) (string, bool) {
	var (
		full string
		err  error
	)
	if id != "" {
		full, err = k.resolveID(c, id)
	} else {
		full, err = k.idByName(c, name)
	}
	if err != nil {
		u.error("Error determining %s ID: %v", k.name, err)
		return "", false
	}
	return full, true
}

// resolveID resolves an -id as Consul's CLI does: a whole ID, the kind's
// alias, or a prefix that only one object's ID starts with.
func (k *aclKind) resolveID(c *api.Client, id string) (string, error) {
	if k.alias != "" && id == k.alias {
		return k.aliasID, nil
	}
	if len(id) == uuidLen {
		return id, nil
	}
	ids, err := k.ids(c)
	if err != nil {
		return "", err
	}
	return uniquePrefix(k.name, id, ids)
}

// idByName returns the ID of the object called name.
func (k *aclKind) idByName(c *api.Client, name string) (string, error) {
	obj, err := k.readByName(c, name, nil)
	if err != nil {
		return "", fmt.Errorf("Failed to find %s with name %s: %w", k.name, name, err)
	}
	if obj.value == nil {
		return "", fmt.Errorf("No such %s with name %s", k.name, name)
	}
	return obj.id, nil
}

// uniquePrefix returns the one ID of ids that starts with prefix.
func uniquePrefix(kind, prefix string, ids []string) (string, error) {
	found := ""
	for _, id := range ids {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("Partial %s ID is not unique", kind)
		}
		found = id
	}
	if found == "" {
		return "", fmt.Errorf("No such %s ID with prefix: %s", kind, prefix)
	}
	return found, nil
}
