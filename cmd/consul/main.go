// Command consul is a Consul-compatible server agent (`consul agent`) and
// the consul-style CLI that talks to an agent over its HTTP API
// (`consul kv`, `consul snapshot`, ...).
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], &ui{in: os.Stdin, out: os.Stdout, err: os.Stderr}))
}

// ui is where a command reads its input and writes its output: the
// process's standard streams, or buffers in tests.
type ui struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// info writes a line of regular output.
func (u *ui) info(format string, args ...interface{}) {
	fmt.Fprintf(u.out, format+"\n", args...)
}

// error writes a line to the error stream.
func (u *ui) error(format string, args ...interface{}) {
	fmt.Fprintf(u.err, format+"\n", args...)
}

// command is one entry of the command table: either a runnable command or
// a group (`kv`, `snapshot`) that only lists its subcommands.
type command struct {
	synopsis string
	// run executes the command with the arguments that follow its name and
	// returns the exit code; nil for a group.
	run func(u *ui, args []string) int
	// help introduces a group's subcommand list.
	help string
}

// commands maps each command's full name ("kv get") to its entry.
var commands = map[string]command{
	"agent":   {synopsis: "Runs a Consul-compatible server agent", run: (&agentCommand{}).run},
	"version": {synopsis: "Prints the Consul version", run: runVersion},
	"members": {synopsis: "Lists the members of a Consul cluster", run: runMembers},
	"join":    {synopsis: "Tell Consul agent to join cluster", run: runJoin},
	"leave":   {synopsis: "Gracefully leaves the Consul cluster and shuts down", run: runLeave},
	"lock":    {synopsis: "Execute a command holding a lock", run: runLock},

	"kv": {
		synopsis: "Interact with the key-value store",
		help: "Usage: consul kv <subcommand> [options] [args]\n\n" +
			"  Reads, writes and deletes entries of the key-value store.",
	},
	"kv get":    {synopsis: "Retrieves or lists data from the KV store", run: runKVGet},
	"kv put":    {synopsis: "Sets or updates data in the KV store", run: runKVPut},
	"kv delete": {synopsis: "Removes data from the KV store", run: runKVDelete},

	"snapshot": {
		synopsis: "Saves, restores and inspects snapshots of server state",
		help: "Usage: consul snapshot <subcommand> [options] [args]\n\n" +
			"  Saves, restores and inspects atomic, point-in-time snapshots of the\n" +
			"  servers' state: key/value entries, catalog, sessions, prepared queries\n" +
			"  and ACLs. With ACLs enabled, a management token is required.",
	},
	"snapshot save":    {synopsis: "Saves snapshot of Consul server state", run: runSnapshotSave},
	"snapshot restore": {synopsis: "Restores snapshot of Consul server state", run: runSnapshotRestore},
	"snapshot inspect": {synopsis: "Displays information about a Consul snapshot file", run: runSnapshotInspect},

	"acl": {
		synopsis: "Interact with Consul's ACLs",
		help: "Usage: consul acl <subcommand> [options] [args]\n\n" +
			"  Bootstraps the ACL system and manages its tokens, policies and roles.\n\n" +
			"      $ consul acl bootstrap\n" +
			"      $ consul acl policy create -name kv-read -rules @kv-read.hcl\n" +
			"      $ consul acl token create -description \"app\" -policy-name kv-read\n\n" +
			"  With ACLs enabled, these commands need a token with acl = \"write\"\n" +
			"  (acl = \"read\" for read and list): -token or CONSUL_HTTP_TOKEN.",
	},
	"acl bootstrap": {synopsis: "Bootstrap Consul's ACL system", run: runACLBootstrap},
	"acl token": {
		synopsis: "Manage Consul's ACL tokens",
		help: "Usage: consul acl token <subcommand> [options] [args]\n\n" +
			"  Creates, reads, updates, clones, lists and deletes ACL tokens. Commands\n" +
			"  that take -id accept a token's accessor ID or a unique prefix of it.",
	},
	"acl token create": {synopsis: "Create an ACL token", run: runACLTokenCreate},
	"acl token read":   {synopsis: "Read an ACL token", run: runACLTokenRead},
	"acl token list":   {synopsis: "List ACL tokens", run: aclToken.runList},
	"acl token update": {synopsis: "Update an ACL token", run: runACLTokenUpdate},
	"acl token delete": {synopsis: "Delete an ACL token", run: aclToken.runDelete},
	"acl token clone":  {synopsis: "Clone an ACL token", run: runACLTokenClone},
	"acl policy": {
		synopsis: "Manage Consul's ACL policies",
		help: "Usage: consul acl policy <subcommand> [options] [args]\n\n" +
			"  Creates, reads, updates, lists and deletes ACL policies: named sets of\n" +
			"  rules that tokens and roles link to.",
	},
	"acl policy create": {synopsis: "Create an ACL policy", run: runACLPolicyCreate},
	"acl policy read":   {synopsis: "Read an ACL policy", run: aclPolicy.runRead},
	"acl policy list":   {synopsis: "List ACL policies", run: aclPolicy.runList},
	"acl policy update": {synopsis: "Update an ACL policy", run: runACLPolicyUpdate},
	"acl policy delete": {synopsis: "Delete an ACL policy", run: aclPolicy.runDelete},
	"acl role": {
		synopsis: "Manage Consul's ACL roles",
		help: "Usage: consul acl role <subcommand> [options] [args]\n\n" +
			"  Creates, reads, updates, lists and deletes ACL roles: named sets of\n" +
			"  policies and identities that tokens link to.",
	},
	"acl role create": {synopsis: "Create an ACL role", run: runACLRoleCreate},
	"acl role read":   {synopsis: "Read an ACL role", run: aclRole.runRead},
	"acl role list":   {synopsis: "List ACL roles", run: aclRole.runList},
	"acl role update": {synopsis: "Update an ACL role", run: runACLRoleUpdate},
	"acl role delete": {synopsis: "Delete an ACL role", run: aclRole.runDelete},

	"catalog": {
		synopsis: "Interact with the catalog",
		help: "Usage: consul catalog <subcommand> [options]\n\n" +
			"  Lists the datacenters, nodes and services of the catalog.",
	},
	"catalog datacenters": {synopsis: "Lists all known datacenters", run: runCatalogDatacenters},
	"catalog nodes":       {synopsis: "Lists all nodes in the given datacenter", run: runCatalogNodes},
	"catalog services":    {synopsis: "Lists all registered services in a datacenter", run: runCatalogServices},

	"services": {
		synopsis: "Interact with services",
		help: "Usage: consul services <subcommand> [options]\n\n" +
			"  Registers and deregisters services with the local agent.",
	},
	"services register":   {synopsis: "Register services with the local agent", run: runServicesRegister},
	"services deregister": {synopsis: "Deregister services with the local agent", run: runServicesDeregister},

	"operator": {
		synopsis: "Provides cluster-level tools for Consul operators",
		help: "Usage: consul operator <subcommand> [options]\n\n" +
			"  Tools for operators of the servers' cluster.",
	},
	"operator raft": {
		synopsis: "Provides cluster-level tools for Consul operators",
		help: "Usage: consul operator raft <subcommand> [options]\n\n" +
			"  Inspects and changes the servers' Raft configuration.",
	},
	"operator raft list-peers":  {synopsis: "Display the current Raft peer configuration", run: runRaftListPeers},
	"operator raft remove-peer": {synopsis: "Remove a Consul server from the Raft configuration", run: runRaftRemovePeer},
}

