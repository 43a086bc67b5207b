package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// result is what a CLI run left.
type result struct {
	code     int
	out, err string
}

// runCLI runs the CLI in-process with args and stdin, in an environment
// without the CONSUL_* variables a developer's shell may hold.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	clearConsulEnv(t)
	return runInEnv(stdin, args...)
}

// clearConsulEnv unsets the CONSUL_* variables for the rest of the test.
func clearConsulEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "CONSUL_") {
			t.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
}

// runInEnv runs the CLI in-process in the environment as it is.
func runInEnv(stdin string, args ...string) result {
	var out, errb bytes.Buffer
	code := run(args, &ui{in: strings.NewReader(stdin), out: &out, err: &errb})
	return result{code: code, out: out.String(), err: errb.String()}
}

// check fails the test unless r has the exit code and its streams contain
// the given substrings.
func (r result) check(t *testing.T, code int, outHas, errHas []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.out, r.err)
	}
	for _, s := range outHas {
		if !strings.Contains(r.out, s) {
			t.Errorf("stdout does not contain %q:\n%s", s, r.out)
		}
	}
	for _, s := range errHas {
		if !strings.Contains(r.err, s) {
			t.Errorf("stderr does not contain %q:\n%s", s, r.err)
		}
	}
}

func TestDispatch(t *testing.T) {
	allCommands := []string{"agent", "kv", "snapshot", "version"}
	cases := []struct {
		name           string
		args           []string
		code           int
		outHas, errHas []string
	}{
		{name: "no arguments", args: nil, code: 1, errHas: append([]string{"Usage: consul"}, allCommands...)},
		{name: "unknown command", args: []string{"frobnicate"}, code: 1, errHas: []string{`Unknown command: "frobnicate"`, "Available commands are:", "snapshot"}},
		{name: "help", args: []string{"-help"}, code: 0, outHas: allCommands},
		{name: "--help", args: []string{"--help"}, code: 0, outHas: allCommands},
		{name: "--version", args: []string{"--version"}, code: 0, outHas: []string{"Consul v" + Version}},
		{name: "-v", args: []string{"-v"}, code: 0, outHas: []string{"Consul v" + Version}},
		{name: "kv alone lists its subcommands", args: []string{"kv"}, code: 1, errHas: []string{"Usage: consul kv", "get", "put", "delete"}},
		{name: "kv -help", args: []string{"kv", "-help"}, code: 0, outHas: []string{"Usage: consul kv", "Subcommands:", "delete", "get", "put"}},
		{name: "unknown kv subcommand", args: []string{"kv", "list"}, code: 1, errHas: []string{`Unknown command: "kv list"`, "Subcommands:"}},
		{name: "snapshot alone", args: []string{"snapshot"}, code: 1, errHas: []string{"save", "restore", "inspect"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runCLI(t, "", tc.args...).check(t, tc.code, tc.outHas, tc.errHas)
		})
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "", "version")
	r.check(t, 0, []string{"Consul v1.16.4\n"}, nil)
	if strings.Contains(r.out, "Revision") {
		t.Errorf("Revision printed without GitCommit set:\n%s", r.out)
	}

	old := GitCommit
	GitCommit = "abc1234"
	t.Cleanup(func() { GitCommit = old })
	runCLI(t, "", "version").check(t, 0, []string{"Consul v1.16.4\nRevision abc1234\n"}, nil)

	runCLI(t, "", "version", "extra").check(t, 1, nil, []string{"Too many arguments"})
}

// TestHelpAndBadFlags runs every command with -help (usage on stdout, exit
// 0) and with an unknown flag (error and usage on stderr, exit 1).
func TestHelpAndBadFlags(t *testing.T) {
	cases := []struct {
		cmd   []string
		flags []string // flags the usage must list
	}{
		{[]string{"agent"}, []string{"-server", "-bootstrap", "-data-dir", "-config-file", "-dev"}},
		{[]string{"version"}, nil},
		{[]string{"kv", "get"}, []string{"-recurse", "-keys", "-separator", "-detailed", "-base64", "-http-addr", "-token", "-datacenter", "-stale"}},
		{[]string{"kv", "put"}, []string{"-cas", "-modify-index", "-flags", "-base64", "-acquire", "-release", "-session", "-http-addr", "-token", "-datacenter"}},
		{[]string{"kv", "delete"}, []string{"-recurse", "-cas", "-modify-index", "-http-addr", "-token", "-datacenter"}},
		{[]string{"snapshot", "save"}, []string{"-http-addr", "-token", "-datacenter", "-stale"}},
		{[]string{"snapshot", "restore"}, []string{"-http-addr", "-token", "-datacenter"}},
		{[]string{"snapshot", "inspect"}, []string{"-format"}},
	}
	for _, tc := range cases {
		name := strings.Join(tc.cmd, " ")
		t.Run(name, func(t *testing.T) {
			usage := "Usage: consul " + name
			for _, h := range []string{"-help", "-h", "--help"} {
				r := runCLI(t, "", append(tc.cmd, h)...)
				r.check(t, 0, append([]string{usage}, tc.flags...), nil)
				if r.err != "" {
					t.Errorf("%s wrote to stderr: %s", h, r.err)
				}
			}
			r := runCLI(t, "", append(tc.cmd, "-no-such-flag")...)
			r.check(t, 1, nil, []string{"flag provided but not defined: -no-such-flag", usage})
			if r.out != "" {
				t.Errorf("a bad flag wrote to stdout: %s", r.out)
			}
		})
	}
}

