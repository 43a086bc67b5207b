package main

import (
	"fmt"
	"text/tabwriter"
)

const raftListPeersHelp = `
Usage: consul operator raft list-peers [options]

  Displays the servers of the Raft configuration and which one leads.

      $ consul operator raft list-peers
`

// runRaftListPeers is `consul operator raft list-peers`.
func runRaftListPeers(u *ui, args []string) int {
	c := newHTTPCommand("operator raft list-peers", raftListPeersHelp, true)
	if code, done := c.parse(u, args); done {
		return code
	}
	if !noArgs(u, c.fs.Args()) {
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	conf, err := client.Operator().RaftGetConfiguration(c.http.queryOptions())
	if err != nil {
		u.error("Error getting peers: %v", err)
		return 1
	}
	tw := tabwriter.NewWriter(u.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Node\tID\tAddress\tState\tVoter\tRaftProtocol")
	for _, s := range conf.Servers {
		state := "follower"
		if s.Leader {
			state = "leader"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", s.Node, s.ID, s.Address, state, s.Voter, s.ProtocolVersion)
	}
	tw.Flush()
	return 0
}

const raftRemovePeerHelp = `
Usage: consul operator raft remove-peer [options] (-id=ID | -address=IP:PORT)

  Removes a server from the Raft configuration: for a server that failed
  and will not come back, so that the others stop counting on its vote.

      $ consul operator raft remove-peer -address=10.0.0.3:8300
`

// runRaftRemovePeer is `consul operator raft remove-peer`.
func runRaftRemovePeer(u *ui, args []string) int {
	var id, address string
	c := newHTTPCommand("operator raft remove-peer", raftRemovePeerHelp, false)
	c.fs.StringVar(&id, "id", "", "The Raft ID of the server to remove.")
	c.fs.StringVar(&address, "address", "", "The address (IP:port) of the server to remove.")
	if code, done := c.parse(u, args); done {
		return code
	}
	if !noArgs(u, c.fs.Args()) {
		return 1
	}
	if (id == "") == (address == "") {
		u.error("Error! Exactly one of -id and -address must be given")
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	var err error
	if id != "" {
		err = client.Operator().RaftRemovePeerByID(id, nil)
	} else {
		err = client.Operator().RaftRemovePeerByAddress(address, nil)
	}
	if err != nil {
		u.error("Error removing peer: %v", err)
		return 1
	}
	if id != "" {
		u.info("Removed peer with id %q", id)
	} else {
		u.info("Removed peer with address %q", address)
	}
	return 0
}
