package consul

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
)

// dispatch decodes one log entry body and applies it at index. It reports
// false for a type it does not know.
func (f *fsm) dispatch(t structs.MessageType, buf []byte, index uint64) (interface{}, bool) {
	switch t {
	case structs.KVSRequestType:
		return f.applyKVS(buf, index), true
	case structs.TxnRequestType:
		return f.applyTxn(buf, index), true
	}
	return nil, false
}

func (f *fsm) applyKVS(buf []byte, index uint64) interface{} {
	var req structs.KVSRequest
	if err := structs.Decode(buf, &req); err != nil {
		return fmt.Errorf("fsm: kvs: %w", err)
	}
	s := f.state
	switch req.Op {
	case structs.KVSet:
		return s.KVSSet(index, &req.DirEnt)
	case structs.KVCAS:
		ok, err := s.KVSSetCAS(index, &req.DirEnt)
		if err != nil {
			return err
		}
		return ok
	case structs.KVDelete:
		return s.KVSDelete(index, req.DirEnt.Key)
	case structs.KVDeleteCAS:
		ok, err := s.KVSDeleteCAS(index, req.DirEnt.ModifyIndex, req.DirEnt.Key)
		if err != nil {
			return err
		}
		return ok
	case structs.KVDeleteTree:
		return s.KVSDeleteTree(index, req.DirEnt.Key)
	}
	return fmt.Errorf("fsm: kvs: unknown op %q", req.Op)
}

func (f *fsm) applyTxn(buf []byte, index uint64) interface{} {
	var req structs.TxnRequest
	if err := structs.Decode(buf, &req); err != nil {
		return fmt.Errorf("fsm: txn: %w", err)
	}
	results, errs := f.state.TxnRW(index, req.Ops)
	return structs.TxnResponse{Results: results, Errors: errs}
}
