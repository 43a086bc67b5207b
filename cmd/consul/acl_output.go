package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"
)

// aclOutput holds the -format and -meta flags of the acl commands and
// prints their results: in the layout of Consul's pretty printer, or as the
// API object in indented JSON.
type aclOutput struct {
	format string
	meta   bool
}

// register adds -format, and -meta when withMeta (bootstrap and clone
// have none, as in Consul).
func (o *aclOutput) register(fs *flag.FlagSet, withMeta bool) {
	fs.StringVar(&o.format, "format", formatPretty, "Output `format`: pretty or json.")
	if withMeta {
		fs.BoolVar(&o.meta, "meta", false,
			"Also show the metadata of each entry: its content hash and Raft indexes.")
	}
}

// check reports an unknown -format. It runs before any request, so that a
// create does not succeed only to have its result fail to print.
func (o *aclOutput) check(u *ui) bool {
	if o.format != formatPretty && o.format != formatJSON {
		u.error("Unknown format: %s (use %s or %s)", o.format, formatPretty, formatJSON)
		return false
	}
	return true
}

// print writes v as indented JSON with -format=json, or else what pretty
// returns, and gives the command's exit code. As with Consul's CLI, the
// output is followed by a newline, and an empty pretty output prints
// nothing.
func (o *aclOutput) print(u *ui, v interface{}, pretty func() string) int {
	if o.format == formatJSON {
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			u.error("Failed to encode the output: %v", err)
			return 1
		}
		u.info("%s", b)
		return 0
	}
	if s := pretty(); s != "" {
		u.info("%s", s)
	}
	return 0
}

// prettyToken is a token as Consul's `acl token read` shows it.
func prettyToken(t *api.ACLToken, meta bool) string {
	var b strings.Builder
	if meta {
		field(&b, "", 18, "Name", t.Name)
	}
	field(&b, "", 18, "AccessorID", t.AccessorID)
	field(&b, "", 18, "SecretID", t.SecretID)
	scope(&b, "", 18, t.Partition, t.Namespace)
	field(&b, "", 18, "Description", t.Description)
	field(&b, "", 18, "Local", fmt.Sprint(t.Local))
	if t.AuthMethod != "" {
		field(&b, "", 18, "Auth Method", authMethod(t.AuthMethod, t.AuthMethodNamespace))
	}
	field(&b, "", 18, "Create Time", fmt.Sprint(t.CreateTime))
	if t.ExpirationTime != nil && !t.ExpirationTime.IsZero() {
		field(&b, "", 18, "Expiration Time", fmt.Sprint(*t.ExpirationTime))
	}
	if meta {
		tokenMeta(&b, "", t.Hash, t.CreateIndex, t.ModifyIndex)
	}
	links(&b, "", "Policies", t.Policies)
	links(&b, "", "Roles", t.Roles)
	serviceIdentities(&b, "", t.ServiceIdentities)
	nodeIdentities(&b, "", t.NodeIdentities)
	return b.String()
}

// prettyTokenList is a token listing as Consul's `acl token list` shows
// it: each token as read shows it, plus its Legacy flag, with a blank line
// between tokens.
func prettyTokenList(tokens []*api.ACLTokenListEntry, meta bool) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteString("\n")
		}
		field(&b, "", 18, "AccessorID", t.AccessorID)
		field(&b, "", 18, "SecretID", t.SecretID)
		scope(&b, "", 18, t.Partition, t.Namespace)
		field(&b, "", 18, "Description", t.Description)
		field(&b, "", 18, "Local", fmt.Sprint(t.Local))
		if t.AuthMethod != "" {
			field(&b, "", 18, "Auth Method", authMethod(t.AuthMethod, t.AuthMethodNamespace))
		}
		field(&b, "", 18, "Create Time", fmt.Sprint(t.CreateTime))
		if t.ExpirationTime != nil && !t.ExpirationTime.IsZero() {
			field(&b, "", 18, "Expiration Time", fmt.Sprint(*t.ExpirationTime))
		}
		field(&b, "", 18, "Legacy", fmt.Sprint(t.Legacy))
		if meta {
			tokenMeta(&b, "", t.Hash, t.CreateIndex, t.ModifyIndex)
		}
		links(&b, "", "Policies", t.Policies)
		links(&b, "", "Roles", t.Roles)
		serviceIdentities(&b, "", t.ServiceIdentities)
		nodeIdentities(&b, "", t.NodeIdentities)
	}
	return b.String()
}

// prettyPolicy is a policy as Consul's `acl policy read` shows it; its
// rules close the output as written.
func prettyPolicy(p *api.ACLPolicy, meta bool) string {
	var b strings.Builder
	field(&b, "", 14, "ID", p.ID)
	field(&b, "", 14, "Name", p.Name)
	scope(&b, "", 14, p.Partition, p.Namespace)
	field(&b, "", 14, "Description", p.Description)
	field(&b, "", 14, "Datacenters", strings.Join(p.Datacenters, ", "))
	if meta {
		shortMeta(&b, "", p.Hash, p.CreateIndex, p.ModifyIndex)
	}
	b.WriteString("Rules:\n")
	b.WriteString(p.Rules)
	return b.String()
}

