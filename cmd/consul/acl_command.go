package main

// aclPrints is what an acl command prints on success, which decides the
// output flags it takes.
type aclPrints int

const (
	// printsMessage: a line of text (delete); no output flags.
	printsMessage aclPrints = iota
	// printsObject: an API object, with -format (bootstrap and clone, which
	// have no -meta in Consul either).
	printsObject
	// printsObjectMeta: an API object or list, with -format and -meta.
	printsObjectMeta
)

// aclCommand is the start every acl command shares: the HTTP flags, the
// output flags for what it prints, and no positional arguments.
type aclCommand struct {
	*httpCommand
	out    aclOutput
	prints aclPrints
}

// newACLCommand returns the start of the acl command called name; reads
// adds -stale. The command adds its own flags to fs before parse.
func newACLCommand(name, help string, prints aclPrints, reads bool) *aclCommand {
	c := &aclCommand{httpCommand: newHTTPCommand(name, help, reads), prints: prints}
	if prints != printsMessage {
		c.out.register(c.fs, prints == printsObjectMeta)
	}
	return c
}

// parse parses args as httpCommand.parse does, then refuses positional
// arguments and an unknown -format, before the command checks its own
// flags or sends any request.
func (c *aclCommand) parse(u *ui, args []string) (code int, done bool) {
	if code, done := c.httpCommand.parse(u, args); done {
		return code, true
	}
	if !noArgs(u, c.fs.Args()) || c.prints != printsMessage && !c.out.check(u) {
		return 1, true
	}
	return 0, false
}
