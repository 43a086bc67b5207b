package acl

import (
	"fmt"
	"sort"
	"sync"
	"testing"
)

// check is one permission question: op names an Authorizer method
// ("key:read" is KeyRead), name is its argument.
type check struct {
	op   string
	name string
	want bool
}

// ask calls the Authorizer method that op names.
func ask(t *testing.T, a Authorizer, op, name string) bool {
	t.Helper()
	switch op {
	case "acl:read":
		return a.ACLRead()
	case "acl:write":
		return a.ACLWrite()
	case "snapshot":
		return a.Snapshot()
	case "agent:read":
		return a.AgentRead(name)
	case "agent:write":
		return a.AgentWrite(name)
	case "event:read":
		return a.EventRead(name)
	case "event:write":
		return a.EventWrite(name)
	case "key:read":
		return a.KeyRead(name)
	case "key:list":
		return a.KeyList(name)
	case "key:write":
		return a.KeyWrite(name)
	case "key:writeprefix":
		return a.KeyWritePrefix(name)
	case "keyring:read":
		return a.KeyringRead()
	case "keyring:write":
		return a.KeyringWrite()
	case "node:read":
		return a.NodeRead(name)
	case "node:write":
		return a.NodeWrite(name)
	case "operator:read":
		return a.OperatorRead()
	case "operator:write":
		return a.OperatorWrite()
	case "query:read":
		return a.PreparedQueryRead(name)
	case "query:write":
		return a.PreparedQueryWrite(name)
	case "service:read":
		return a.ServiceRead(name)
	case "service:write":
		return a.ServiceWrite(name)
	case "service:readall":
		return a.ServiceReadAll()
	case "session:read":
		return a.SessionRead(name)
	case "session:write":
		return a.SessionWrite(name)
	}
	t.Fatalf("unknown op %q", op)
	return false
}

// allOps lists every op ask knows.
var allOps = []string{
	"acl:read", "acl:write", "snapshot",
	"agent:read", "agent:write", "event:read", "event:write",
	"key:read", "key:list", "key:write", "key:writeprefix",
	"keyring:read", "keyring:write", "node:read", "node:write",
	"operator:read", "operator:write", "query:read", "query:write",
	"service:read", "service:write", "service:readall", "session:read", "session:write",
}

var sampleNames = []string{"", "a", "foo", "foo/", "foo/bar", "web-sidecar-proxy", "ü/ñ"}

// isManagementOp reports whether a default never grants op.
func isManagementOp(op string) bool {
	return op == "acl:read" || op == "acl:write" || op == "snapshot"
}

func mustParse(t *testing.T, rules string) *Policy {
	t.Helper()
	p, err := Parse(rules)
	if err != nil {
		t.Fatalf("Parse(%q): %v", rules, err)
	}
	return p
}

