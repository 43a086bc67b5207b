package state

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// Tombstones are stored as DirEntry values holding only Key and
// ModifyIndex (the deleting index), which is also how the dump carries
// them, as Consul does.

// KVSGet returns the entry at key (nil if absent) and the index to block
// on: the highest index that changed the KV or tombstone tables.
func (s *Store) KVSGet(ws memdb.WatchSet, key string) (uint64, *structs.DirEntry, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	return kvsGetTxn(tx, ws, key)
}

func kvsGetTxn(tx *memdb.Txn, ws memdb.WatchSet, key string) (uint64, *structs.DirEntry, error) {
	idx := maxIndex(tx, tableKVs, tableTombstones)
	watchCh, row, err := tx.FirstWatch(tableKVs, "id", key)
	if err != nil {
		return 0, nil, fmt.Errorf("state: kv get: %w", err)
	}
	ws.Add(watchCh)
	if row == nil {
		return idx, nil, nil
	}
	return idx, row.(*structs.DirEntry), nil
}

// KVSList returns the entries under prefix, and the index to block on:
// the highest index of those entries and of tombstones under the prefix,
// or the table index when there are none.
func (s *Store) KVSList(ws memdb.WatchSet, prefix string) (uint64, structs.DirEntries, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	return kvsListTxn(tx, ws, prefix)
}

func kvsListTxn(tx *memdb.Txn, ws memdb.WatchSet, prefix string) (uint64, structs.DirEntries, error) {
	var ents structs.DirEntries
	idx, err := prefixScan(tx, ws, prefix, func(e *structs.DirEntry) {
		ents = append(ents, e)
	})
	return idx, ents, err
}

// KVSListKeys returns the keys under prefix; with a separator, keys that
// continue past the next separator are rolled up into their common
// prefix, ending in the separator.
func (s *Store) KVSListKeys(ws memdb.WatchSet, prefix, sep string) (uint64, []string, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	var keys []string
	var last string
	idx, err := prefixScan(tx, ws, prefix, func(e *structs.DirEntry) {
		if sep != "" {
			rest := e.Key[len(prefix):]
			if i := strings.Index(rest, sep); i >= 0 {
				rolled := e.Key[:len(prefix)+i+len(sep)]
				if rolled != last {
					last = rolled
					keys = append(keys, rolled)
				}
				return
			}
		}
		keys = append(keys, e.Key)
	})
	return idx, keys, err
}

// prefixScan calls fn for every entry under prefix in key order and
// returns the index a prefix read reports.
func prefixScan(tx *memdb.Txn, ws memdb.WatchSet, prefix string, fn func(*structs.DirEntry)) (uint64, error) {
	it, err := tx.Get(tableKVs, "id_prefix", prefix)
	if err != nil {
		return 0, fmt.Errorf("state: kv list: %w", err)
	}
	ws.Add(it.WatchCh())
	var idx uint64
	for row := it.Next(); row != nil; row = it.Next() {
		e := row.(*structs.DirEntry)
		if e.ModifyIndex > idx {
			idx = e.ModifyIndex
		}
		fn(e)
	}
	stones, err := tx.Get(tableTombstones, "id_prefix", prefix)
	if err != nil {
		return 0, fmt.Errorf("state: kv list: %w", err)
	}
	ws.Add(stones.WatchCh())
	for row := stones.Next(); row != nil; row = stones.Next() {
		if i := row.(*structs.DirEntry).ModifyIndex; i > idx {
			idx = i
		}
	}
	if idx == 0 {
		idx = maxIndex(tx, tableKVs, tableTombstones)
	}
	return idx, nil
}

// kvsSetTxn writes ent at idx, keeping the existing entry's CreateIndex,
// LockIndex and Session. It returns the stored entry.
func kvsSetTxn(tx *memdb.Txn, idx uint64, ent *structs.DirEntry) (*structs.DirEntry, error) {
	row, err := tx.First(tableKVs, "id", ent.Key)
	if err != nil {
		return nil, fmt.Errorf("state: kv set: %w", err)
	}
	stored := &structs.DirEntry{
		Key:   ent.Key,
		Flags: ent.Flags,
		Value: ent.Value,
	}
	stored.CreateIndex = idx
	stored.ModifyIndex = idx
	var old interface{}
	if row != nil {
		existing := row.(*structs.DirEntry)
		stored.CreateIndex = existing.CreateIndex
		stored.LockIndex = existing.LockIndex
		stored.Session = existing.Session
		old = existing
	}
	if err := insertRecord(tx, tableKVs, old, stored); err != nil {
		return nil, err
	}
	return stored, setIndex(tx, tableKVs, idx)
}

// kvsSetCASTxn writes ent only if its ModifyIndex matches the stored
// entry's (0: only if the key does not exist). It reports whether it wrote.
func kvsSetCASTxn(tx *memdb.Txn, idx uint64, ent *structs.DirEntry) (*structs.DirEntry, bool, error) {
	row, err := tx.First(tableKVs, "id", ent.Key)
	if err != nil {
		return nil, false, fmt.Errorf("state: kv cas: %w", err)
	}
	if row == nil && ent.ModifyIndex != 0 {
		return nil, false, nil
	}
	if row != nil && row.(*structs.DirEntry).ModifyIndex != ent.ModifyIndex {
		return nil, false, nil
	}
	stored, err := kvsSetTxn(tx, idx, ent)
	return stored, err == nil, err
}