// TestStaleOnlyForReads: -stale belongs to commands that read.
func TestStaleOnlyForReads(t *testing.T) {
	for _, cmd := range [][]string{{"kv", "put"}, {"kv", "delete"}, {"snapshot", "restore"}} {
		r := runCLI(t, "", append(cmd, "-stale", "k")...)
		r.check(t, 1, nil, []string{"flag provided but not defined: -stale"})
	}
}

// TestArgumentErrors covers the errors found before any request is sent;
// the address points nowhere, so a request would fail differently.
func TestArgumentErrors(t *testing.T) {
	nowhere := "-http-addr=127.0.0.1:1"
	cases := []struct {
		name string
		args []string
		err  string
	}{
		{"kv get without key", []string{"kv", "get", nowhere}, "Error! Missing KEY argument"},
		{"kv get with only a slash", []string{"kv", "get", nowhere, "/"}, "Error! Missing KEY argument"},
		{"kv get two keys", []string{"kv", "get", nowhere, "a", "b"}, "Too many arguments (expected 1, got 2)"},
		{"kv put without key", []string{"kv", "put", nowhere}, "Error! Missing KEY argument"},
		{"kv put three args", []string{"kv", "put", nowhere, "a", "b", "c"}, "Too many arguments (expected 1 or 2, got 3)"},
		{"kv put missing file", []string{"kv", "put", nowhere, "a", "@/no/such/file"}, "Error! Failed to read file"},
		{"kv put bad base64", []string{"kv", "put", nowhere, "-base64", "a", "!!!"}, "Error! Cannot base 64 decode data"},
		{"kv put cas without index", []string{"kv", "put", nowhere, "-cas", "a", "b"}, "Must specify -modify-index with -cas!"},
		{"kv put index without cas", []string{"kv", "put", nowhere, "-modify-index=3", "a", "b"}, "Cannot specify -modify-index without -cas!"},
		{"kv put acquire without session", []string{"kv", "put", nowhere, "-acquire", "a"}, "Error! Missing -session (required with -acquire and -release)"},
		{"kv put release without session", []string{"kv", "put", nowhere, "-release", "a"}, "Error! Missing -session"},
		{"kv put acquire and release", []string{"kv", "put", nowhere, "-session=s", "-acquire", "-release", "a"}, "Only one of -cas, -acquire and -release"},
		{"kv put negative flags", []string{"kv", "put", nowhere, "-flags=-1", "a"}, "invalid value \"-1\" for flag -flags"},
		{"kv delete without key", []string{"kv", "delete", nowhere}, "Error! Missing KEY argument"},
		{"kv delete two keys", []string{"kv", "delete", nowhere, "a", "b"}, "Too many arguments (expected 1, got 2)"},
		{"kv delete cas and recurse", []string{"kv", "delete", nowhere, "-cas", "-modify-index=2", "-recurse", "a"}, "Cannot specify both -cas and -recurse!"},
		{"kv delete cas index zero", []string{"kv", "delete", nowhere, "-cas", "a"}, "Provide a -modify-index greater than 0"},
		{"kv delete index without cas", []string{"kv", "delete", nowhere, "-modify-index=2", "a"}, "Cannot specify -modify-index without -cas!"},
		{"snapshot save without file", []string{"snapshot", "save", nowhere}, "Missing FILE argument"},
		{"snapshot save two files", []string{"snapshot", "save", nowhere, "a", "b"}, "Too many arguments (expected 1, got 2)"},
		{"snapshot restore without file", []string{"snapshot", "restore", nowhere}, "Missing FILE argument"},
		{"snapshot restore missing file", []string{"snapshot", "restore", nowhere, "/no/such.snap"}, "Error opening snapshot file"},
		{"snapshot inspect without file", []string{"snapshot", "inspect"}, "Missing FILE argument"},
		{"snapshot inspect two files", []string{"snapshot", "inspect", "a", "b"}, "Too many arguments (expected 1, got 2)"},
		{"snapshot inspect missing file", []string{"snapshot", "inspect", "/no/such.snap"}, "Error opening snapshot file"},
		{"snapshot inspect bad format", []string{"snapshot", "inspect", "-format=xml", "a"}, "Unknown format: xml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runCLI(t, "", tc.args...).check(t, 1, nil, []string{tc.err})
		})
	}
}

// TestUnreachableAgent: a command that cannot reach the agent says so and
// fails.
func TestUnreachableAgent(t *testing.T) {
	nowhere := "-http-addr=127.0.0.1:1"
	cases := [][]string{
		{"kv", "get", nowhere, "a"},
		{"kv", "put", nowhere, "a", "b"},
		{"kv", "delete", nowhere, "a"},
	}
	for _, args := range cases {
		r := runCLI(t, "", args...)
		r.check(t, 1, nil, []string{"connection refused"})
	}
}
