package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/hcl/ast"
)

// The values acl.default_policy and acl.down_policy accept.
var (
	aclDefaultPolicies = []string{ACLPolicyAllow, ACLPolicyDeny}
	aclDownPolicies    = []string{ACLPolicyAllow, ACLPolicyDeny, ACLDownPolicyExtendCache, ACLDownPolicyAsyncCache}
)

// aclRename is an ACL key under the name Consul used before, and the name
// it has now. Consul still reads the old names; so does this agent.
type aclRename struct {
	old, current string
	field        func(a *ACLConfig) *string
	// choices are the values the key accepts; nil for any string.
	choices []string
}

// aclRenames are the former names this agent reads, in the order their
// conflicts are reported.
var aclRenames = []aclRename{
	{"acl_master_token", "acl.tokens.initial_management", func(a *ACLConfig) *string { return &a.Tokens.InitialManagement }, nil},
	{"acl.tokens.master", "acl.tokens.initial_management", func(a *ACLConfig) *string { return &a.Tokens.InitialManagement }, nil},
	{"acl_agent_token", "acl.tokens.agent", func(a *ACLConfig) *string { return &a.Tokens.Agent }, nil},
	{"acl_token", "acl.tokens.default", func(a *ACLConfig) *string { return &a.Tokens.Default }, nil},
	{"acl_default_policy", "acl.default_policy", func(a *ACLConfig) *string { return &a.DefaultPolicy }, aclDefaultPolicies},
	{"acl_down_policy", "acl.down_policy", func(a *ACLConfig) *string { return &a.DownPolicy }, aclDownPolicies},
}

// legacyACLKey returns the rename whose old name is key, a top-level key.
func legacyACLKey(key string) (aclRename, bool) {
	for _, r := range aclRenames {
		if r.old == key && !strings.Contains(key, ".") {
			return r, true
		}
	}
	return aclRename{}, false
}

// acl applies an acl block.
func (d *fileDecoder) acl(a *ACLConfig, item *ast.ObjectItem, rest []string) error {
	return d.block("acl", item, rest, func(key string, rest []string, item *ast.ObjectItem) error {
		path := "acl." + key
		switch key {
		case "enabled":
			return d.set(&a.Enabled, path, rest, item)
		case "default_policy":
			return d.setChoice(&a.DefaultPolicy, path, rest, item, aclDefaultPolicies)
		case "down_policy":
			return d.setChoice(&a.DownPolicy, path, rest, item, aclDownPolicies)
		case "enable_token_persistence":
			return d.set(&a.EnableTokenPersistence, path, rest, item)
		case "tokens":
			return d.aclTokens(&a.Tokens, item, rest)
		}
		// Consul's other acl keys (token_ttl, tokens.replication, ...) are
		// refused rather than ignored: a file that sets them expects a
		// behaviour this agent does not have.
		return d.errorf(item.Pos(), "unknown key %q", path)
	})
}

// aclTokens applies an acl.tokens block.
func (d *fileDecoder) aclTokens(t *ACLTokens, item *ast.ObjectItem, rest []string) error {
	return d.block("acl.tokens", item, rest, func(key string, rest []string, item *ast.ObjectItem) error {
		path := "acl.tokens." + key
		switch key {
		case "initial_management":
			return d.set(&t.InitialManagement, path, rest, item)
		case "agent":
			return d.set(&t.Agent, path, rest, item)
		case "default":
			return d.set(&t.Default, path, rest, item)
		case "master":
			for _, r := range aclRenames {
				if r.old == path {
					return d.legacyACL(r, item, rest)
				}
			}
		}
		return d.errorf(item.Pos(), "unknown key %q", path)
	})
}

// legacyACL reads a key set under its former name; applyLegacyACL applies
// it once the file is read.
func (d *fileDecoder) legacyACL(r aclRename, item *ast.ObjectItem, rest []string) error {
	var v string
	if err := d.setChoice(&v, r.old, rest, item, r.choices); err != nil {
		return err
	}
	d.legacy[r.old] = v
	return nil
}

// applyLegacyACL applies the keys the file set under a former name. A file
// that sets one value under two of its names, to different values, is
// refused: which one was meant cannot be told.
func (d *fileDecoder) applyLegacyACL(a *ACLConfig) error {
	done := make(map[string]bool)
	for _, r := range aclRenames {
		if done[r.current] {
			continue
		}
		done[r.current] = true

		type setting struct{ key, value string }
		var set []setting
		if _, ok := d.seen[r.current]; ok {
			set = append(set, setting{r.current, *r.field(a)})
		}
		for _, other := range aclRenames {
			if v, ok := d.legacy[other.old]; ok && other.current == r.current {
				set = append(set, setting{other.old, v})
			}
		}
		if len(set) == 0 {
			continue
		}
		for _, s := range set[1:] {
			if s.value != set[0].value {
				// The values may be secrets: the message names the keys only.
				return fmt.Errorf("config: %s: keys %s and %s both set %q, to different values: keep only one",
					d.name, d.keyAt(set[0].key), d.keyAt(s.key), r.current)
			}
		}
		*r.field(a) = set[0].value
	}
	return nil
}

// keyAt names a key set in the file, with its line when known.
func (d *fileDecoder) keyAt(key string) string {
	if line := d.seen[key]; line > 0 {
		return fmt.Sprintf("%q (line %d)", key, line)
	}
	return fmt.Sprintf("%q", key)
}

// setChoice is set for a string key that accepts only the given values
// (any value when choices is nil).
func (d *fileDecoder) setChoice(dst *string, key string, rest []string, item *ast.ObjectItem, choices []string) error {
	if err := d.set(dst, key, rest, item); err != nil {
		return err
	}
	if choices == nil || slices.Contains(choices, *dst) {
		return nil
	}
	quoted := make([]string, len(choices))
	for i, c := range choices {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	return d.errorf(item.Pos(), "key %q: %q is invalid: use one of %s", key, *dst, strings.Join(quoted, ", "))
}
