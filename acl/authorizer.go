package acl

import (
	iradix "github.com/hashicorp/go-immutable-radix"
)

// Authorizer answers whether the holder of a token may do something. Each
// method is named for Consul's permission of the same name and returns
// true for allowed. An Authorizer is immutable once built and safe for
// concurrent use from any goroutine.
type Authorizer interface {
	// ACLRead allows reading tokens, policies and roles.
	ACLRead() bool
	// ACLWrite allows creating, changing and deleting them.
	ACLWrite() bool

	// AgentRead allows the agent endpoints of the named node to be read.
	AgentRead(node string) bool
	// AgentWrite allows changes through the agent endpoints of the node.
	AgentWrite(node string) bool

	// EventRead allows the named user event to be listed.
	EventRead(name string) bool
	// EventWrite allows the named user event to be fired.
	EventWrite(name string) bool

	// KeyRead allows the value of key to be read.
	KeyRead(key string) bool
	// KeyList allows the keys under key to be listed (?keys, ?recurse).
	KeyList(key string) bool
	// KeyWrite allows key to be written or deleted.
	KeyWrite(key string) bool
	// KeyWritePrefix allows every key under prefix to be deleted at once:
	// see NewAuthorizer for the rule.
	KeyWritePrefix(prefix string) bool

	// KeyringRead allows the gossip keyring to be listed.
	KeyringRead() bool
	// KeyringWrite allows the gossip keyring to be changed.
	KeyringWrite() bool

	// NodeRead allows the named catalog node to be read.
	NodeRead(name string) bool
	// NodeWrite allows the named node to be registered or changed.
	NodeWrite(name string) bool

	// OperatorRead allows cluster-level information (Raft peers) to be read.
	OperatorRead() bool
	// OperatorWrite allows cluster-level changes (removing a Raft peer).
	OperatorWrite() bool

	// PreparedQueryRead allows the prepared query with that name (prefix
	// rules match on the name) to be listed and read.
	PreparedQueryRead(name string) bool
	// PreparedQueryWrite allows it to be created, changed and deleted.
	PreparedQueryWrite(name string) bool

	// ServiceRead allows the named service to be discovered.
	ServiceRead(name string) bool
	// ServiceWrite allows the named service to be registered.
	ServiceWrite(name string) bool
	// ServiceReadAll allows every service to be read: no rule leaves one
	// out. Such a token could list every service, so telling it that a
	// service ID is unknown reveals nothing.
	ServiceReadAll() bool

	// SessionRead allows sessions on the named node to be read.
	SessionRead(node string) bool
	// SessionWrite allows sessions on the named node to be created,
	// renewed and destroyed.
	SessionWrite(node string) bool

	// Snapshot allows a snapshot of the whole state to be saved or
	// restored. As in Consul it needs acl = "write": a snapshot holds every
	// token's secret.
	Snapshot() bool
}

// The static authorizers, built once: they hold no rules, only a default.
var (
	allowAll  Authorizer = &policyAuthorizer{defaultAllow: true}
	denyAll   Authorizer = &policyAuthorizer{defaultAllow: false}
	manageAll Authorizer = &policyAuthorizer{defaultAllow: true, acl: AccessWrite}
)

// AllowAll returns an Authorizer that allows everything except ACL
// management and snapshots, as Consul's acl.default_policy = "allow" does.
func AllowAll() Authorizer { return allowAll }

// DenyAll returns an Authorizer that allows nothing.
func DenyAll() Authorizer { return denyAll }

// ManageAll returns an Authorizer that allows everything, ACL management
// and snapshots included: what a token holding the global-management
// policy gets.
func ManageAll() Authorizer { return manageAll }

