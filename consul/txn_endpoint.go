package consul

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
)

// Txn is the transaction endpoint.
type Txn struct {
	srv *Server
}

// validateTxn checks the limits and every operation before anything is
// written.
func validateTxn(ops structs.TxnOps) error {
	if len(ops) > structs.MaxTxnOps {
		return fmt.Errorf("%w: Transaction contains too many operations (%d > %d)", structs.ErrTooLarge, len(ops), structs.MaxTxnOps)
	}
	for _, op := range ops {
		if op.KV == nil {
			return fmt.Errorf("%w: Transaction operation has no KV part", structs.ErrBadRequest)
		}
		if err := checkEntry(op.KV.Verb, &op.KV.DirEnt); err != nil {
			return err
		}
	}
	return nil
}

// Apply runs a transaction through Raft: all of it, or none of it.
func (t *Txn) Apply(args *structs.TxnRequest, reply *structs.TxnResponse) error {
	if done, err := t.srv.forward("Txn.Apply", args.Datacenter, false, args, reply); done {
		return err
	}
	if err := validateTxn(args.Ops); err != nil {
		return err
	}
	if denied, err := t.srv.txnDenied(args.Token, args.Ops); err != nil || denied != nil {
		reply.Errors = denied
		return err
	}
	if delayed := t.srv.lockDelayed(args.Ops); delayed != nil {
		reply.Errors = delayed
		return nil
	}
	resp, err := t.srv.raftApply(structs.TxnRequestType, args)
	if err != nil {
		return err
	}
	*reply = resp.(structs.TxnResponse)
	return nil
}

// lockDelayed reports the lock operations whose key is still in its lock
// delay: the leader checks before the log, as for KVS.Apply.
func (s *Server) lockDelayed(ops structs.TxnOps) structs.TxnErrors {
	var delayed structs.TxnErrors
	for i, op := range ops {
		if op.KV.Verb == structs.KVLock && s.inLockDelay(op.KV.DirEnt.Key) {
			delayed = append(delayed, &structs.TxnError{OpIndex: i,
				What: fmt.Sprintf("failed to lock key %q due to lock delay", op.KV.DirEnt.Key)})
		}
	}
	return delayed
}

// Read runs a transaction of reads only, without Raft.
func (t *Txn) Read(args *structs.TxnReadRequest, reply *structs.TxnReadResponse) error {
	if done, err := t.srv.forward("Txn.Read", args.Datacenter, args.AllowStale, args, reply); done {
		return err
	}
	if err := t.srv.consistentRead(&args.QueryOptions); err != nil {
		return err
	}
	if err := validateTxn(args.Ops); err != nil {
		return err
	}
	if denied, err := t.srv.txnDenied(args.QueryOptions.Token, args.Ops); err != nil || denied != nil {
		reply.Errors = denied
		return err
	}
	idx, results, errs := t.srv.fsm.State().TxnRO(args.Ops)
	reply.Index, reply.Results, reply.Errors = idx, results, errs
	t.srv.setQueryMeta(&reply.QueryMeta)
	return nil
}

// txnDenied checks every operation against the token, as Consul does:
// each one refused is reported as that operation's error, and then
// nothing is run.
func (s *Server) txnDenied(secret string, ops structs.TxnOps) (structs.TxnErrors, error) {
	authz, err := s.ResolveToken(secret)
	if err != nil {
		return nil, err
	}
	var denied structs.TxnErrors
	for i, op := range ops {
		key := op.KV.DirEnt.Key
		var ok bool
		switch op.KV.Verb {
		case structs.KVDeleteTree:
			ok = authz.KeyWritePrefix(key)
		case structs.KVGetTree:
			ok = authz.KeyList(key)
		default:
			if op.KV.Verb.IsWrite() {
				ok = authz.KeyWrite(key)
			} else {
				ok = authz.KeyRead(key)
			}
		}
		if !ok {
			denied = append(denied, &structs.TxnError{OpIndex: i, What: structs.ErrPermissionDenied.Error()})
		}
	}
	return denied, nil
}
