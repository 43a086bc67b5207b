package consul

import "github.com/consulcompat/consul/structs"

// Status answers questions about the Raft cluster.
type Status struct {
	srv *Server
}

// Leader is the leader's RPC address, or "" during an election.
func (st *Status) Leader(args *structs.DCSpecificRequest, reply *string) error {
	if done, err := st.srv.forward("", args.Datacenter, true, args, reply); done {
		return err
	}
	addr, _ := st.srv.raft.LeaderWithID()
	*reply = string(addr)
	return nil
}

// Peers are the RPC addresses of the Raft voters.
func (st *Status) Peers(args *structs.DCSpecificRequest, reply *[]string) error {
	if done, err := st.srv.forward("", args.Datacenter, true, args, reply); done {
		return err
	}
	f := st.srv.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	peers := []string{}
	for _, srv := range f.Configuration().Servers {
		peers = append(peers, string(srv.Address))
	}
	*reply = peers
	return nil
}