// NewAuthorizer builds an Authorizer from policies (nil entries are
// skipped) on top of a default for what no rule covers. The rules follow
// Consul's acl package:
//
// Merging (Consul's MergePolicies, acl/policy_merger.go, with
// takesPrecedenceOver in acl/policy.go): all policies are merged into one
// before anything is decided. Where several rules, in one policy or in
// several, name the same resource, kind (exact or prefix) and name, one
// level survives in the order deny, write, list, read: a deny can never be
// granted away by another policy, and otherwise the most permissive grant
// wins. The single-value rules (acl, keyring, operator) merge the same way.
//
// Matching (Consul's getPolicy, acl/policy_authorizer.go): for a name, an
// exact rule for that name wins over every prefix rule; otherwise the
// longest prefix rule that the name starts with decides; the empty prefix
// matches every name. The matching rule alone decides: a longer write
// prefix inside a shorter deny prefix allows, and vice versa.
//
// Levels (Consul's enforce): write grants write, list and read; list
// (key rules only) grants list and read; read grants read; deny grants
// nothing.
//
// Defaults (Consul's chained authorizer ending in the static allow or deny
// authorizer, acl/static_authorizer.go): where no rule matches, the
// answer is defaultAllow, except ACLRead, ACLWrite and Snapshot, which a
// default never grants: only an acl rule does.
//
// KeyWritePrefix(prefix) (Consul's policyAuthorizer.KeyWritePrefix) allows
// a recursive delete when the longest prefix rule covering prefix grants
// write, or when none does and defaultAllow is set; and, in both cases,
// no rule at or under prefix, exact or prefix, grants less than write.
func NewAuthorizer(defaultAllow bool, policies ...*Policy) Authorizer {
	a := &policyAuthorizer{defaultAllow: defaultAllow}
	merged := make(map[ruleID]AccessLevel)
	for _, p := range policies {
		if p == nil {
			continue
		}
		mergeLevel(&a.acl, p.ACL)
		mergeLevel(&a.keyring, p.Keyring)
		mergeLevel(&a.operator, p.Operator)
		for _, r := range p.Rules {
			id := ruleID{res: r.Resource, name: r.Name, prefix: r.Prefix}
			if cur, ok := merged[id]; !ok || r.Access.overrides(cur) {
				merged[id] = r.Access
			}
		}
	}
	a.trees = buildRuleTrees(merged)
	return a
}

func mergeLevel(dst *AccessLevel, l AccessLevel) {
	if l.overrides(*dst) {
		*dst = l
	}
}

// policyAuthorizer is the one Authorizer implementation: merged rules in a
// radix tree per resource, the single-value rules, and a default.
type policyAuthorizer struct {
	defaultAllow bool
	trees        ruleTrees
	acl          AccessLevel
	keyring      AccessLevel
	operator     AccessLevel
}

// decide turns the level of the matching rule into an answer; def is the
// answer when no rule matched.
func decide(level, want AccessLevel, def bool) bool {
	if level == AccessUnknown {
		return def
	}
	return level.grants(want)
}

func (a *policyAuthorizer) check(res Resource, name string, want AccessLevel) bool {
	return decide(a.trees.lookup(res, name), want, a.defaultAllow)
}

func (a *policyAuthorizer) ACLRead() bool  { return decide(a.acl, AccessRead, false) }
func (a *policyAuthorizer) ACLWrite() bool { return decide(a.acl, AccessWrite, false) }
func (a *policyAuthorizer) Snapshot() bool { return decide(a.acl, AccessWrite, false) }

func (a *policyAuthorizer) KeyringRead() bool {
	return decide(a.keyring, AccessRead, a.defaultAllow)
}

func (a *policyAuthorizer) KeyringWrite() bool {
	return decide(a.keyring, AccessWrite, a.defaultAllow)
}

func (a *policyAuthorizer) OperatorRead() bool {
	return decide(a.operator, AccessRead, a.defaultAllow)
}

func (a *policyAuthorizer) OperatorWrite() bool {
	return decide(a.operator, AccessWrite, a.defaultAllow)
}

func (a *policyAuthorizer) AgentRead(node string) bool {
	return a.check(ResourceAgent, node, AccessRead)
}

func (a *policyAuthorizer) AgentWrite(node string) bool {
	return a.check(ResourceAgent, node, AccessWrite)
}

func (a *policyAuthorizer) EventRead(name string) bool {
	return a.check(ResourceEvent, name, AccessRead)
}

func (a *policyAuthorizer) EventWrite(name string) bool {
	return a.check(ResourceEvent, name, AccessWrite)
}

func (a *policyAuthorizer) KeyRead(key string) bool {
	return a.check(ResourceKey, key, AccessRead)
}

func (a *policyAuthorizer) KeyList(key string) bool {
	return a.check(ResourceKey, key, AccessList)
}

func (a *policyAuthorizer) KeyWrite(key string) bool {
	return a.check(ResourceKey, key, AccessWrite)
}

func (a *policyAuthorizer) KeyWritePrefix(prefix string) bool {
	return a.allUnder(ResourceKey, prefix, AccessWrite)
}

// allUnder reports whether every name under prefix is granted want: the
// prefix rule covering it (or else the default) grants it, and no rule
// for a name under it grants less.
func (a *policyAuthorizer) allUnder(res Resource, prefix string, want AccessLevel) bool {
	if a.trees.anyBelow(res, prefix, want) {
		return false
	}
	return decide(a.trees.coveringPrefix(res, prefix), want, a.defaultAllow)
}

func (a *policyAuthorizer) NodeRead(name string) bool {
	return a.check(ResourceNode, name, AccessRead)
}