func TestAuthorizerRules(t *testing.T) {
	cases := []struct {
		name         string
		defaultAllow bool
		policies     []string
		checks       []check
	}{
		{
			name:     "exact rule wins over a prefix rule",
			policies: []string{`key_prefix "foo" { policy = "deny" }` + "\n" + `key "foobar" { policy = "write" }`},
			checks: []check{
				{"key:write", "foobar", true},
				{"key:read", "foobar", true},
				{"key:read", "foobar/x", false},
				{"key:read", "foobaz", false},
			},
		},
		{
			name:     "exact deny wins over a prefix write with the same name",
			policies: []string{`key_prefix "foo" { policy = "write" }` + "\n" + `key "foo" { policy = "deny" }`},
			checks: []check{
				{"key:read", "foo", false},
				{"key:write", "foo/x", true},
				{"key:write", "foo2", true},
			},
		},
		{
			name:     "exact rules match only their name",
			policies: []string{`node "db" { policy = "write" }`},
			checks: []check{
				{"node:write", "db", true},
				{"node:read", "db1", false},
				{"node:read", "d", false},
			},
		},
		{
			name:     "longest prefix wins",
			policies: []string{docExampleHCL},
			checks: []check{
				{"key:read", "anything", true},
				{"key:write", "anything", false},
				{"key:write", "foo/x", true},
				{"key:read", "foo/private/x", false},
				{"key:write", "foo/private/x", false},
				{"key:write", "foo/privatex", true},
				{"key:read", "foo/bar/secret", false},
				{"key:write", "foo/bar/secret2", true},
				{"operator:read", "", true},
				{"operator:write", "", false},
			},
		},
		{
			name:         "longest prefix wins over default allow too",
			defaultAllow: true,
			policies:     []string{`service_prefix "" { policy = "deny" }` + "\n" + `service_prefix "api-" { policy = "read" }`},
			checks: []check{
				{"service:read", "web", false},
				{"service:read", "api-v1", true},
				{"service:write", "api-v1", false},
				{"node:write", "anything", true},
			},
		},
		{
			name:     "deny wins between equal rules in one policy, either order",
			policies: []string{`key "a" { policy = "write" }` + "\n" + `key "a" { policy = "deny" }` + "\n" + `key "b" { policy = "deny" }` + "\n" + `key "b" { policy = "write" }`},
			checks: []check{
				{"key:read", "a", false},
				{"key:read", "b", false},
			},
		},
		{
			name:     "deny wins between equal rules in two policies",
			policies: []string{`session_prefix "n" { policy = "write" }`, `session_prefix "n" { policy = "deny" }`},
			checks: []check{
				{"session:read", "n1", false},
				{"session:write", "n1", false},
			},
		},
		{
			name: "otherwise the most permissive level wins between equal rules",
			policies: []string{
				`key "r-w" { policy = "read" }` + "\n" + `key "r-l" { policy = "read" }` + "\n" + `key "l-w" { policy = "list" }`,
				`key "r-w" { policy = "write" }` + "\n" + `key "r-l" { policy = "list" }` + "\n" + `key "l-w" { policy = "write" }`,
			},
			checks: []check{
				{"key:write", "r-w", true},
				{"key:list", "r-l", true},
				{"key:write", "r-l", false},
				{"key:write", "l-w", true},
			},
		},
		{
			name:     "an exact and a prefix rule with the same name do not merge",
			policies: []string{`query "q" { policy = "deny" }`, `query_prefix "q" { policy = "write" }`},
			checks: []check{
				{"query:read", "q", false},
				{"query:write", "q1", true},
			},
		},
		{
			name:     "prefix rules from different policies compete by length",
			policies: []string{`key_prefix "" { policy = "deny" }`, `key_prefix "app/" { policy = "write" }`},
			checks: []check{
				{"key:write", "app/x", true},
				{"key:read", "other", false},
			},
		},
		{
			name:     "single-value rules merge like block rules",
			policies: []string{"acl = \"read\"\noperator = \"write\"\nkeyring = \"write\"", "acl = \"write\"\noperator = \"deny\""},
			checks: []check{
				{"acl:write", "", true},
				{"snapshot", "", true},
				{"operator:read", "", false},
				{"keyring:write", "", true},
			},
		},
		{
			name:     "default deny allows only what rules grant",
			policies: []string{`agent "n1" { policy = "read" }`},
			checks: []check{
				{"agent:read", "n1", true},
				{"agent:write", "n1", false},
				{"agent:read", "n2", false},
				{"key:read", "x", false},
				{"keyring:read", "", false},
				{"operator:read", "", false},
			},
		},
		{
			name:         "default allow allows what rules do not cover",
			defaultAllow: true,
			policies:     []string{`agent "n1" { policy = "read" }` + "\n" + `event_prefix "deploy" { policy = "deny" }`},
			checks: []check{
				{"agent:read", "n1", true},
				{"agent:write", "n1", false},
				{"agent:write", "n2", true},
				{"event:write", "deploy-1", false},
				{"event:write", "other", true},
				{"keyring:write", "", true},
				{"operator:write", "", true},
			},
		},
		{
			name:         "a default never grants acl or snapshot",
			defaultAllow: true,
			checks: []check{
				{"acl:read", "", false},
				{"acl:write", "", false},
				{"snapshot", "", false},
			},
		},
		{
			name:     "acl read is not acl write",
			policies: []string{`acl = "read"`},
			checks: []check{
				{"acl:read", "", true},
				{"acl:write", "", false},
				{"snapshot", "", false},
			},
		},
		{
			name:         "explicit deny beats default allow for single values",
			defaultAllow: true,
			policies:     []string{"keyring = \"deny\"\noperator = \"read\""},
			checks: []check{
				{"keyring:read", "", false},
				{"operator:read", "", true},
				{"operator:write", "", false},
			},
		},
		{
			name: "write implies list and read, list implies read, read implies neither",
			policies: []string{
				`key "w" { policy = "write" }` + "\n" + `key "l" { policy = "list" }` + "\n" +
					`key "r" { policy = "read" }` + "\n" + `key "d" { policy = "deny" }`,
			},
			checks: []check{
				{"key:read", "w", true}, {"key:list", "w", true}, {"key:write", "w", true},
				{"key:read", "l", true}, {"key:list", "l", true}, {"key:write", "l", false},
				{"key:read", "r", true}, {"key:list", "r", false}, {"key:write", "r", false},
				{"key:read", "d", false}, {"key:list", "d", false}, {"key:write", "d", false},
			},
		},
		{
			name:         "empty prefix covers every name, the empty one included",
			defaultAllow: true,
			policies:     []string{`key_prefix "" { policy = "deny" }` + "\n" + `node_prefix "" { policy = "read" }`},
			checks: []check{
				{"key:read", "", false},
				{"key:read", "anything/at/all", false},
				{"node:read", "", true},
				{"node:read", "n", true},
				{"node:write", "n", false},
				{"service:write", "s", true},
			},
		},
		{
			name: "every block resource reads and writes through its own rules",
			policies: []string{`
agent "a1" { policy = "write" }
event_prefix "e" { policy = "read" }
node "n1" { policy = "read" }
query_prefix "" { policy = "write" }
service "s1" { policy = "write" }
session_prefix "n" { policy = "read" }
`},
			checks: []check{
				{"agent:write", "a1", true}, {"agent:read", "a2", false},
				{"event:read", "e1", true}, {"event:write", "e1", false},
				{"node:read", "n1", true}, {"node:write", "n1", false},
				{"query:write", "anything", true},
				{"service:write", "s1", true}, {"service:read", "s2", false},
				{"session:read", "n1", true}, {"session:write", "n1", false},
				// Rules for one resource never leak into another.
				{"key:read", "a1", false}, {"service:read", "n1", false},
			},
		},
		{
			name:     "intentions do not change service access",
			policies: []string{`service "web" { policy = "read" intentions = "write" }`},
			checks: []check{
				{"service:read", "web", true},
				{"service:write", "web", false},
			},
		},
		{
			name:     "every service readable: an empty prefix read and nothing less below it",
			policies: []string{`service_prefix "" { policy = "read" }` + "\n" + `service "web" { policy = "write" }`},
			checks:   []check{{"service:readall", "", true}},
		},
		{
			name:     "every service readable but one",
			policies: []string{`service_prefix "" { policy = "write" }` + "\n" + `service "secret" { policy = "deny" }`},
			checks:   []check{{"service:readall", "", false}, {"service:read", "web", true}},
		},
		{
			name:     "some services readable is not every service",
			policies: []string{`service_prefix "web" { policy = "write" }`},
			checks:   []check{{"service:readall", "", false}, {"service:write", "web-1", true}},
		},
		{
			name:         "every service readable by default unless a rule says less",
			defaultAllow: true,
			policies:     []string{`service_prefix "api-" { policy = "read" }`, `service_prefix "db" { policy = "deny" }`},
			checks:       []check{{"service:readall", "", false}, {"service:read", "api-1", true}},
		},
		{
			name:     "recursive delete needs write on the covering prefix",
			policies: []string{`key_prefix "foo/" { policy = "write" }`},
			checks: []check{
				{"key:writeprefix", "foo/", true},
				{"key:writeprefix", "foo/bar/", true},
				{"key:writeprefix", "fo", false},
				{"key:writeprefix", "", false},
			},
		},
		{
			name:     "recursive delete is refused when a deny lies inside the prefix",
			policies: []string{`key_prefix "foo/" { policy = "write" }` + "\n" + `key "foo/secret" { policy = "deny" }`},
			checks: []check{
				{"key:writeprefix", "foo/", false},
				{"key:writeprefix", "foo/sec", false},
				{"key:writeprefix", "foo/other/", true},
				{"key:write", "foo/x", true},
			},
		},
		{
			name:     "recursive delete is refused when a read-only or list rule lies inside",
			policies: []string{`key_prefix "" { policy = "write" }` + "\n" + `key_prefix "a/ro/" { policy = "read" }` + "\n" + `key "b/l" { policy = "list" }`},
			checks: []check{
				{"key:writeprefix", "a/", false},
				{"key:writeprefix", "b/", false},
				{"key:writeprefix", "c/", true},
				{"key:writeprefix", "", false},
			},
		},
		{
			name:     "recursive delete allows write rules inside the prefix",
			policies: []string{`key_prefix "a/" { policy = "write" }` + "\n" + `key "a/x" { policy = "write" }` + "\n" + `key_prefix "a/y/" { policy = "write" }`},
			checks: []check{
				{"key:writeprefix", "a/", true},
			},
		},
		{
			name:     "recursive delete inside a deny prefix needs a longer write prefix",
			policies: []string{`key_prefix "" { policy = "deny" }` + "\n" + `key_prefix "tmp/" { policy = "write" }`},
			checks: []check{
				{"key:writeprefix", "tmp/", true},
				{"key:writeprefix", "tmp/x/", true},
				{"key:writeprefix", "tm", false},
			},
		},
		{
			name:     "recursive delete ignores an exact write at the prefix itself",
			policies: []string{`key_prefix "" { policy = "read" }` + "\n" + `key "foo/" { policy = "write" }`},
			checks: []check{
				{"key:write", "foo/", true},
				{"key:writeprefix", "foo/", false},
			},
		},
		{
			name:         "recursive delete under default allow",
			defaultAllow: true,
			policies:     []string{`key "locked/k" { policy = "read" }` + "\n" + `key_prefix "open/" { policy = "write" }`},
			checks: []check{
				{"key:writeprefix", "anything/", true},
				{"key:writeprefix", "open/", true},
				{"key:writeprefix", "locked/", false},
				{"key:writeprefix", "", false},
			},
		},
		{
			name: "recursive delete under default deny without rules",
			checks: []check{
				{"key:writeprefix", "", false},
				{"key:writeprefix", "a/", false},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var policies []*Policy
			for _, rules := range tc.policies {
				policies = append(policies, mustParse(t, rules))
			}
			a := NewAuthorizer(tc.defaultAllow, policies...)
			for _, c := range tc.checks {
				if got := ask(t, a, c.op, c.name); got != c.want {
					t.Errorf("%s(%q) = %v, want %v", c.op, c.name, got, c.want)
				}
			}
		})
	}
}

