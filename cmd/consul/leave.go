package main

const leaveHelp = `
Usage: consul leave [options]

  Makes the agent leave the cluster gracefully and shut down. A leader
  first removes itself from the Raft configuration, so that the other
  servers elect a new one; a follower waits until the leader has removed
  it, so that the remaining servers keep their quorum.
`

// runLeave is `consul leave`.
func runLeave(u *ui, args []string) int {
	var hf httpFlags
	fs := newFlagSet("leave")
	hf.register(fs, false)
	if code, done := parseFlags(u, fs, leaveHelp, args); done {
		return code
	}
	if fs.NArg() > 0 {
		u.error("Error found unexpected args: %v", fs.Args())
		return 1
	}
	client, ok := hf.client(u)
	if !ok {
		return 1
	}
	if err := client.Agent().Leave(); err != nil {
		u.error("Error leaving: %v", err)
		return 1
	}
	u.info("Graceful leave complete")
	return 0
}