func (a *policyAuthorizer) NodeWrite(name string) bool {
	return a.check(ResourceNode, name, AccessWrite)
}

func (a *policyAuthorizer) PreparedQueryRead(name string) bool {
	return a.check(ResourceQuery, name, AccessRead)
}

func (a *policyAuthorizer) PreparedQueryWrite(name string) bool {
	return a.check(ResourceQuery, name, AccessWrite)
}

func (a *policyAuthorizer) ServiceRead(name string) bool {
	return a.check(ResourceService, name, AccessRead)
}

func (a *policyAuthorizer) ServiceWrite(name string) bool {
	return a.check(ResourceService, name, AccessWrite)
}

func (a *policyAuthorizer) ServiceReadAll() bool {
	return a.allUnder(ResourceService, "", AccessRead)
}

func (a *policyAuthorizer) SessionRead(node string) bool {
	return a.check(ResourceSession, node, AccessRead)
}

func (a *policyAuthorizer) SessionWrite(node string) bool {
	return a.check(ResourceSession, node, AccessWrite)
}

// ruleID identifies a rule for merging: rules with equal IDs compete.
type ruleID struct {
	res    Resource
	name   string
	prefix bool
}

// ruleLeaf is what the tree holds at a name: the exact rule for that name
// and the prefix rule for that name, either AccessUnknown when absent.
type ruleLeaf struct {
	exact  AccessLevel
	prefix AccessLevel
}

// ruleTrees holds one radix tree per resource, indexed by Resource. A nil
// tree has no rules. Lookups walk one path from the root, so they cost
// O(len(name)) whatever the number of rules.
type ruleTrees [ResourceSession + 1]*iradix.Tree

func buildRuleTrees(merged map[ruleID]AccessLevel) ruleTrees {
	var txns [ResourceSession + 1]*iradix.Txn
	for id, level := range merged {
		if id.res <= 0 || id.res > ResourceSession {
			continue
		}
		txn := txns[id.res]
		if txn == nil {
			txn = iradix.New().Txn()
			txns[id.res] = txn
		}
		leaf := &ruleLeaf{}
		if v, ok := txn.Get([]byte(id.name)); ok {
			leaf = v.(*ruleLeaf)
		} else {
			txn.Insert([]byte(id.name), leaf)
		}
		if id.prefix {
			leaf.prefix = level
		} else {
			leaf.exact = level
		}
	}
	var trees ruleTrees
	for res, txn := range txns {
		if txn != nil {
			trees[res] = txn.Commit()
		}
	}
	return trees
}

func (t *ruleTrees) tree(res Resource) *iradix.Tree {
	if res <= 0 || res > ResourceSession {
		return nil
	}
	return t[res]
}

// lookup returns the level of the rule that decides name: the exact rule
// for it if any, else the longest prefix rule it starts with, else
// AccessUnknown.
func (t *ruleTrees) lookup(res Resource, name string) AccessLevel {
	tree := t.tree(res)
	if tree == nil {
		return AccessUnknown
	}
	found := AccessUnknown
	tree.Root().WalkPath([]byte(name), func(k []byte, v any) bool {
		leaf := v.(*ruleLeaf)
		if len(k) == len(name) && leaf.exact != AccessUnknown {
			found = leaf.exact
			return true
		}
		// The walk goes from the root down, so a later prefix is longer.
		if leaf.prefix != AccessUnknown {
			found = leaf.prefix
		}
		return false
	})
	return found
}

// coveringPrefix returns the level of the longest prefix rule that name
// starts with, ignoring exact rules, or AccessUnknown.
func (t *ruleTrees) coveringPrefix(res Resource, name string) AccessLevel {
	tree := t.tree(res)
	if tree == nil {
		return AccessUnknown
	}
	found := AccessUnknown
	tree.Root().WalkPath([]byte(name), func(_ []byte, v any) bool {
		if leaf := v.(*ruleLeaf); leaf.prefix != AccessUnknown {
			found = leaf.prefix
		}
		return false
	})
	return found
}

// anyBelow reports whether a rule, exact or prefix, for prefix itself or
// any name under it, does not grant want.
func (t *ruleTrees) anyBelow(res Resource, prefix string, want AccessLevel) bool {
	tree := t.tree(res)
	if tree == nil {
		return false
	}
	below := false
	tree.Root().WalkPrefix([]byte(prefix), func(_ []byte, v any) bool {
		leaf := v.(*ruleLeaf)
		if (leaf.exact != AccessUnknown && !leaf.exact.grants(want)) ||
			(leaf.prefix != AccessUnknown && !leaf.prefix.grants(want)) {
			below = true
		}
		return below
	})
	return below
}