// errMissingSession is a lock or unlock that names no session.
var errMissingSession = errors.New("missing session")

// kvsLockTxn writes ent and makes ent.Session its lock holder, unless
// another session holds it. Taking a free lock bumps LockIndex; writing
// again under a lock already held keeps it. It reports whether the
// session holds the lock.
func kvsLockTxn(tx *memdb.Txn, idx uint64, ent *structs.DirEntry) (*structs.DirEntry, bool, error) {
	if ent.Session == "" {
		return nil, false, errMissingSession
	}
	sess, err := tx.First(tableSessions, "id", ent.Session)
	if err != nil {
		return nil, false, fmt.Errorf("state: kv lock: %w", err)
	}
	if sess == nil {
		return nil, false, fmt.Errorf("invalid session %q", ent.Session)
	}
	row, err := tx.First(tableKVs, "id", ent.Key)
	if err != nil {
		return nil, false, fmt.Errorf("state: kv lock: %w", err)
	}
	stored := &structs.DirEntry{Key: ent.Key, Flags: ent.Flags, Value: ent.Value, Session: ent.Session, LockIndex: 1}
	stored.CreateIndex, stored.ModifyIndex = idx, idx
	if row != nil {
		existing := row.(*structs.DirEntry)
		switch existing.Session {
		case ent.Session:
			stored.LockIndex = existing.LockIndex
		case "":
			stored.LockIndex = existing.LockIndex + 1
		default:
			return nil, false, nil
		}
		stored.CreateIndex = existing.CreateIndex
	}
	if err := insertRecord(tx, tableKVs, row, stored); err != nil {
		return nil, false, err
	}
	if err := pruneLockDelay(tx, ent.Key); err != nil {
		return nil, false, err
	}
	return stored, true, setIndex(tx, tableKVs, idx)
}

// pruneLockDelay drops the key's lock delay once it has passed, so that
// the table does not keep a row for every key ever locked.
func pruneLockDelay(tx *memdb.Txn, key string) error {
	row, err := tx.First(tableLockDelays, "id", key)
	if err != nil || row == nil || time.Now().Before(row.(*lockDelay).Until) {
		return err
	}
	return tx.Delete(tableLockDelays, row)
}

// kvsUnlockTxn writes ent and frees its lock, if ent.Session holds it. It
// reports whether it did.
func kvsUnlockTxn(tx *memdb.Txn, idx uint64, ent *structs.DirEntry) (*structs.DirEntry, bool, error) {
	if ent.Session == "" {
		return nil, false, errMissingSession
	}
	row, err := tx.First(tableKVs, "id", ent.Key)
	if err != nil {
		return nil, false, fmt.Errorf("state: kv unlock: %w", err)
	}
	if row == nil || row.(*structs.DirEntry).Session != ent.Session {
		return nil, false, nil
	}
	existing := row.(*structs.DirEntry)
	stored := &structs.DirEntry{Key: ent.Key, Flags: ent.Flags, Value: ent.Value, LockIndex: existing.LockIndex}
	stored.CreateIndex, stored.ModifyIndex = existing.CreateIndex, idx
	if err := insertRecord(tx, tableKVs, row, stored); err != nil {
		return nil, false, err
	}
	return stored, true, setIndex(tx, tableKVs, idx)
}

// kvsDeleteTxn deletes key at idx, leaving a tombstone. Deleting an
// absent key changes nothing.
func kvsDeleteTxn(tx *memdb.Txn, idx uint64, key string) error {
	row, err := tx.First(tableKVs, "id", key)
	if err != nil {
		return fmt.Errorf("state: kv delete: %w", err)
	}
	if row == nil {
		return nil
	}
	return kvsDeleteEntry(tx, idx, row.(*structs.DirEntry))
}

func kvsDeleteEntry(tx *memdb.Txn, idx uint64, ent *structs.DirEntry) error {
	if err := deleteRecord(tx, tableKVs, ent); err != nil {
		return err
	}
	if err := setTombstone(tx, ent.Key, idx); err != nil {
		return err
	}
	if err := setIndex(tx, tableKVs, idx); err != nil {
		return err
	}
	return setIndex(tx, tableTombstones, idx)
}

func setTombstone(tx *memdb.Txn, key string, idx uint64) error {
	old, err := tx.First(tableTombstones, "id", key)
	if err != nil {
		return fmt.Errorf("state: tombstone: %w", err)
	}
	stone := &structs.DirEntry{Key: key}
	stone.ModifyIndex = idx
	return insertRecord(tx, tableTombstones, old, stone)
}