// TestAuthorizerMergeOrder checks that the order policies come in does not
// change any answer.
func TestAuthorizerMergeOrder(t *testing.T) {
	policies := []*Policy{
		mustParse(t, `key "a" { policy = "read" }`+"\n"+`key_prefix "p/" { policy = "list" }`+"\nacl = \"read\""),
		mustParse(t, `key "a" { policy = "deny" }`+"\n"+`key_prefix "p/" { policy = "write" }`+"\noperator = \"read\""),
		mustParse(t, `key "a" { policy = "write" }`+"\n"+`key_prefix "p/q/" { policy = "read" }`+"\nacl = \"write\"\noperator = \"deny\""),
	}
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	names := []string{"a", "p/", "p/x", "p/q/", "p/q/x", "z"}
	var first map[string]bool
	for _, order := range orders {
		var ps []*Policy
		for _, i := range order {
			ps = append(ps, policies[i])
		}
		a := NewAuthorizer(false, ps...)
		got := answers(t, a, names)
		if first == nil {
			first = got
			continue
		}
		for k, v := range got {
			if first[k] != v {
				t.Errorf("order %v: %s = %v, order %v said %v", order, k, v, orders[0], first[k])
			}
		}
	}
	for k, want := range map[string]bool{
		"key:read(a)":         false,
		"key:write(p/x)":      true,
		"key:write(p/q/x)":    false,
		"acl:write(a)":        true,
		"operator:read(a)":    false,
		"key:writeprefix(p/)": false,
	} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
}

