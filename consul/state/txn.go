package state

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// TxnRW runs a transaction's operations at idx, all or nothing: if any
// fails, nothing is written and the errors name the failing operations.
func (s *Store) TxnRW(idx uint64, ops structs.TxnOps) (structs.TxnResults, structs.TxnErrors) {
	tx := s.db.Txn(true)
	defer tx.Abort()
	results, errs := txnRun(tx, idx, ops)
	if len(errs) == 0 {
		tx.Commit()
	}
	return results, errs
}

// TxnRO runs a transaction of reads only, and returns the index of the KV
// tables for the reply's X-Consul-Index.
func (s *Store) TxnRO(ops structs.TxnOps) (uint64, structs.TxnResults, structs.TxnErrors) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	results, errs := txnRun(tx, 0, ops)
	return maxIndex(tx, tableKVs, tableTombstones), results, errs
}

func txnRun(tx *memdb.Txn, idx uint64, ops structs.TxnOps) (structs.TxnResults, structs.TxnErrors) {
	var results structs.TxnResults
	var errs structs.TxnErrors
	for i, op := range ops {
		if op.KV == nil {
			errs = append(errs, &structs.TxnError{OpIndex: i, What: "unknown operation type"})
			continue
		}
		ents, err := txnKV(tx, idx, op.KV)
		if err != nil {
			errs = append(errs, &structs.TxnError{OpIndex: i, What: err.Error()})
			continue
		}
		for _, e := range ents {
			results = append(results, &structs.TxnResult{KV: e})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return results, nil
}

// txnKV runs one KV operation and returns the entries it reports. Writes
// report the entry without its value, as Consul does.
func txnKV(tx *memdb.Txn, idx uint64, op *structs.TxnKVOp) ([]*structs.DirEntry, error) {
	key := op.DirEnt.Key
	var ent *structs.DirEntry
	var err error
	switch op.Verb {
	case structs.KVSet:
		ent, err = kvsSetTxn(tx, idx, &op.DirEnt)
	case structs.KVCAS:
		var ok bool
		ent, ok, err = kvsSetCASTxn(tx, idx, &op.DirEnt)
		if err == nil && !ok {
			err = fmt.Errorf("failed to set key %q, index is stale", key)
		}
	case structs.KVDelete:
		err = kvsDeleteTxn(tx, idx, key)
	case structs.KVDeleteCAS:
		var ok bool
		ok, err = kvsDeleteCASTxn(tx, idx, op.DirEnt.ModifyIndex, key)
		if err == nil && !ok {
			err = fmt.Errorf("failed to delete key %q, index is stale", key)
		}
	case structs.KVDeleteTree:
		err = kvsDeleteTreeTxn(tx, idx, key)
	case structs.KVGet:
		_, ent, err = kvsGetTxn(tx, nil, key)
		if err == nil && ent == nil {
			err = fmt.Errorf("key %q doesn't exist", key)
		}
		return []*structs.DirEntry{ent}, err
	case structs.KVGetTree:
		_, ents, err := kvsListTxn(tx, nil, key)
		return ents, err
	case structs.KVCheckIndex:
		_, ent, err = kvsGetTxn(tx, nil, key)
		switch {
		case err != nil:
		case ent == nil:
			err = fmt.Errorf("key %q doesn't exist", key)
		case ent.ModifyIndex != op.DirEnt.ModifyIndex:
			err = fmt.Errorf("current modify index %d for key %q doesn't match %d", ent.ModifyIndex, key, op.DirEnt.ModifyIndex)
		}
	case structs.KVCheckNotExists:
		_, ent, err = kvsGetTxn(tx, nil, key)
		if err == nil && ent != nil {
			err = fmt.Errorf("key %q exists", key)
		}
		return nil, err
	case structs.KVLock:
		var ok bool
		ent, ok, err = kvsLockTxn(tx, idx, &op.DirEnt)
		if err == nil && !ok {
			err = fmt.Errorf("failed to lock key %q, lock is already held", key)
		}
	case structs.KVUnlock:
		var ok bool
		ent, ok, err = kvsUnlockTxn(tx, idx, &op.DirEnt)
		if err == nil && !ok {
			err = fmt.Errorf("failed to unlock key %q, lock isn't held, or is held by another session", key)
		}
	case structs.KVCheckSession:
		_, ent, err = kvsGetTxn(tx, nil, key)
		switch {
		case err != nil:
		case ent == nil:
			err = fmt.Errorf("failed to check session, key %q doesn't exist", key)
		case ent.Session != op.DirEnt.Session:
			err = fmt.Errorf("failed session check for key %q, current session %q != %q", key, ent.Session, op.DirEnt.Session)
		}
	default:
		return nil, fmt.Errorf("unknown KV verb %q", op.Verb)
	}
	if err != nil || ent == nil {
		return nil, err
	}
	// The stored entry is shared with readers: copy before blanking.
	clone := *ent
	clone.Value = nil
	return []*structs.DirEntry{&clone}, nil
}
