package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/consulcompat/consul/structs"
)

// FuzzParse checks that no input makes Parse panic, that every error is a
// *ParseError, and that whatever parses builds an Authorizer that answers.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		GlobalManagementPolicyRules,
		`key "foo" { policy = "read" }`,
		`key_prefix "" { policy = "deny" }` + "\n" + `key_prefix "foo/" { policy = "write" }`,
		`service "web" { policy = "write" intentions = "read" }`,
		`node_prefix "" { policy = "list" }`,
		`acl = "write"` + "\nkeyring = \"read\"\noperator = \"deny\"",
		`key = { a = { policy = "read" } }`,
		`key { "a" { policy = "read" } }`,
		`key "a" "b" { policy = "read" }`,
		`acl = <<EOF` + "\nwrite\nEOF\n",
		`{"key": {"foo": {"policy": "read"}}, "operator": "write"}`,
		`{"key_prefix": [{"": {"policy": "list"}}, {"x/": {"policy": "deny"}}]}`,
		`{"key": {"foo": {"policy": null}}}`,
		`{"acl": 12345678901234567890}`,
		`{"key": {"a": {"policy": "read"}}`,
		"# only a comment\n",
		`namespace "x" { key "a" { policy = "read" } }`,
		`key "\x" { policy = "read" }`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rules string) {
		p, err := Parse(rules)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, structs.ErrBadRequest) {
				t.Fatalf("Parse(%q) error %v (%T) is not a *ParseError", rules, err, err)
			}
			if p != nil {
				t.Fatalf("Parse(%q) returned a policy with error %v", rules, err)
			}
			if !strings.HasPrefix(err.Error(), "acl: rules") {
				t.Fatalf("Parse(%q) error %q lacks the acl: rules prefix", rules, err)
			}
			return
		}
		for _, r := range p.Rules {
			if r.Access == AccessUnknown {
				t.Fatalf("Parse(%q) kept a rule without a level: %v", rules, r)
			}
		}
		for _, def := range []bool{false, true} {
			a := NewAuthorizer(def, p, p)
			for _, name := range []string{"", "a", "foo", "foo/bar", "x/"} {
				a.KeyRead(name)
				a.KeyList(name)
				a.KeyWrite(name)
				a.KeyWritePrefix(name)
				a.ServiceWrite(name)
				a.NodeRead(name)
			}
			a.ACLWrite()
		}
	})
}
