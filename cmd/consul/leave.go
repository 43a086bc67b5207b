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
	c := newHTTPCommand("leave", leaveHelp, false)
	if code, done := c.parse(u, args); done {
		return code
	}
	if c.fs.NArg() > 0 {
		u.error("Error found unexpected args: %v", c.fs.Args())
		return 1
	}
	client, ok := c.client(u)
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
