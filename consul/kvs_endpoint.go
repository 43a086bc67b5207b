package consul

import (
	"fmt"
	"time"
	"unicode/utf8"

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
	if args.Op == structs.KVLock {
		if ok, err := k.lockAllowed(&args.DirEnt); !ok || err != nil {
			*reply = false
			return err
		}
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

// lockAllowed checks an acquire on the leader before it goes to Raft: the
// session must exist (a clear 400 rather than the FSM's error), and the
// key's lock delay must have passed. The delay is wall-clock time each
// server keeps, so only the leader's check, before the log, can apply it
// the same way to every server.
func (k *KVS) lockAllowed(ent *structs.DirEntry) (bool, error) {
	st := k.srv.fsm.State()
	_, sess, err := st.SessionGet(nil, ent.Session)
	if err != nil {
		return false, err
	}
	if sess == nil {
		return false, fmt.Errorf("%w: Invalid session %q", structs.ErrBadRequest, ent.Session)
	}
	if k.srv.inLockDelay(ent.Key) {
		k.srv.logger.Debug("lock acquisition refused during lock delay", "key", ent.Key)
		return false, nil
	}
	return true, nil
}

// inLockDelay tells whether key is still in the lock delay of a session
// that held it.
func (s *Server) inLockDelay(key string) bool {
	return time.Now().Before(s.fsm.State().KVSLockDelay(key))
}

// validateKVOp rejects a write the state store must never see.
func validateKVOp(op structs.KVSOp, ent *structs.DirEntry) error {
	if ent.Key == "" && op != structs.KVDeleteTree {
		return fmt.Errorf("%w: Missing key name", structs.ErrBadRequest)
	}
	if (op == structs.KVLock || op == structs.KVUnlock) && ent.Session == "" {
		return fmt.Errorf("%w: Missing session", structs.ErrBadRequest)
	}
	return checkEntry(op, ent)
}

// checkEntry enforces the limits on what a write stores: the value's
// size, and for a verb that can create the key, the key's length and its
// UTF-8. A key that is not UTF-8 would be listed in JSON with U+FFFD in
// place of its bad bytes: a name that does not address it.
func checkEntry(op structs.KVSOp, ent *structs.DirEntry) error {
	if len(ent.Value) > structs.MaxKVSize {
		return fmt.Errorf("%w: Value for key %q is too large (%d > %d bytes)", structs.ErrTooLarge, ent.Key, len(ent.Value), structs.MaxKVSize)
	}
	if !op.CreatesKey() {
		return nil
	}
	if len(ent.Key) > structs.MaxKeySize {
		return fmt.Errorf("%w: Key is too long (%d > %d bytes)", structs.ErrBadRequest, len(ent.Key), structs.MaxKeySize)
	}
	if !utf8.ValidString(ent.Key) {
		return fmt.Errorf("%w: Key %q is not valid UTF-8", structs.ErrBadRequest, ent.Key)
	}
	return nil
}

// Get reads one key.
func (k *KVS) Get(args *structs.KeyRequest, reply *structs.IndexedDirEntries) error {
	return k.srv.readQuery("KVS.Get", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			if !z.KeyRead(args.Key) {
				return structs.ErrPermissionDenied
			}
			idx, ent, err := s.KVSGet(ws, args.Key)
			reply.Index, reply.Entries = idx, nil
			if ent != nil {
				reply.Entries = structs.DirEntries{ent}
			}
			return err
		})
}

// List reads every key under a prefix: list permission on the prefix is
// needed, and entries the token may not read are left out.
func (k *KVS) List(args *structs.KeyListRequest, reply *structs.IndexedDirEntries) error {
	return k.srv.readQuery("KVS.List", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			if !z.KeyList(args.Prefix) {
				return structs.ErrPermissionDenied
			}
			idx, ents, err := s.KVSList(ws, args.Prefix)
			reply.Index, reply.Entries = idx, nil
			for _, e := range ents {
				if z.KeyRead(e.Key) {
					reply.Entries = append(reply.Entries, e)
				} else {
					reply.ResultsFilteredByACLs = true
				}
			}
			return err
		})
}

// ListKeys lists the keys under a prefix, rolled up at a separator, with
// List's permissions.
func (k *KVS) ListKeys(args *structs.KeyListRequest, reply *structs.IndexedKeyList) error {
	return k.srv.readQuery("KVS.ListKeys", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			if !z.KeyList(args.Prefix) {
				return structs.ErrPermissionDenied
			}
			idx, keys, err := s.KVSListKeys(ws, args.Prefix, args.Seperator)
			reply.Index, reply.Keys = idx, nil
			for _, key := range keys {
				if z.KeyRead(key) {
					reply.Keys = append(reply.Keys, key)
				} else {
					reply.ResultsFilteredByACLs = true
				}
			}
			return err
		})
}
