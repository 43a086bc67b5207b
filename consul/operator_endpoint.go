package consul

import (
	"fmt"

	"github.com/consulcompat/consul/acl"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// Operator serves the operator's view of Raft.
type Operator struct {
	srv *Server
}

// raftProtocolVersion is the Raft protocol the servers speak, as Consul
// reports it.
const raftProtocolVersion = "3"

// RaftGetConfiguration returns the Raft configuration as the leader sees it.
func (op *Operator) RaftGetConfiguration(args *structs.DCSpecificRequest, reply *structs.RaftConfigurationResponse) error {
	if done, err := op.srv.forward("Operator.RaftGetConfiguration", args.Datacenter, args.AllowStale, args, reply); done {
		return err
	}
	if err := op.srv.authorize(args.Token, func(z acl.Authorizer) bool { return z.OperatorRead() }); err != nil {
		return err
	}
	f := op.srv.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	leader, _ := op.srv.raft.LeaderWithID()
	reply.Servers = nil
	for _, s := range f.Configuration().Servers {
		reply.Servers = append(reply.Servers, &structs.RaftServer{
			ID:              string(s.ID),
			Node:            string(s.ID),
			Address:         string(s.Address),
			Leader:          s.Address == leader,
			ProtocolVersion: raftProtocolVersion,
			Voter:           s.Suffrage == raft.Voter,
		})
	}
	reply.Index = op.srv.raft.LastIndex()
	return nil
}

// RaftRemovePeer removes a server from the Raft configuration, named by
// ID or by address: the way out when a dead server will not come back.
func (op *Operator) RaftRemovePeer(args *structs.RaftRemovePeerRequest, reply *struct{}) error {
	if done, err := op.srv.forward("Operator.RaftRemovePeer", args.Datacenter, false, args, reply); done {
		return err
	}
	if err := op.srv.authorize(args.Token, func(z acl.Authorizer) bool { return z.OperatorWrite() }); err != nil {
		return err
	}
	if (args.ID == "") == (args.Address == "") {
		return fmt.Errorf("%w: Must specify either ?id with the server's ID or ?address with IP:port of peer to remove", structs.ErrBadRequest)
	}
	f := op.srv.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	for _, s := range f.Configuration().Servers {
		if (args.ID != "" && string(s.ID) == args.ID) || (args.Address != "" && string(s.Address) == args.Address) {
			op.srv.logger.Warn("removing Raft peer on operator request", "id", s.ID, "address", s.Address)
			return op.srv.raft.RemoveServer(s.ID, 0, 0).Error()
		}
	}
	if args.ID != "" {
		return fmt.Errorf("%w: id %q was not found in the Raft configuration", structs.ErrBadRequest, args.ID)
	}
	return fmt.Errorf("%w: address %q was not found in the Raft configuration", structs.ErrBadRequest, args.Address)
}