// answers asks every op about every name.
func answers(t *testing.T, a Authorizer, names []string) map[string]bool {
	t.Helper()
	out := make(map[string]bool)
	for _, op := range allOps {
		for _, n := range names {
			out[fmt.Sprintf("%s(%s)", op, n)] = ask(t, a, op, n)
		}
	}
	return out
}

func TestStaticAuthorizers(t *testing.T) {
	cases := []struct {
		name string
		a    Authorizer
		want func(op string) bool
	}{
		{"AllowAll", AllowAll(), func(op string) bool { return !isManagementOp(op) }},
		{"DenyAll", DenyAll(), func(string) bool { return false }},
		{"ManageAll", ManageAll(), func(string) bool { return true }},
		{"NewAuthorizer(true)", NewAuthorizer(true), func(op string) bool { return !isManagementOp(op) }},
		{"NewAuthorizer(false)", NewAuthorizer(false), func(string) bool { return false }},
		{"NewAuthorizer(false, nil, empty)", NewAuthorizer(false, nil, &Policy{}), func(string) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range allOps {
				for _, n := range sampleNames {
					if got, want := ask(t, tc.a, op, n), tc.want(op); got != want {
						t.Errorf("%s(%q) = %v, want %v", op, n, got, want)
					}
				}
			}
		})
	}
}

