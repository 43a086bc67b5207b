package acl

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/consulcompat/consul/structs"
)

var blockKeywordTable = []struct {
	kw     string
	res    Resource
	prefix bool
}{
	{"agent", ResourceAgent, false},
	{"agent_prefix", ResourceAgent, true},
	{"event", ResourceEvent, false},
	{"event_prefix", ResourceEvent, true},
	{"key", ResourceKey, false},
	{"key_prefix", ResourceKey, true},
	{"node", ResourceNode, false},
	{"node_prefix", ResourceNode, true},
	{"query", ResourceQuery, false},
	{"query_prefix", ResourceQuery, true},
	{"service", ResourceService, false},
	{"service_prefix", ResourceService, true},
	{"session", ResourceSession, false},
	{"session_prefix", ResourceSession, true},
}

type parseCase struct {
	name  string
	rules string
	want  *Policy
}

// resourceParseCases has every block keyword at every level it accepts,
// written in HCL and in JSON.
func resourceParseCases() []parseCase {
	var cases []parseCase
	for _, k := range blockKeywordTable {
		levels := []AccessLevel{AccessRead, AccessWrite, AccessDeny}
		if k.res == ResourceKey {
			levels = append(levels, AccessList)
		}
		for _, l := range levels {
			want := &Policy{Rules: []Rule{{Resource: k.res, Name: "web/1", Prefix: k.prefix, Access: l}}}
			cases = append(cases,
				parseCase{
					name:  fmt.Sprintf("hcl %s %s", k.kw, l),
					rules: fmt.Sprintf("%s \"web/1\" {\n  policy = %q\n}\n", k.kw, l),
					want:  want,
				},
				parseCase{
					name:  fmt.Sprintf("json %s %s", k.kw, l),
					rules: fmt.Sprintf(`{"%s": {"web/1": {"policy": %q}}}`, k.kw, l),
					want:  want,
				})
		}
	}
	singles := []struct {
		kw  string
		set func(*Policy, AccessLevel)
	}{
		{"acl", func(p *Policy, l AccessLevel) { p.ACL = l }},
		{"keyring", func(p *Policy, l AccessLevel) { p.Keyring = l }},
		{"operator", func(p *Policy, l AccessLevel) { p.Operator = l }},
		{"mesh", func(p *Policy, l AccessLevel) { p.Mesh = l }},
		{"peering", func(p *Policy, l AccessLevel) { p.Peering = l }},
	}
	for _, s := range singles {
		for _, l := range []AccessLevel{AccessRead, AccessWrite, AccessDeny} {
			want := &Policy{}
			s.set(want, l)
			cases = append(cases,
				parseCase{
					name:  fmt.Sprintf("hcl %s %s", s.kw, l),
					rules: fmt.Sprintf("%s = %q\n", s.kw, l),
					want:  want,
				},
				parseCase{
					name:  fmt.Sprintf("json %s %s", s.kw, l),
					rules: fmt.Sprintf(`{%q: %q}`, s.kw, l),
					want:  want,
				})
		}
	}
	return cases
}

// docExampleHCL and docExampleJSON are the same policy, as Consul's rules
// documentation shows it in both syntaxes.
const docExampleHCL = `
# These control access to the key/value store.
key_prefix "" {
  policy = "read"
}
key_prefix "foo/" {
  policy = "write"
}
key_prefix "foo/private/" {
  policy = "deny"
}
# Or for exact key matches
key "foo/bar/secret" {
  policy = "deny"
}

# This controls access to cluster-wide Consul operator information.
operator = "read"
`

const docExampleJSON = `{
  "key_prefix": {
    "": {
      "policy": "read"
    },
    "foo/": {
      "policy": "write"
    },
    "foo/private/": {
      "policy": "deny"
    }
  },
  "key": {
    "foo/bar/secret": {
      "policy": "deny"
    }
  },
  "operator": "read"
}`