// run dispatches args (without the program name) to a command and returns
// the process's exit code.
func run(args []string, u *ui) int {
	if len(args) == 0 {
		printCommands(u.err)
		return 1
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printCommands(u.out)
		return 0
	case "-v", "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}

	name, c, rest, ok := resolve(args)
	switch {
	case !ok:
		u.error("Unknown command: %q\n", args[0])
		printCommands(u.err)
		return 1
	case c.run != nil:
		return c.run(u, rest)
	}

	// A group: list its subcommands. Asked for, that is a success; reached
	// with no or an unknown subcommand, it is not.
	w, code := u.err, 1
	if len(rest) == 1 && isHelpFlag(rest[0]) {
		w, code = u.out, 0
	} else if len(rest) >= 1 {
		fmt.Fprintf(w, "Unknown command: %q\n\n", name+" "+rest[0])
	}
	fmt.Fprintf(w, "%s\n\nSubcommands:\n", c.help)
	printTable(w, name+" ")
	return code
}

// resolve finds the command named by the longest run of leading words
// ("operator raft list-peers" before "operator raft" before "operator").
func resolve(args []string) (string, command, []string, bool) {
	for n := len(args); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		if c, ok := commands[name]; ok {
			return name, c, args[n:], true
		}
	}
	return "", command{}, nil, false
}

// isHelpFlag tells whether arg asks for help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// printCommands writes the top-level usage and command list.
func printCommands(w io.Writer) {
	fmt.Fprint(w, "Usage: consul [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n")
	printTable(w, "")
}

// printTable lists the commands one word below prefix ("" for the top
// level, "kv " for kv's subcommands) with their synopses, sorted.
func printTable(w io.Writer, prefix string) {
	var names []string
	width := 0
	for name := range commands {
		rest, ok := strings.CutPrefix(name, prefix)
		if ok && rest != "" && !strings.Contains(rest, " ") {
			names = append(names, rest)
			width = max(width, len(rest))
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "    %-*s    %s\n", width, n, commands[prefix+n].synopsis)
	}
}
