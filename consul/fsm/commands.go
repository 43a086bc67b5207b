package fsm

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
)

// dispatch decodes one log entry body and applies it at index. It reports
// false for a type it does not know.
func (f *FSM) dispatch(t structs.MessageType, buf []byte, index uint64) (interface{}, bool) {
	switch t {
	case structs.KVSRequestType:
		return f.applyKVS(buf, index), true
	case structs.TxnRequestType:
		return f.applyTxn(buf, index), true
	case structs.TombstoneRequestType:
		var req structs.TombstoneRequest
		return decodeAndApply(buf, &req, func() error {
			if req.Op != structs.TombstoneReap {
				return fmt.Errorf("fsm: tombstone: unknown op %q", req.Op)
			}
			return f.state.ReapTombstones(index, req.ReapIndex)
		}), true
	case structs.RegisterRequestType:
		var req structs.RegisterRequest
		return decodeAndApply(buf, &req, func() error { return f.state.EnsureRegistration(index, &req) }), true
	case structs.DeregisterRequestType:
		var req structs.DeregisterRequest
		return decodeAndApply(buf, &req, func() error { return f.state.Deregister(index, &req) }), true
	case structs.SessionRequestType:
		var req structs.SessionRequest
		return decodeAndApply(buf, &req, func() error {
			switch req.Op {
			case structs.SessionCreate:
				return f.state.SessionCreate(index, &req.Session)
			case structs.SessionDestroy:
				return f.state.SessionDestroy(index, req.Session.ID)
			}
			return fmt.Errorf("fsm: session: unknown op %q", req.Op)
		}), true
	case structs.PreparedQueryRequestType:
		var req structs.PreparedQueryRequest
		return decodeAndApply(buf, &req, func() error {
			if req.Query == nil {
				return fmt.Errorf("fsm: prepared query: no query")
			}
			switch req.Op {
			case structs.PreparedQueryCreate, structs.PreparedQueryUpdate:
				return f.state.PreparedQuerySet(index, req.Query)
			case structs.PreparedQueryDelete:
				return f.state.PreparedQueryDelete(index, req.Query.ID)
			}
			return fmt.Errorf("fsm: prepared query: unknown op %q", req.Op)
		}), true
	case structs.ACLBootstrapRequestType:
		var req structs.ACLTokenBootstrapRequest
		return decodeAndApply(buf, &req, func() error { return f.state.ACLBootstrap(index, req.ResetIndex, &req.Token) }), true
	case structs.ACLTokenSetRequestType:
		var req structs.ACLTokenSetRequest
		return decodeAndApply(buf, &req, func() error { return f.state.ACLTokenSet(index, &req.ACLToken) }), true
	case structs.ACLPolicySetRequestType:
		var req structs.ACLPolicySetRequest
		return decodeAndApply(buf, &req, func() error { return f.state.ACLPolicySet(index, &req.Policy) }), true
	case structs.ACLRoleSetRequestType:
		var req structs.ACLRoleSetRequest
		return decodeAndApply(buf, &req, func() error { return f.state.ACLRoleSet(index, &req.Role) }), true
	case structs.ACLTokenDeleteRequestType, structs.ACLPolicyDeleteRequestType, structs.ACLRoleDeleteRequestType:
		var req structs.ACLDeleteRequest
		return decodeAndApply(buf, &req, func() error { return f.state.ACLDelete(index, t, req.ID) }), true
	}
	return nil, false
}

// decodeAndApply decodes buf into req and runs apply; a decode failure or
// apply's error is the entry's response.
func decodeAndApply(buf []byte, req interface{}, apply func() error) interface{} {
	if err := structs.Decode(buf, req); err != nil {
		return fmt.Errorf("fsm: decode: %w", err)
	}
	return apply()
}

func (f *FSM) applyKVS(buf []byte, index uint64) interface{} {
	var req structs.KVSRequest
	if err := structs.Decode(buf, &req); err != nil {
		return fmt.Errorf("fsm: kvs: %w", err)
	}
	s := f.state
	switch req.Op {
	case structs.KVSet:
		return s.KVSSet(index, &req.DirEnt)
	case structs.KVCAS:
		return boolOrError(s.KVSSetCAS(index, &req.DirEnt))
	case structs.KVDelete:
		return s.KVSDelete(index, req.DirEnt.Key)
	case structs.KVDeleteCAS:
		return boolOrError(s.KVSDeleteCAS(index, req.DirEnt.ModifyIndex, req.DirEnt.Key))
	case structs.KVDeleteTree:
		return s.KVSDeleteTree(index, req.DirEnt.Key)
	case structs.KVLock:
		return boolOrError(s.KVSLock(index, &req.DirEnt))
	case structs.KVUnlock:
		return boolOrError(s.KVSUnlock(index, &req.DirEnt))
	}
	return fmt.Errorf("fsm: kvs: unknown op %q", req.Op)
}

// boolOrError is the response of a write that reports whether it took
// effect.
func boolOrError(ok bool, err error) interface{} {
	if err != nil {
		return err
	}
	return ok
}

func (f *FSM) applyTxn(buf []byte, index uint64) interface{} {
	var req structs.TxnRequest
	if err := structs.Decode(buf, &req); err != nil {
		return fmt.Errorf("fsm: txn: %w", err)
	}
	results, errs := f.state.TxnRW(index, req.Ops)
	return structs.TxnResponse{Results: results, Errors: errs}
}