func TestGlobalManagementPolicy(t *testing.T) {
	p := mustParse(t, GlobalManagementPolicyRules)
	if p.ACL != AccessWrite || p.Keyring != AccessWrite || p.Operator != AccessWrite ||
		p.Mesh != AccessWrite || p.Peering != AccessWrite {
		t.Errorf("single-value rules = %+v, want all write", p)
	}
	var got []string
	for _, r := range p.Rules {
		if r.Name != "" || !r.Prefix || r.Access != AccessWrite {
			t.Errorf("rule %v has level %v, want an empty-prefix write", r, r.Access)
		}
		got = append(got, r.String())
	}
	sort.Strings(got)
	want := []string{}
	for _, k := range blockKeywordTable {
		if k.prefix {
			want = append(want, k.kw+` ""`)
		}
	}
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rules = %v, want %v", got, want)
	}

	// Under either default, the policy allows everything, as ManageAll does.
	for _, def := range []bool{false, true} {
		a := NewAuthorizer(def, p)
		for _, op := range allOps {
			for _, n := range sampleNames {
				if !ask(t, a, op, n) {
					t.Errorf("default %v: %s(%q) = false", def, op, n)
				}
			}
		}
	}

	// A deny in another policy still wins over global-management.
	a := NewAuthorizer(false, p, mustParse(t, `key_prefix "" { policy = "deny" }`))
	if a.KeyRead("x") || a.KeyWritePrefix("") {
		t.Error("a deny merged with global-management did not win")
	}
	if !a.ACLWrite() {
		t.Error("ACLWrite lost by merging an unrelated deny")
	}
}

func TestBuiltinIDs(t *testing.T) {
	for name, got := range map[string]string{
		"GlobalManagementPolicyID": GlobalManagementPolicyID,
		"AnonymousTokenID":         AnonymousTokenID,
	} {
		if len(got) != 36 || got[:34] != "00000000-0000-0000-0000-0000000000" {
			t.Errorf("%s = %q is not a reserved Consul ID", name, got)
		}
	}
	if GlobalManagementPolicyID == AnonymousTokenID {
		t.Error("the built-in IDs are equal")
	}
}

// TestAuthorizerConcurrent runs lookups from many goroutines; with -race it
// checks that a built Authorizer is safe to share.
func TestAuthorizerConcurrent(t *testing.T) {
	a := NewAuthorizer(false, mustParse(t, docExampleHCL), mustParse(t, GlobalManagementPolicyRules))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				key := fmt.Sprintf("foo/private/%d", i)
				if a.KeyRead(key) {
					t.Errorf("KeyRead(%q) = true under a merged deny", key)
					return
				}
				if !a.KeyWrite(fmt.Sprintf("bar/%d", i)) || !a.ACLWrite() {
					t.Error("global-management write lost")
					return
				}
				a.KeyWritePrefix("foo/")
			}
		}()
	}
	wg.Wait()
}

func TestAccessLevelString(t *testing.T) {
	for l, want := range map[AccessLevel]string{
		AccessUnknown: "unknown", AccessDeny: "deny", AccessRead: "read",
		AccessList: "list", AccessWrite: "write",
	} {
		if got := l.String(); got != want {
			t.Errorf("AccessLevel(%d).String() = %q, want %q", l, got, want)
		}
		if l == AccessUnknown {
			continue
		}
		if back, ok := parseAccessLevel(want); !ok || back != l {
			t.Errorf("parseAccessLevel(%q) = %v, %v", want, back, ok)
		}
	}
}
