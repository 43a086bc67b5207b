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

// aclObject is an object or list the API returned, ready to print.
type aclObject struct {
	// id is the object's ID (a token's accessor ID); "" for a list.
	id string
	// value is what the API returned, printed with -format=json; nil when
	// nothing was found.
	value interface{}
	// pretty lays value out as Consul's CLI does; meta adds the -meta
	// fields.
	pretty func(meta bool) string
}

// tokenObject is t ready to print; a zero aclObject when t is nil.
func tokenObject(t *api.ACLToken) aclObject {
	if t == nil {
		return aclObject{}
	}
	return aclObject{id: t.AccessorID, value: t, pretty: func(meta bool) string { return prettyToken(t, meta) }}
}

// policyObject is p ready to print; a zero aclObject when p is nil.
func policyObject(p *api.ACLPolicy) aclObject {
	if p == nil {
		return aclObject{}
	}
	return aclObject{id: p.ID, value: p, pretty: func(meta bool) string { return prettyPolicy(p, meta) }}
}

// roleObject is r ready to print; a zero aclObject when r is nil.
func roleObject(r *api.ACLRole) aclObject {
	if r == nil {
		return aclObject{}
	}
	return aclObject{id: r.ID, value: r, pretty: func(meta bool) string { return prettyRole(r, meta) }}
}

// listObject is a list ready to print with its pretty printer; an empty
// list is printed as [] rather than null in JSON.
func listObject[T any](list []T, pretty func([]T, bool) string) aclObject {
	if list == nil {
		list = []T{}
	}
	return aclObject{value: list, pretty: func(meta bool) string { return pretty(list, meta) }}
}

// print writes obj as indented JSON with -format=json, or else in its
// pretty layout, and gives the command's exit code. As with Consul's CLI,
// the output is followed by a newline, and an empty pretty output prints
// nothing.
func (o *aclOutput) print(u *ui, obj aclObject) int {
	if o.format == formatJSON {
		b, err := json.MarshalIndent(obj.value, "", "    ")
		if err != nil {
			u.error("Failed to encode the output: %v", err)
			return 1
		}
		u.info("%s", b)
		return 0
	}
	if s := obj.pretty(o.meta); s != "" {
		u.info("%s", s)
	}
	return 0
}

// prettyToken is a token as Consul's `acl token read` shows it; with
// -meta, its name comes first.
func prettyToken(t *api.ACLToken, meta bool) string {
	var b strings.Builder
	if meta {
		field(&b, "", 18, "Name", t.Name)
	}
	writeToken(&b, &api.ACLTokenListEntry{
		AccessorID: t.AccessorID, SecretID: t.SecretID, Partition: t.Partition, Namespace: t.Namespace,
		Description: t.Description, Local: t.Local, AuthMethod: t.AuthMethod, AuthMethodNamespace: t.AuthMethodNamespace,
		CreateTime: t.CreateTime, ExpirationTime: t.ExpirationTime,
		Hash: t.Hash, CreateIndex: t.CreateIndex, ModifyIndex: t.ModifyIndex,
		Policies: t.Policies, Roles: t.Roles, ServiceIdentities: t.ServiceIdentities, NodeIdentities: t.NodeIdentities,
	}, meta, false)
	return b.String()
}

// prettyTokenList is a token listing as Consul's `acl token list` shows
// it: each token as read shows it, without its name but with its Legacy
// flag, with a blank line between tokens.
func prettyTokenList(tokens []*api.ACLTokenListEntry, meta bool) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteString("\n")
		}
		writeToken(&b, t, meta, true)
	}
	return b.String()
}

// writeToken writes a token's fields from its accessor ID on; listed adds
// the Legacy flag that `acl token list` shows.
func writeToken(b *strings.Builder, t *api.ACLTokenListEntry, meta, listed bool) {
	field(b, "", 18, "AccessorID", t.AccessorID)
	field(b, "", 18, "SecretID", t.SecretID)
	scope(b, "", 18, t.Partition, t.Namespace)
	field(b, "", 18, "Description", t.Description)
	field(b, "", 18, "Local", fmt.Sprint(t.Local))
	if t.AuthMethod != "" {
		field(b, "", 18, "Auth Method", authMethod(t.AuthMethod, t.AuthMethodNamespace))
	}
	field(b, "", 18, "Create Time", fmt.Sprint(t.CreateTime))
	if t.ExpirationTime != nil && !t.ExpirationTime.IsZero() {
		field(b, "", 18, "Expiration Time", fmt.Sprint(*t.ExpirationTime))
	}
	if listed {
		field(b, "", 18, "Legacy", fmt.Sprint(t.Legacy))
	}
	if meta {
		metaFields(b, "", 18, t.Hash, t.CreateIndex, t.ModifyIndex)
	}
	links(b, "", "Policies", t.Policies)
	links(b, "", "Roles", t.Roles)
	serviceIdentities(b, "", t.ServiceIdentities)
	nodeIdentities(b, "", t.NodeIdentities)
}

