package consul

import (
	"fmt"

	"github.com/consulcompat/consul/acl"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// KVS is the KV store endpoint.
type KVS struct {
	srv *Server
}

// Apply writes one KV change through Raft. reply is whether it took
// effect: false only for a CAS that did not match.
func (k *KVS) Apply(args *structs.KVSRequest, reply *bool) error {
	if done, err := k.srv.forward("KVS.Apply", args.Datacenter, false, args, reply); done {
		return err
	}
	if err := validateKVOp(args.Op, &args.DirEnt); err != nil {
		return err
	}
	key := args.DirEnt.Key
	if err := k.srv.authorize(args.Token, func(z acl.Authorizer) bool {
		if args.Op == structs.KVDeleteTree {
			return z.KeyWritePrefix(key)
		}
		return z.KeyWrite(key)
	}); err != nil {
		return err
	}
	resp, err := k.srv.raftApply(structs.KVSRequestType, args)
	if err != nil {
		return err
	}
	if ok, isBool := resp.(bool); isBool {
		*reply = ok
		return nil
	}
	*reply = true
	return nil
}

// validateKVOp rejects a write the state store must never see.
func validateKVOp(op structs.KVSOp, ent *structs.DirEntry) error {
	if ent.Key == "" && op != structs.KVDeleteTree {
		return fmt.Errorf("%w: Missing key name", structs.ErrBadRequest)
	}
	return checkValueSize(ent)
}

// checkValueSize enforces the KV value limit.
func checkValueSize(ent *structs.DirEntry) error {
	if len(ent.Value) > structs.MaxKVSize {
		return fmt.Errorf("%w: Value for key %q is too large (%d > %d bytes)", structs.ErrTooLarge, ent.Key, len(ent.Value), structs.MaxKVSize)
	}
	return nil
}

// consistentRead confirms, for a read that asks for it, that this server
// is still the leader: a quorum answers before the read is served.
func (s *Server) consistentRead(opts *structs.QueryOptions) error {
	if !opts.RequireConsistent {
		return nil
	}
	// raft queues verify requests in a buffered channel and never answers
	// those still queued when it shuts down; waiting on the future alone
	// would then hang this request, and shutdown with it. The goroutine
	// left behind in that case ends with the process.
	done := make(chan error, 1)
	f := s.raft.VerifyLeader()
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return structs.ErrNoLeader
		}
		return nil
	case <-s.shutdownCh:
		return structs.ErrNoLeader
	}
}

// listAuthorizer resolves a token for a listing under prefix, which needs
// list permission on the prefix; entries are then filtered by read.
func (s *Server) listAuthorizer(secret, prefix string) (acl.Authorizer, error) {
	authz, err := s.ResolveToken(secret)
	if err != nil {
		return nil, err
	}
	if !authz.KeyList(prefix) {
		return nil, structs.ErrPermissionDenied
	}
	return authz, nil
}

// Get reads one key.
func (k *KVS) Get(args *structs.KeyRequest, reply *structs.IndexedDirEntries) error {
	if done, err := k.srv.forward("KVS.Get", args.Datacenter, args.AllowStale, args, reply); done {
		return err
	}
	if err := k.srv.authorize(args.Token, func(z acl.Authorizer) bool { return z.KeyRead(args.Key) }); err != nil {
		return err
	}
	if err := k.srv.consistentRead(&args.QueryOptions); err != nil {
		return err
	}
	return k.srv.blockingQuery(&args.QueryOptions, &reply.QueryMeta, func(ws memdb.WatchSet, s *state.Store) error {
		idx, ent, err := s.KVSGet(ws, args.Key)
		if err != nil {
			return err
		}
		reply.Index = idx
		reply.Entries = nil
		if ent != nil {
			reply.Entries = structs.DirEntries{ent}
		}
		return nil
	})
}

// List reads every key under a prefix.
func (k *KVS) List(args *structs.KeyListRequest, reply *structs.IndexedDirEntries) error {
	if done, err := k.srv.forward("KVS.List", args.Datacenter, args.AllowStale, args, reply); done {
		return err
	}
	authz, err := k.srv.listAuthorizer(args.Token, args.Prefix)
	if err != nil {
		return err
	}
	if err := k.srv.consistentRead(&args.QueryOptions); err != nil {
		return err
	}
	return k.srv.blockingQuery(&args.QueryOptions, &reply.QueryMeta, func(ws memdb.WatchSet, s *state.Store) error {
		idx, ents, err := s.KVSList(ws, args.Prefix)
		reply.Index, reply.Entries = idx, nil
		reply.ResultsFilteredByACLs = false
		for _, e := range ents {
			if authz.KeyRead(e.Key) {
				reply.Entries = append(reply.Entries, e)
			} else {
				reply.ResultsFilteredByACLs = true
			}
		}
		return err
	})
}

// ListKeys lists the keys under a prefix, rolled up at a separator.
func (k *KVS) ListKeys(args *structs.KeyListRequest, reply *structs.IndexedKeyList) error {
	if done, err := k.srv.forward("KVS.ListKeys", args.Datacenter, args.AllowStale, args, reply); done {
		return err
	}
	authz, err := k.srv.listAuthorizer(args.Token, args.Prefix)
	if err != nil {
		return err
	}
	if err := k.srv.consistentRead(&args.QueryOptions); err != nil {
		return err
	}
	return k.srv.blockingQuery(&args.QueryOptions, &reply.QueryMeta, func(ws memdb.WatchSet, s *state.Store) error {
		idx, keys, err := s.KVSListKeys(ws, args.Prefix, args.Seperator)
		reply.Index, reply.Keys = idx, nil
		reply.ResultsFilteredByACLs = false
		for _, key := range keys {
			if authz.KeyRead(key) {
				reply.Keys = append(reply.Keys, key)
			} else {
				reply.ResultsFilteredByACLs = true
			}
		}
		return err
	})
}