var docExamplePolicy = &Policy{
	Rules: []Rule{
		{Resource: ResourceKey, Name: "", Prefix: true, Access: AccessRead},
		{Resource: ResourceKey, Name: "foo/", Prefix: true, Access: AccessWrite},
		{Resource: ResourceKey, Name: "foo/private/", Prefix: true, Access: AccessDeny},
		{Resource: ResourceKey, Name: "foo/bar/secret", Access: AccessDeny},
	},
	Operator: AccessRead,
}

func TestParse(t *testing.T) {
	keyRule := func(name string, l AccessLevel) Rule {
		return Rule{Resource: ResourceKey, Name: name, Access: l}
	}
	cases := append(resourceParseCases(), []parseCase{
		{name: "empty", rules: "", want: &Policy{}},
		{name: "whitespace", rules: " \n\t\n", want: &Policy{}},
		{name: "comments only", rules: "# nothing\n// here\n/* at all */\n", want: &Policy{}},
		{name: "empty json object", rules: "{}", want: &Policy{}},
		{name: "doc example hcl", rules: docExampleHCL, want: docExamplePolicy},
		{name: "doc example json", rules: docExampleJSON, want: docExamplePolicy},
		{
			name:  "service intentions hcl",
			rules: `service "web" { policy = "read" intentions = "write" }`,
			want: &Policy{Rules: []Rule{
				{Resource: ResourceService, Name: "web", Access: AccessRead, Intentions: AccessWrite},
			}},
		},
		{
			name:  "service_prefix intentions json",
			rules: `{"service_prefix": {"": {"policy": "write", "intentions": "deny"}}}`,
			want: &Policy{Rules: []Rule{
				{Resource: ResourceService, Prefix: true, Access: AccessWrite, Intentions: AccessDeny},
			}},
		},
		{
			name:  "empty name",
			rules: `key_prefix "" { policy = "deny" }`,
			want:  &Policy{Rules: []Rule{{Resource: ResourceKey, Prefix: true, Access: AccessDeny}}},
		},
		{
			name:  "names nested in an hcl object",
			rules: `key = { "a" = { policy = "read" }, b = { policy = "write" } }`,
			want:  &Policy{Rules: []Rule{keyRule("a", AccessRead), keyRule("b", AccessWrite)}},
		},
		{
			name:  "names nested in an hcl block",
			rules: `key { "a" { policy = "read" } }`,
			want:  &Policy{Rules: []Rule{keyRule("a", AccessRead)}},
		},
		{
			name:  "json list of objects",
			rules: `{"key": [{"a": {"policy": "read"}}, {"b": {"policy": "deny"}}]}`,
			want:  &Policy{Rules: []Rule{keyRule("a", AccessRead), keyRule("b", AccessDeny)}},
		},
		{
			name:  "keywords and fields are case-insensitive as in Consul",
			rules: `KEY "a" { Policy = "read" }` + "\nOperator = \"write\"",
			want:  &Policy{Rules: []Rule{keyRule("a", AccessRead)}, Operator: AccessWrite},
		},
		{
			name:  "the same rule twice is kept for NewAuthorizer to resolve",
			rules: `key "a" { policy = "write" }` + "\n" + `key "a" { policy = "deny" }`,
			want:  &Policy{Rules: []Rule{keyRule("a", AccessWrite), keyRule("a", AccessDeny)}},
		},
		{
			name:  "names keep their bytes",
			rules: `key "a b/ü\"q\"" { policy = "read" }`,
			want:  &Policy{Rules: []Rule{keyRule(`a b/ü"q"`, AccessRead)}},
		},
		{
			name:  "json empty resource object",
			rules: `{"key": {}, "acl": "read"}`,
			want:  &Policy{ACL: AccessRead},
		},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.rules)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.rules, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %+v\nwant %+v", tc.rules, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name  string
		rules string
		want  string
	}{
		// Levels.
		{
			name:  "bad level",
			rules: "# kv\nkey \"foo\" {\n  policy = \"wrte\"\n}\n",
			want:  `acl: rules line 3: invalid policy "wrte" for key "foo"`,
		},
		{
			name:  "bad level json",
			rules: "{\n  \"key_prefix\": {\n    \"foo/\": {\n      \"policy\": \"wrte\"\n    }\n  }\n}",
			want:  `acl: rules line 4: invalid policy "wrte" for key_prefix "foo/"`,
		},
		{
			name:  "levels are lower case",
			rules: `node "a" { policy = "Read" }`,
			want:  `acl: rules line 1: invalid policy "Read" for node "a"`,
		},
		{
			name:  "bad single value",
			rules: "\nacl = \"admin\"",
			want:  `acl: rules line 2: invalid policy "admin" for acl`,
		},
		{
			name:  "bad single value json",
			rules: "{\n\"operator\": \"root\"\n}",
			want:  `acl: rules line 2: invalid policy "root" for operator`,
		},
		{
			name:  "json null level",
			rules: `{"keyring": null}`,
			want:  `acl: rules line 1: invalid policy "" for keyring`,
		},
		{
			name:  "bad intentions",
			rules: "service \"web\" {\n  policy = \"read\"\n  intentions = \"all\"\n}",
			want:  `acl: rules line 3: invalid intentions "all" for service "web"`,
		},
		// list outside key rules.
		{
			name:  "list on node",
			rules: `node "a" { policy = "list" }`,
			want:  `acl: rules line 1: invalid policy "list" for node "a": list is only valid in key and key_prefix rules`,
		},
		{
			name:  "list on service_prefix",
			rules: "\n\nservice_prefix \"\" { policy = \"list\" }",
			want:  `acl: rules line 3: invalid policy "list" for service_prefix "": list is only valid in key and key_prefix rules`,
		},
		{
			name:  "list on acl",
			rules: `acl = "list"`,
			want:  `acl: rules line 1: invalid policy "list" for acl: list is only valid in key and key_prefix rules`,
		},
		{
			name:  "list on intentions",
			rules: `service "a" { policy = "read" intentions = "list" }`,
			want:  `acl: rules line 1: invalid intentions "list" for service "a": list is only valid in key and key_prefix rules`,
		},
		// Keywords and fields.
		{
			name:  "unknown resource",
			rules: "key \"a\" { policy = \"read\" }\nkeys \"b\" { policy = \"read\" }",
			want:  `acl: rules line 2: unknown rule "keys"`,
		},
		{
			name:  "unknown resource json",
			rules: "{\n  \"nodes\": {\"a\": {\"policy\": \"read\"}}\n}",
			want:  `acl: rules line 2: unknown rule "nodes"`,
		},
		{
			name:  "enterprise namespace",
			rules: `namespace "team" { key_prefix "" { policy = "read" } }`,
			want:  `acl: rules line 1: namespace rules are not supported by this server`,
		},
		{
			name:  "unknown field",
			rules: "key \"a\" {\n  polcy = \"read\"\n}",
			want:  `acl: rules line 2: unknown field "polcy" in key "a"`,
		},
		{
			name:  "sentinel block",
			rules: "key \"a\" {\n  policy = \"write\"\n  sentinel {\n    code = \"x\"\n  }\n}",
			want:  `acl: rules line 3: unknown field "sentinel" in key "a"`,
		},
		{
			name:  "intentions outside service",
			rules: `node "a" { policy = "read" intentions = "read" }`,
			want:  `acl: rules line 1: intentions is only valid in service and service_prefix rules, not in node "a"`,
		},
		{
			name:  "missing policy",
			rules: "\nkey_prefix \"\" {}",
			want:  `acl: rules line 2: missing policy in key_prefix ""`,
		},
		{
			name:  "only intentions",
			rules: `service "a" { intentions = "read" }`,
			want:  `acl: rules line 1: missing policy in service "a"`,
		},
		{
			name:  "single value twice",
			rules: "acl = \"read\"\nacl = \"write\"",
			want:  `acl: rules line 2: acl is set more than once`,
		},
		{
			name:  "policy twice",
			rules: "key \"a\" {\n  policy = \"read\"\n  policy = \"write\"\n}",
			want:  `acl: rules line 3: policy is set more than once in key "a"`,
		},
		{
			name:  "intentions twice",
			rules: `service "a" { policy = "read" intentions = "read" intentions = "deny" }`,
			want:  `acl: rules line 1: intentions is set more than once in service "a"`,
		},
		// Shapes and types.
		{
			name:  "policy is a number",
			rules: "key \"a\" {\n  policy = 3\n}",
			want:  `acl: rules line 2: policy for key "a" must be a string`,
		},
		{
			name:  "policy is a bool json",
			rules: "{\"key\": {\"a\": {\n\"policy\": true}}}",
			want:  `acl: rules line 2: policy for key "a" must be a string`,
		},
		{
			name:  "policy is a list",
			rules: `key "a" { policy = ["read"] }`,
			want:  `acl: rules line 1: policy for key "a" must be a string`,
		},
		{
			name:  "single value is an object",
			rules: `operator = { policy = "read" }`,
			want:  `acl: rules line 1: policy for operator must be a string`,
		},
		{
			name:  "single value with a name",
			rules: `keyring "x" { policy = "read" }`,
			want:  `acl: rules line 1: keyring takes no name: write keyring = "read"`,
		},
		{
			name:  "block without a name",
			rules: "\nkey {\n  policy = \"read\"\n}",
			want:  `acl: rules line 3: key rules need a name: write key "name" { policy = "read" }`,
		},
		{
			name:  "block given a string json",
			rules: `{"session": "read"}`,
			want:  `acl: rules line 1: session rules need a name: write session "name" { policy = "read" }`,
		},
		{
			name:  "block body is a string json",
			rules: `{"session": {"n1": "read"}}`,
			want:  `acl: rules line 1: session rules need a name: write session "name" { policy = "read" }`,
		},
		{
			name:  "two names",
			rules: `event "a" "b" { policy = "read" }`,
			want:  `acl: rules line 1: event takes one name: write event "name" { policy = "read" }`,
		},
		{
			name:  "block inside a block",
			rules: `agent "a" { policy = "read" x "y" { } }`,
			want:  `acl: rules line 1: unexpected block inside agent "a"`,
		},
		// Syntax.
		{
			name:  "bad hcl unclosed block",
			rules: "key \"a\" {\n  policy = \"read\"\n",
			want:  `acl: rules line 3: object expected closing RBRACE got: EOF`,
		},
		{
			name:  "bad hcl bare word",
			rules: "\nacl = write",
			want:  `acl: rules line 2: Unknown token: 2:7 IDENT write`,
		},
		{
			name:  "bad json missing colon",
			rules: "{\n  \"key\": {\n    \"a\": {\n      \"policy\" \"read\"\n    }\n  }\n}",
			want:  `acl: rules line 4: invalid JSON: invalid character '"' after object key`,
		},
		{
			name:  "bad json unclosed",
			rules: "{\n  \"key\": {\"a\": {\"policy\": \"read\"}}\n",
			want:  `acl: rules line 3: invalid JSON: unexpected end of JSON input`,
		},
		{
			name:  "bad json trailing comma",
			rules: "{\n  \"acl\": \"read\",\n}",
			want:  `acl: rules line 3: invalid JSON: invalid character '}' looking for beginning of object key string`,
		},
		{
			name:  "json root is not an object",
			rules: `["acl"]`,
			want:  `acl: rules line 1: expected: IDENT | STRING | ASSIGN | LBRACE got: LBRACK`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.rules)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error %q", tc.rules, p, tc.want)
			}
			if p != nil {
				t.Errorf("Parse(%q) returned a policy with its error", tc.rules)
			}
			if err.Error() != tc.want {
				t.Errorf("Parse(%q) error\n got %q\nwant %q", tc.rules, err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			if !errors.Is(err, structs.ErrBadRequest) {
				t.Errorf("error %v does not match structs.ErrBadRequest", err)
			}
		})
	}
}

func TestRuleString(t *testing.T) {
	for _, k := range blockKeywordTable {
		r := Rule{Resource: k.res, Name: `a"b`, Prefix: k.prefix}
		if got, want := r.String(), k.kw+` "a\"b"`; got != want {
			t.Errorf("%+v.String() = %q, want %q", r, got, want)
		}
	}
}