// kvsDeleteCASTxn deletes key only if its ModifyIndex is cidx. An absent
// key counts as deleted, as in Consul.
func kvsDeleteCASTxn(tx *memdb.Txn, idx, cidx uint64, key string) (bool, error) {
	row, err := tx.First(tableKVs, "id", key)
	if err != nil {
		return false, fmt.Errorf("state: kv delete-cas: %w", err)
	}
	if row == nil {
		return true, nil
	}
	ent := row.(*structs.DirEntry)
	if ent.ModifyIndex != cidx {
		return false, nil
	}
	return true, kvsDeleteEntry(tx, idx, ent)
}

// kvsDeleteTreeTxn deletes every key under prefix at idx.
func kvsDeleteTreeTxn(tx *memdb.Txn, idx uint64, prefix string) error {
	it, err := tx.Get(tableKVs, "id_prefix", prefix)
	if err != nil {
		return fmt.Errorf("state: kv delete-tree: %w", err)
	}
	// Collect first: deleting while iterating a memdb write txn is unsafe.
	var doomed []*structs.DirEntry
	for row := it.Next(); row != nil; row = it.Next() {
		doomed = append(doomed, row.(*structs.DirEntry))
	}
	for _, ent := range doomed {
		if err := kvsDeleteEntry(tx, idx, ent); err != nil {
			return err
		}
	}
	return nil
}

// KVSSet writes ent at idx.
func (s *Store) KVSSet(idx uint64, ent *structs.DirEntry) error {
	return s.write(func(tx *memdb.Txn) error {
		_, err := kvsSetTxn(tx, idx, ent)
		return err
	})
}

// KVSSetCAS writes ent at idx if ent.ModifyIndex matches; it reports
// whether it wrote.
func (s *Store) KVSSetCAS(idx uint64, ent *structs.DirEntry) (bool, error) {
	var ok bool
	err := s.write(func(tx *memdb.Txn) error {
		var err error
		_, ok, err = kvsSetCASTxn(tx, idx, ent)
		return err
	})
	return ok, err
}

// KVSLock writes ent at idx under the lock of ent.Session; it reports
// whether the session holds the lock.
func (s *Store) KVSLock(idx uint64, ent *structs.DirEntry) (bool, error) {
	return s.lockWrite(idx, ent, kvsLockTxn)
}

// KVSUnlock writes ent at idx and frees the lock of ent.Session; it
// reports whether the session held it.
func (s *Store) KVSUnlock(idx uint64, ent *structs.DirEntry) (bool, error) {
	return s.lockWrite(idx, ent, kvsUnlockTxn)
}

func (s *Store) lockWrite(idx uint64, ent *structs.DirEntry,
	fn func(*memdb.Txn, uint64, *structs.DirEntry) (*structs.DirEntry, bool, error)) (bool, error) {
	var ok bool
	err := s.write(func(tx *memdb.Txn) error {
		var err error
		_, ok, err = fn(tx, idx, ent)
		return err
	})
	return ok, err
}

// KVSDelete deletes key at idx.
func (s *Store) KVSDelete(idx uint64, key string) error {
	return s.write(func(tx *memdb.Txn) error { return kvsDeleteTxn(tx, idx, key) })
}

// KVSDeleteCAS deletes key at idx if its ModifyIndex is cidx; it reports
// whether the key is gone.
func (s *Store) KVSDeleteCAS(idx, cidx uint64, key string) (bool, error) {
	var ok bool
	err := s.write(func(tx *memdb.Txn) error {
		var err error
		ok, err = kvsDeleteCASTxn(tx, idx, cidx, key)
		return err
	})
	return ok, err
}

// KVSDeleteTree deletes every key under prefix at idx.
func (s *Store) KVSDeleteTree(idx uint64, prefix string) error {
	return s.write(func(tx *memdb.Txn) error { return kvsDeleteTreeTxn(tx, idx, prefix) })
}

// ReapTombstones removes, at idx, the tombstones of deletes made at or
// before reapIndex: they only kept prefix indexes from going back while
// blocking queries could still be waiting on them.
func (s *Store) ReapTombstones(idx, reapIndex uint64) error {
	return s.write(func(tx *memdb.Txn) error {
		it, err := tx.Get(tableTombstones, "id")
		if err != nil {
			return fmt.Errorf("state: tombstones: %w", err)
		}
		var doomed []*structs.DirEntry
		for row := it.Next(); row != nil; row = it.Next() {
			if stone := row.(*structs.DirEntry); stone.ModifyIndex <= reapIndex {
				doomed = append(doomed, stone)
			}
		}
		for _, stone := range doomed {
			if err := deleteRecord(tx, tableTombstones, stone); err != nil {
				return err
			}
		}
		if len(doomed) == 0 {
			return nil
		}
		return setIndex(tx, tableTombstones, idx)
	})
}

// HasTombstonesUpTo tells whether any tombstone was made at or before idx.
func (s *Store) HasTombstonesUpTo(idx uint64) bool {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(tableTombstones, "id")
	if err != nil {
		return false
	}
	for row := it.Next(); row != nil; row = it.Next() {
		if row.(*structs.DirEntry).ModifyIndex <= idx {
			return true
		}
	}
	return false
}