// prettyPolicy is a policy as Consul's `acl policy read` shows it; its
// rules close the output as written.
func prettyPolicy(p *api.ACLPolicy, meta bool) string {
	var b strings.Builder
	writePolicy(&b, &api.ACLPolicyListEntry{
		ID: p.ID, Name: p.Name, Partition: p.Partition, Namespace: p.Namespace,
		Description: p.Description, Datacenters: p.Datacenters,
		Hash: p.Hash, CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex,
	}, meta, false)
	b.WriteString("Rules:\n")
	b.WriteString(p.Rules)
	return b.String()
}

// prettyPolicyList is a policy listing as Consul's `acl policy list` shows
// it: each policy's name, then its fields indented.
func prettyPolicyList(policies []*api.ACLPolicyListEntry, meta bool) string {
	var b strings.Builder
	for _, p := range policies {
		writePolicy(&b, p, meta, true)
	}
	return b.String()
}

// writePolicy writes a policy's fields but its rules, as read shows them
// or, when listed, as list does.
func writePolicy(b *strings.Builder, p *api.ACLPolicyListEntry, meta, listed bool) {
	indent := writeIDName(b, p.ID, p.Name, listed)
	scope(b, indent, 14, p.Partition, p.Namespace)
	field(b, indent, 14, "Description", p.Description)
	field(b, indent, 14, "Datacenters", strings.Join(p.Datacenters, ", "))
	if meta {
		metaFields(b, indent, 14, p.Hash, p.CreateIndex, p.ModifyIndex)
	}
}

// prettyRole is a role as Consul's `acl role read` shows it.
func prettyRole(r *api.ACLRole, meta bool) string {
	var b strings.Builder
	writeRole(&b, r, meta, false)
	return b.String()
}

// prettyRoleList is a role listing as Consul's `acl role list` shows it:
// each role's name, then its fields indented.
func prettyRoleList(roles []*api.ACLRole, meta bool) string {
	var b strings.Builder
	for _, r := range roles {
		writeRole(&b, r, meta, true)
	}
	return b.String()
}

// writeRole writes a role's fields, as read shows them or, when listed,
// as list does.
func writeRole(b *strings.Builder, r *api.ACLRole, meta, listed bool) {
	indent := writeIDName(b, r.ID, r.Name, listed)
	scope(b, indent, 14, r.Partition, r.Namespace)
	field(b, indent, 14, "Description", r.Description)
	if meta {
		metaFields(b, indent, 14, r.Hash, r.CreateIndex, r.ModifyIndex)
	}
	links(b, indent, "Policies", r.Policies)
	serviceIdentities(b, indent, r.ServiceIdentities)
	nodeIdentities(b, indent, r.NodeIdentities)
}

// writeIDName starts a policy or role: read shows its ID, then its name;
// a list shows its name as a heading, then its ID indented. It returns the
// indent of the fields that follow.
func writeIDName(b *strings.Builder, id, name string, listed bool) (indent string) {
	if !listed {
		field(b, "", 14, "ID", id)
		field(b, "", 14, "Name", name)
		return ""
	}
	fmt.Fprintf(b, "%s:\n", name)
	field(b, "   ", 14, "ID", id)
	return "   "
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

// metaFields writes the -meta fields, their labels padded to width.
func metaFields(b *strings.Builder, indent string, width int, hash []byte, create, modify uint64) {
	field(b, indent, width, "Hash", fmt.Sprintf("%x", hash))
	field(b, indent, width, "Create Index", fmt.Sprint(create))
	field(b, indent, width, "Modify Index", fmt.Sprint(modify))
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
