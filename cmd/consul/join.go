package main

const joinHelp = `
Usage: consul join [options] ADDRESS...

  Tells the agent to join the cluster of the agents at the given Serf
  addresses ("host" or "host:port"; the port defaults to the agent's own
  Serf LAN port).

      $ consul join 10.0.0.2 10.0.0.3:8301
`

// runJoin is `consul join`.
func runJoin(u *ui, args []string) int {
	var wan bool
	c := newHTTPCommand("join", joinHelp, false)
	c.fs.BoolVar(&wan, "wan", false, "Join the WAN pool instead (this agent has none: the agent refuses).")
	if code, done := c.parse(u, args); done {
		return code
	}
	addrs := c.fs.Args()
	if len(addrs) == 0 {
		u.error("At least one address to join must be specified.\n")
		u.error("%s", usage(c.help, flagDefaults(c.fs)))
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	joined := 0
	for _, addr := range addrs {
		if err := client.Agent().Join(addr, wan); err != nil {
			u.error("Error joining address '%s': %v", addr, err)
			continue
		}
		joined++
	}
	if joined == 0 {
		u.error("Failed to join any nodes.")
		return 1
	}
	u.info("Successfully joined cluster by contacting %d nodes.", joined)
	return 0
}
