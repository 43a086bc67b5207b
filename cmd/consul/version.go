package main

import "github.com/consulcompat/consul/agent"

// Version is the version this binary reports: the Consul release whose
// behaviour it follows, the same the agent reports in /v1/agent/self.
const Version = agent.Version

// GitCommit is the source revision, set when building with
// -ldflags "-X main.GitCommit=$(git rev-parse --short HEAD)"; empty
// otherwise.
var GitCommit string

const versionHelp = `
Usage: consul version

  Prints the version of this binary.
`

// runVersion is `consul version`.
func runVersion(u *ui, args []string) int {
	fs := newFlagSet("version")
	if code, done := parseFlags(u, fs, versionHelp, args); done {
		return code
	}
	if fs.NArg() > 0 {
		u.error("Too many arguments (expected 0, got %d)", fs.NArg())
		return 1
	}
	u.info("Consul v%s", Version)
	if GitCommit != "" {
		u.info("Revision %s", GitCommit)
	}
	return 0
}
