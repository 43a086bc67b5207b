package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// aclWant is the default ACL configuration changed by fn.
func aclWant(fn func(a *ACLConfig)) ACLConfig {
	a := ACLConfig{DefaultPolicy: "allow", DownPolicy: "extend-cache"}
	if fn != nil {
		fn(&a)
	}
	return a
}

// fullACL is what aclHCL and aclJSON set.
var fullACL = ACLConfig{
	Enabled:                true,
	DefaultPolicy:          "deny",
	DownPolicy:             "async-cache",
	EnableTokenPersistence: true,
	Tokens: ACLTokens{
		InitialManagement: "11111111-2222-3333-4444-555555555555",
		Agent:             "agent-secret",
		Default:           "default-secret",
	},
}

const aclHCL = `
acl {
  enabled                  = true
  default_policy           = "deny"
  down_policy              = "async-cache"
  enable_token_persistence = true
  tokens {
    initial_management = "11111111-2222-3333-4444-555555555555"
    agent              = "agent-secret"
    default            = "default-secret"
  }
}
`

const aclJSON = `{
  "acl": {
    "enabled": true,
    "default_policy": "deny",
    "down_policy": "async-cache",
    "enable_token_persistence": true,
    "tokens": {
      "initial_management": "11111111-2222-3333-4444-555555555555",
      "agent": "agent-secret",
      "default": "default-secret"
    }
  }
}`

func TestLoadACL(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		// args get "DIR/" put before every "@name"; -dev is added.
		args []string
		want ACLConfig
	}{
		{
			name: "defaults",
			want: aclWant(nil),
		},
		{
			name:  "every key in hcl",
			files: map[string]string{"a.hcl": aclHCL},
			args:  []string{"-config-file=@a.hcl"},
			want:  fullACL,
		},
		{
			name:  "every key in json",
			files: map[string]string{"a.json": aclJSON},
			args:  []string{"-config-file=@a.json"},
			want:  fullACL,
		},
		{
			name:  "json read by the hcl parser",
			files: map[string]string{"a.hcl": aclJSON},
			args:  []string{"-config-file=@a.hcl"},
			want:  fullACL,
		},
		{
			name: "blocks written as assignments, and split",
			files: map[string]string{"a.hcl": `
acl = {
  enabled = true
}
acl "tokens" {
  agent = "a"
}
acl {
  tokens = { default = "d" }
}
`},
			args: []string{"-config-file=@a.hcl"},
			want: aclWant(func(a *ACLConfig) { a.Enabled, a.Tokens.Agent, a.Tokens.Default = true, "a", "d" }),
		},
		{
			name:  "json with only a tokens object",
			files: map[string]string{"a.json": `{"acl": {"tokens": {"agent": "a"}}}`},
			args:  []string{"-config-file=@a.json"},
			want:  aclWant(func(a *ACLConfig) { a.Tokens.Agent = "a" }),
		},
		{
			name:  "a partial block keeps the other defaults",
			files: map[string]string{"a.hcl": "acl {\n  enabled = true\n}\n"},
			args:  []string{"-config-file=@a.hcl"},
			want:  aclWant(func(a *ACLConfig) { a.Enabled = true }),
		},
		{
			name:  "down policy allow",
			files: map[string]string{"a.json": `{"acl": {"down_policy": "allow", "default_policy": "allow"}}`},
			args:  []string{"-config-file=@a.json"},
			want:  aclWant(func(a *ACLConfig) { a.DownPolicy = "allow" }),
		},
		{
			name:  "down policy deny",
			files: map[string]string{"a.hcl": `acl { down_policy = "deny" }`},
			args:  []string{"-config-file=@a.hcl"},
			want:  aclWant(func(a *ACLConfig) { a.DownPolicy = "deny" }),
		},
		{
			name:  "down policy extend-cache",
			files: map[string]string{"a.hcl": `acl { down_policy = "extend-cache" }`},
			args:  []string{"-config-file=@a.hcl"},
			want:  aclWant(nil),
		},
		{
			name: "former top-level names in hcl",
			files: map[string]string{"a.hcl": `
acl_master_token   = "m"
acl_agent_token    = "a"
acl_token          = "d"
acl_default_policy = "deny"
acl_down_policy    = "deny"
`},
			args: []string{"-config-file=@a.hcl"},
			want: aclWant(func(a *ACLConfig) {
				a.Tokens = ACLTokens{InitialManagement: "m", Agent: "a", Default: "d"}
				a.DefaultPolicy, a.DownPolicy = "deny", "deny"
			}),
		},
		{
			name: "former top-level names in json",
			files: map[string]string{"a.json": `{
  "acl_master_token": "m",
  "acl_agent_token": "a",
  "acl_token": "d",
  "acl_default_policy": "deny",
  "acl_down_policy": "async-cache"
}`},
			args: []string{"-config-file=@a.json"},
			want: aclWant(func(a *ACLConfig) {
				a.Tokens = ACLTokens{InitialManagement: "m", Agent: "a", Default: "d"}
				a.DefaultPolicy, a.DownPolicy = "deny", "async-cache"
			}),
		},
		{
			name:  "acl.tokens.master in hcl",
			files: map[string]string{"a.hcl": `acl { tokens { master = "m" } }`},
			args:  []string{"-config-file=@a.hcl"},
			want:  aclWant(func(a *ACLConfig) { a.Tokens.InitialManagement = "m" }),
		},
		{
			name:  "acl.tokens.master in json",
			files: map[string]string{"a.json": `{"acl": {"enabled": true, "tokens": {"master": "m"}}}`},
			args:  []string{"-config-file=@a.json"},
			want:  aclWant(func(a *ACLConfig) { a.Enabled, a.Tokens.InitialManagement = true, "m" }),
		},
		{
			name: "old and new names with the same value",
			files: map[string]string{"a.hcl": `
acl_master_token   = "m"
acl_default_policy = "deny"
acl {
  default_policy = "deny"
  tokens {
    master             = "m"
    initial_management = "m"
  }
}
`},
			args: []string{"-config-file=@a.hcl"},
			want: aclWant(func(a *ACLConfig) { a.DefaultPolicy, a.Tokens.InitialManagement = "deny", "m" }),
		},
		{
			name: "a later file's new name beats an earlier file's old name",
			files: map[string]string{
				"1.hcl":  `acl_master_token = "old"` + "\n" + `acl_token = "d1"`,
				"2.json": `{"acl": {"tokens": {"initial_management": "new"}}}`,
			},
			args: []string{"-config-file=@1.hcl", "-config-file=@2.json"},
			want: aclWant(func(a *ACLConfig) { a.Tokens.InitialManagement, a.Tokens.Default = "new", "d1" }),
		},
		{
			name: "a later file's old name beats an earlier file's new name",
			files: map[string]string{
				"1.json": `{"acl": {"default_policy": "deny", "tokens": {"agent": "a1"}}}`,
				"2.hcl":  `acl_default_policy = "allow"` + "\n" + `acl_agent_token = "a2"`,
			},
			args: []string{"-config-file=@1.json", "-config-file=@2.hcl"},
			want: aclWant(func(a *ACLConfig) { a.Tokens.Agent = "a2" }),
		},
		{
			name: "config dir merges acl blocks key by key",
			files: map[string]string{
				"d/10-acl.hcl":    `acl { enabled = true, default_policy = "deny" }`,
				"d/20-tokens.hcl": `acl { tokens { agent = "a" } }`,
			},
			args: []string{"-config-dir=@d"},
			want: aclWant(func(a *ACLConfig) { a.Enabled, a.DefaultPolicy, a.Tokens.Agent = true, "deny", "a" }),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			got, err := Load(append([]string{"-dev"}, inDir(dir, tc.args)...))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got.ACL, tc.want) {
				t.Fatalf("ACL\n got %+v\nwant %+v", got.ACL, tc.want)
			}
		})
	}
}

func TestLoadACLErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		args  []string
		// want are substrings of the error; "@" is replaced by the temp dir.
		want []string
		// never are substrings the error must not hold (secrets).
		never []string
		usage bool
	}{
		{
			name:  "bad default policy in hcl",
			files: map[string]string{"a.hcl": "acl {\n  default_policy = \"block\"\n}\n"},
			want:  []string{`config: @/a.hcl: key "acl.default_policy": "block" is invalid: use one of "allow", "deny" (line 2)`},
		},
		{
			name:  "bad default policy in json",
			files: map[string]string{"a.json": `{"acl": {"default_policy": "Deny"}}`},
			want:  []string{`config: @/a.json: key "acl.default_policy": "Deny" is invalid`},
		},
		{
			name:  "bad down policy",
			files: map[string]string{"a.json": `{"acl": {"down_policy": "cache"}}`},
			want:  []string{`@/a.json: key "acl.down_policy": "cache" is invalid: use one of "allow", "deny", "extend-cache", "async-cache"`},
		},
		{
			name:  "bad former default policy",
			files: map[string]string{"a.hcl": `acl_default_policy = "maybe"`},
			want:  []string{`@/a.hcl: key "acl_default_policy": "maybe" is invalid`},
		},
		{
			name:  "bad former down policy",
			files: map[string]string{"a.json": `{"acl_down_policy": ""}`},
			want:  []string{`@/a.json: key "acl_down_policy": "" is invalid`},
		},
		{
			name:  "unknown acl key",
			files: map[string]string{"a.hcl": "acl {\n  enabled = true\n  token_ttl = \"30s\"\n}\n"},
			want:  []string{`config: @/a.hcl: unknown key "acl.token_ttl" (line 3)`},
		},
		{
			name:  "unknown acl key in json",
			files: map[string]string{"a.json": `{"acl": {"enable": true}}`},
			want:  []string{`config: @/a.json: unknown key "acl.enable"`},
		},
		{
			name:  "unknown token",
			files: map[string]string{"a.hcl": `acl { tokens { agent_recovery = "r" } }`},
			want:  []string{`unknown key "acl.tokens.agent_recovery"`},
		},
		{
			name:  "unknown token in json",
			files: map[string]string{"a.json": `{"acl": {"tokens": {"replication": "r"}}}`},
			want:  []string{`unknown key "acl.tokens.replication"`},
		},
		{
			name:  "former name this agent does not read",
			files: map[string]string{"a.json": `{"acl_agent_master_token": "r"}`},
			want:  []string{`unknown key "acl_agent_master_token"`},
		},
		{
			name:  "acl not an object",
			files: map[string]string{"a.hcl": `acl = true`},
			want:  []string{`key "acl": expected an object, got a boolean`},
		},
		{
			name:  "tokens not an object",
			files: map[string]string{"a.json": `{"acl": {"tokens": ["a"]}}`},
			want:  []string{`key "acl.tokens": expected an object, got a list`},
		},
		{
			name:  "string where a boolean goes",
			files: map[string]string{"a.json": `{"acl": {"enabled": "true"}}`},
			want:  []string{`key "acl.enabled": expected a boolean, got a string`},
		},
		{
			name:  "number where a token goes",
			files: map[string]string{"a.hcl": `acl { tokens { default = 5 } }`},
			want:  []string{`key "acl.tokens.default": expected a string, got an integer`},
		},
		{
			name:  "null token",
			files: map[string]string{"a.json": `{"acl_token": null}`},
			want:  []string{`key "acl_token": expected a string, got null`},
		},
		{
			name:  "object where a policy goes",
			files: map[string]string{"a.hcl": `acl { default_policy { x = 1 } }`},
			want:  []string{`key "acl.default_policy": expected a string, got an object`},
		},
		{
			name:  "key set twice across two acl blocks",
			files: map[string]string{"a.hcl": "acl { enabled = true }\nacl { enabled = false }\n"},
			want:  []string{`key "acl.enabled" is set twice (first on line 1)`},
		},
		{
			name:  "former name set twice",
			files: map[string]string{"a.hcl": "acl_token = \"a\"\nacl_token = \"a\"\n"},
			want:  []string{`key "acl_token" is set twice (first on line 1)`},
		},
		{
			name: "old and new names of the management token differ in hcl",
			files: map[string]string{"a.hcl": `acl_master_token = "old-secret"
acl {
  tokens {
    initial_management = "new-secret"
  }
}
`},
			want: []string{
				`config: @/a.hcl: keys "acl.tokens.initial_management" (line 4) and "acl_master_token" (line 1) both set "acl.tokens.initial_management", to different values`,
			},
			never: []string{"old-secret", "new-secret"},
		},
		{
			name:  "old and new names of the management token differ in json",
			files: map[string]string{"a.json": `{"acl_master_token": "old-secret", "acl": {"tokens": {"initial_management": "new-secret"}}}`},
			want:  []string{`config: @/a.json: keys "acl.tokens.initial_management" and "acl_master_token" both set`},
			never: []string{"old-secret", "new-secret"},
		},
		{
			name:  "acl.tokens.master and initial_management differ",
			files: map[string]string{"a.hcl": `acl { tokens { master = "x", initial_management = "y" } }`},
			want:  []string{`keys "acl.tokens.initial_management" (line 1) and "acl.tokens.master" (line 1)`},
		},
		{
			name:  "the two former names of the management token differ",
			files: map[string]string{"a.json": `{"acl_master_token": "x", "acl": {"tokens": {"master": "y"}}}`},
			want:  []string{`keys "acl_master_token" and "acl.tokens.master" both set "acl.tokens.initial_management"`},
		},
		{
			name:  "old and new default policy differ",
			files: map[string]string{"a.hcl": "acl_default_policy = \"deny\"\nacl { default_policy = \"allow\" }\n"},
			want:  []string{`keys "acl.default_policy" (line 2) and "acl_default_policy" (line 1) both set "acl.default_policy"`},
		},
		{
			name:  "old and new default token differ",
			files: map[string]string{"a.json": `{"acl_token": "x", "acl": {"tokens": {"default": "y"}}}`},
			want:  []string{`keys "acl.tokens.default" and "acl_token"`},
		},
		{
			name:  "old and new agent token differ",
			files: map[string]string{"a.json": `{"acl_agent_token": "x", "acl": {"tokens": {"agent": "y"}}}`},
			want:  []string{`keys "acl.tokens.agent" and "acl_agent_token"`},
		},
		{
			name:  "old and new down policy differ",
			files: map[string]string{"a.json": `{"acl_down_policy": "deny", "acl": {"down_policy": "allow"}}`},
			want:  []string{`keys "acl.down_policy" and "acl_down_policy"`},
		},
		{
			name:  "no acl flags, as in Consul",
			args:  []string{"-default-token=x"},
			want:  []string{"-default-token"},
			usage: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			args := tc.args
			for name := range tc.files {
				args = append(args, "-config-file=@"+name)
			}
			err := loadFails(t, dir, append([]string{"-dev"}, inDir(dir, args)...), tc.want)
			for _, n := range tc.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q shows %q", err, n)
				}
			}
			if got := errors.Is(err, ErrUsage); got != tc.usage {
				t.Errorf("errors.Is(err, ErrUsage) = %v, want %v", got, tc.usage)
			}
		})
	}
}
