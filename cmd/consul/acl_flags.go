package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/consul/api"
)

// stringsFlag is a repeatable flag: each use adds a value.
type stringsFlag []string

func (s *stringsFlag) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(*s, ", ")
}

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// linkFlags are the -policy-id, -policy-name, -role-id and -role-name
// flags, which link a token or role to policies and roles.
type linkFlags struct {
	policyIDs, policyNames, roleIDs, roleNames stringsFlag
}

// register adds the policy flags, and the role flags when roles (a role
// cannot link other roles). what is "token" or "role", for the help text;
// prefix ("" or "append-") and verb start the flag names and their help.
func (l *linkFlags) register(fs *flag.FlagSet, what, prefix, verb string, roles bool) {
	fs.Var(&l.policyIDs, prefix+"policy-id",
		fmt.Sprintf("The `ID` of a policy to %s this %s; may be a unique prefix. May be repeated.", verb, what))
	fs.Var(&l.policyNames, prefix+"policy-name",
		fmt.Sprintf("The `name` of a policy to %s this %s. May be repeated.", verb, what))
	if roles {
		fs.Var(&l.roleIDs, prefix+"role-id",
			fmt.Sprintf("The `ID` of a role to %s this %s; may be a unique prefix. May be repeated.", verb, what))
		fs.Var(&l.roleNames, prefix+"role-name",
			fmt.Sprintf("The `name` of a role to %s this %s. May be repeated.", verb, what))
	}
}

// anyPolicies tells whether any policy flag was given.
func (l *linkFlags) anyPolicies() bool { return len(l.policyIDs)+len(l.policyNames) > 0 }

// anyRoles tells whether any role flag was given.
func (l *linkFlags) anyRoles() bool { return len(l.roleIDs)+len(l.roleNames) > 0 }

// policies resolves the policy flags into links. Names are sent as they
// are, for the server to resolve, as Consul's CLI does; IDs may be
// prefixes, resolved here.
func (l *linkFlags) policies(c *api.Client) ([]*api.ACLLink, error) {
	return resolveLinks(c, aclPolicy, l.policyNames, l.policyIDs)
}

// roles resolves the role flags into links, as policies does.
func (l *linkFlags) roles(c *api.Client) ([]*api.ACLLink, error) {
	return resolveLinks(c, aclRole, l.roleNames, l.roleIDs)
}

// resolve resolves the policy flags, then the role flags, into links, or
// reports why it cannot.
func (l *linkFlags) resolve(u *ui, c *api.Client) (policies, roles []*api.ACLLink, ok bool) {
	var err error
	if policies, err = l.policies(c); err == nil {
		roles, err = l.roles(c)
	}
	if err != nil {
		u.error("%v", err)
		return nil, nil, false
	}
	return policies, roles, true
}

// resolveLinks makes links of the objects of kind k named by names and by
// ids, which may be prefixes.
func resolveLinks(c *api.Client, k *aclKind, names, ids []string) ([]*api.ACLLink, error) {
	var out []*api.ACLLink
	for _, n := range names {
		out = append(out, &api.ACLLink{Name: n})
	}
	for _, id := range ids {
		full, err := k.resolveID(c, id)
		if err != nil {
			return nil, fmt.Errorf("Error resolving %s ID %s: %v", k.name, id, err)
		}
		out = append(out, &api.ACLLink{ID: full})
	}
	return out, nil
}

// mergeLinks adds to list the links it does not hold yet, by ID or name.
func mergeLinks(list, add []*api.ACLLink) []*api.ACLLink {
	for _, a := range add {
		held := false
		for _, l := range list {
			if a.ID != "" && l.ID == a.ID || a.Name != "" && l.Name == a.Name {
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

// identityFlags are the -service-identity and -node-identity flags.
type identityFlags struct {
	services, nodes stringsFlag
}

// register adds the flags; what is "token" or "role".
func (f *identityFlags) register(fs *flag.FlagSet, what string) {
	fs.Var(&f.services, "service-identity",
		"A service identity to give this "+what+": `NAME`, or NAME:DC1,DC2 to limit it to\n"+
			"those datacenters. May be repeated.")
	fs.Var(&f.nodes, "node-identity",
		"A node identity to give this "+what+", as `NODE:DATACENTER`. May be repeated.")
}

// any tells whether any identity was given.
func (f *identityFlags) any() bool { return len(f.services)+len(f.nodes) > 0 }

// parse reads the flags' values, or reports a malformed one.
func (f *identityFlags) parse(u *ui) ([]*api.ACLServiceIdentity, []*api.ACLNodeIdentity, bool) {
	var svcs []*api.ACLServiceIdentity
	for _, v := range f.services {
		name, dcs, hasDCs := strings.Cut(v, ":")
		if name == "" || strings.Contains(dcs, ":") || hasDCs && dcs == "" {
			u.error("Malformed -service-identity argument: %q", v)
			return nil, nil, false
		}
		id := &api.ACLServiceIdentity{ServiceName: name}
		if hasDCs {
			id.Datacenters = strings.Split(dcs, ",")
		}
		svcs = append(svcs, id)
	}
	var nodes []*api.ACLNodeIdentity
	for _, v := range f.nodes {
		name, dc, ok := strings.Cut(v, ":")
		if !ok || name == "" || dc == "" || strings.Contains(dc, ":") {
			u.error("Malformed -node-identity argument: %q", v)
			return nil, nil, false
		}
		nodes = append(nodes, &api.ACLNodeIdentity{NodeName: name, Datacenter: dc})
	}
	return svcs, nodes, true
}

// loadRules reads the value of -rules as Consul's CLI does: "@FILE" for a
// file's contents, "-" for standard input, anything else as the rules.
func loadRules(stdin io.Reader, v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "@"):
		data, err := os.ReadFile(v[1:])
		if err != nil {
			return "", fmt.Errorf("Failed to read file: %v", err)
		}
		return string(data), nil
	case v == "-":
		data, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("Failed to read stdin: %v", err)
		}
		return string(data), nil
	}
	return v, nil
}