// prettyPolicyList is a policy listing as Consul's `acl policy list` shows
// it: each policy's name, then its fields indented.
func prettyPolicyList(policies []*api.ACLPolicyListEntry, meta bool) string {
	var b strings.Builder
	for _, p := range policies {
		fmt.Fprintf(&b, "%s:\n", p.Name)
		field(&b, "   ", 14, "ID", p.ID)
		scope(&b, "   ", 14, p.Partition, p.Namespace)
		field(&b, "   ", 14, "Description", p.Description)
		field(&b, "   ", 14, "Datacenters", strings.Join(p.Datacenters, ", "))
		if meta {
			shortMeta(&b, "   ", p.Hash, p.CreateIndex, p.ModifyIndex)
		}
	}
	return b.String()
}

// prettyRole is a role as Consul's `acl role read` shows it.
func prettyRole(r *api.ACLRole, meta bool) string {
	var b strings.Builder
	field(&b, "", 14, "ID", r.ID)
	field(&b, "", 14, "Name", r.Name)
	writeRoleBody(&b, "", r, meta)
	return b.String()
}

// prettyRoleList is a role listing as Consul's `acl role list` shows it:
// each role's name, then its fields indented.
func prettyRoleList(roles []*api.ACLRole, meta bool) string {
	var b strings.Builder
	for _, r := range roles {
		fmt.Fprintf(&b, "%s:\n", r.Name)
		field(&b, "   ", 14, "ID", r.ID)
		writeRoleBody(&b, "   ", r, meta)
	}
	return b.String()
}

// writeRoleBody writes a role's fields after its ID and name.
func writeRoleBody(b *strings.Builder, indent string, r *api.ACLRole, meta bool) {
	scope(b, indent, 14, r.Partition, r.Namespace)
	field(b, indent, 14, "Description", r.Description)
	if meta {
		shortMeta(b, indent, r.Hash, r.CreateIndex, r.ModifyIndex)
	}
	links(b, indent, "Policies", r.Policies)
	serviceIdentities(b, indent, r.ServiceIdentities)
	nodeIdentities(b, indent, r.NodeIdentities)
}

// field writes "Label:" padded to width, then the value.
func field(b *strings.Builder, indent string, width int, label, value string) {
	fmt.Fprintf(b, "%s%-*s%s\n", indent, width, label+":", value)
}

// scope writes the Enterprise partition and namespace, when set.
func scope(b *strings.Builder, indent string, width int, partition, namespace string) {
	if partition != "" {
		field(b, indent, width, "Partition", partition)
	}
	if namespace != "" {
		field(b, indent, width, "Namespace", namespace)
	}
}

// authMethod names the auth method a token came from.
func authMethod(name, namespace string) string {
	if namespace == "" {
		return name
	}
	return fmt.Sprintf("%s (Namespace: %s)", name, namespace)
}

// tokenMeta writes a token's -meta fields.
func tokenMeta(b *strings.Builder, indent string, hash []byte, create, modify uint64) {
	field(b, indent, 18, "Hash", fmt.Sprintf("%x", hash))
	field(b, indent, 18, "Create Index", fmt.Sprint(create))
	field(b, indent, 18, "Modify Index", fmt.Sprint(modify))
}

// shortMeta writes the -meta fields of a policy or role, whose labels are
// narrower than a token's.
func shortMeta(b *strings.Builder, indent string, hash []byte, create, modify uint64) {
	field(b, indent, 14, "Hash", fmt.Sprintf("%x", hash))
	field(b, indent, 14, "Create Index", fmt.Sprint(create))
	field(b, indent, 14, "Modify Index", fmt.Sprint(modify))
}

// links writes a list of linked policies or roles as "ID - Name", under a
// heading; nothing when there are none.
func links(b *strings.Builder, indent, heading string, list []*api.ACLLink) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%s:\n", indent, heading)
	for _, l := range list {
		fmt.Fprintf(b, "%s   %s - %s\n", indent, l.ID, l.Name)
	}
}

// serviceIdentities writes the service identities, with their datacenters.
func serviceIdentities(b *strings.Builder, indent string, ids []*api.ACLServiceIdentity) {
	if len(ids) == 0 {
		return
	}
	fmt.Fprintf(b, "%sService Identities:\n", indent)
	for _, id := range ids {
		dcs := "all"
		if len(id.Datacenters) > 0 {
			dcs = strings.Join(id.Datacenters, ", ")
		}
		fmt.Fprintf(b, "%s   %s (Datacenters: %s)\n", indent, id.ServiceName, dcs)
	}
}

// nodeIdentities writes the node identities, with their datacenter.
func nodeIdentities(b *strings.Builder, indent string, ids []*api.ACLNodeIdentity) {
	if len(ids) == 0 {
		return
	}
	fmt.Fprintf(b, "%sNode Identities:\n", indent)
	for _, id := range ids {
		fmt.Fprintf(b, "%s   %s (Datacenter: %s)\n", indent, id.NodeName, id.Datacenter)
	}
}
