package consul

import (
	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// readQuery is the common path of every read endpoint: forward (or serve
// a stale read here), resolve the token, confirm leadership for a
// consistent read, and run fn as a blocking query with the authorizer;
// fn reports a refusal as ErrPermissionDenied and marks filtered lists.
func (s *Server) readQuery(method, dc string, opts *structs.QueryOptions, args, reply interface{}, meta *structs.QueryMeta,
	fn func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error) error {
	if done, err := s.forward(method, dc, opts.AllowStale, args, reply); done {
		return err
	}
	authz, err := s.ResolveToken(opts.Token)
	if err != nil {
		return err
	}
	if err := s.consistentRead(opts); err != nil {
		return err
	}
	return s.blockingQuery(opts, meta, func(ws memdb.WatchSet, st *state.Store) error {
		meta.ResultsFilteredByACLs = false
		return fn(ws, st, authz)
	})
}

// consistentRead confirms, for a read that asks for it, that this server
// is still the leader: a quorum answers before the read is served.
func (s *Server) consistentRead(opts *structs.QueryOptions) error {
	if !opts.RequireConsistent {
		return nil
	}
	if err := s.raftWait(s.raft.VerifyLeader(), 0); err != nil {
		return structs.ErrNoLeader
	}
	return nil
}
