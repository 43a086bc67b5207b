package state

import (
	"fmt"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// lockDelay is a row of the lock-delays table: the key may not be locked
// again before Until.
type lockDelay struct {
	Key   string
	Until time.Time
}

// SessionCreate stores a new session at idx. Its node must be registered
// and every check it is bound to must exist and not be critical, so that
// a session never starts out already invalid.
func (s *Store) SessionCreate(idx uint64, sess *structs.Session) error {
	return s.write(func(tx *memdb.Txn) error {
		if sess.ID == "" {
			return fmt.Errorf("%w: Missing session ID", structs.ErrBadRequest)
		}
		if row, err := tx.First(tableSessions, "id", sess.ID); err != nil {
			return fmt.Errorf("state: session: %w", err)
		} else if row != nil {
			return fmt.Errorf("%w: Session %q already exists", structs.ErrBadRequest, sess.ID)
		}
		if row, err := tx.First(tableNodes, "id", sess.Node); err != nil {
			return fmt.Errorf("state: session: %w", err)
		} else if row == nil {
			return fmt.Errorf("%w: Missing node registration", structs.ErrBadRequest)
		}
		ids := append([]string(nil), sess.NodeChecks...)
		for _, c := range sess.ServiceChecks {
			ids = append(ids, c.ID)
		}
		for _, id := range ids {
			row, err := tx.First(tableChecks, "id", sess.Node, id)
			if err != nil {
				return fmt.Errorf("state: session: %w", err)
			}
			if row == nil {
				return fmt.Errorf("%w: Missing check '%s' registration", structs.ErrBadRequest, id)
			}
			if row.(*structs.HealthCheck).Status == structs.HealthCritical {
				return fmt.Errorf("%w: Check '%s' is in critical state", structs.ErrBadRequest, id)
			}
		}
		stored := *sess
		stored.CreateIndex, stored.ModifyIndex = idx, idx
		if err := insertRecord(tx, tableSessions, nil, &stored); err != nil {
			return err
		}
		return setIndex(tx, tableSessions, idx)
	})
}

// SessionDestroy invalidates the session id at idx; an unknown session
// changes nothing.
func (s *Store) SessionDestroy(idx uint64, id string) error {
	return s.write(func(tx *memdb.Txn) error {
		row, err := tx.First(tableSessions, "id", id)
		if err != nil || row == nil {
			return err
		}
		return sessionDestroyTxn(tx, idx, row.(*structs.Session))
	})
}

// sessionDestroyTxn deletes a session and applies its behavior to the
// keys it holds: release frees them, delete deletes them. Prepared
// queries bound to it are deleted. Either way each
// key gets the session's lock delay (at most MaxLockDelay), so that a new
// holder cannot grab it while the old one may still believe it holds it.
func sessionDestroyTxn(tx *memdb.Txn, idx uint64, sess *structs.Session) error {
	if err := deleteRecord(tx, tableSessions, sess); err != nil {
		return err
	}
	if err := setIndex(tx, tableSessions, idx); err != nil {
		return err
	}
	if err := deleteSessionQueries(tx, idx, sess.ID); err != nil {
		return err
	}
	it, err := tx.Get(tableKVs, "session", sess.ID)
	if err != nil {
		return fmt.Errorf("state: session keys: %w", err)
	}
	var held []*structs.DirEntry
	for row := it.Next(); row != nil; row = it.Next() {
		held = append(held, row.(*structs.DirEntry))
	}
	delay := sess.LockDelay
	if delay > structs.MaxLockDelay {
		delay = structs.MaxLockDelay
	}
	until := time.Now().Add(delay)
	for _, ent := range held {
		if delay > 0 {
			if err := tx.Insert(tableLockDelays, &lockDelay{Key: ent.Key, Until: until}); err != nil {
				return fmt.Errorf("state: lock delay: %w", err)
			}
		}
		if sess.Behavior == structs.SessionKeysDelete {
			if err := kvsDeleteEntry(tx, idx, ent); err != nil {
				return err
			}
			continue
		}
		freed := *ent
		freed.Session = ""
		freed.ModifyIndex = idx
		if err := insertRecord(tx, tableKVs, ent, &freed); err != nil {
			return err
		}
		if err := setIndex(tx, tableKVs, idx); err != nil {
			return err
		}
	}
	return nil
}

// invalidateSessions destroys the sessions of node for which bound is
// true.
func invalidateSessions(tx *memdb.Txn, idx uint64, node string, bound func(*structs.Session) bool) error {
	it, err := tx.Get(tableSessions, "node", node)
	if err != nil {
		return fmt.Errorf("state: node sessions: %w", err)
	}
	var doomed []*structs.Session
	for row := it.Next(); row != nil; row = it.Next() {
		if sess := row.(*structs.Session); bound(sess) {
			doomed = append(doomed, sess)
		}
	}
	for _, sess := range doomed {
		if err := sessionDestroyTxn(tx, idx, sess); err != nil {
			return err
		}
	}
	return nil
}

// invalidateCheckSessions destroys the sessions bound to a check of node.
func invalidateCheckSessions(tx *memdb.Txn, idx uint64, node string, checkIDs ...string) error {
	return invalidateSessions(tx, idx, node, func(sess *structs.Session) bool {
		for _, id := range checkIDs {
			if sess.BoundTo(id) {
				return true
			}
		}
		return false
	})
}

// SessionGet returns the session id (nil if absent) and the sessions
// table index.
func (s *Store) SessionGet(ws memdb.WatchSet, id string) (uint64, *structs.Session, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	watchCh, row, err := tx.FirstWatch(tableSessions, "id", id)
	if err != nil {
		return 0, nil, fmt.Errorf("state: session: %w", err)
	}
	ws.Add(watchCh)
	idx := maxIndex(tx, tableSessions)
	if row == nil {
		return idx, nil, nil
	}
	return idx, row.(*structs.Session), nil
}

// SessionList returns every session, or those of one node when node is
// not empty, with the sessions table index.
func (s *Store) SessionList(ws memdb.WatchSet, node string) (uint64, structs.Sessions, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	var it memdb.ResultIterator
	var err error
	if node == "" {
		it, err = tx.Get(tableSessions, "id")
	} else {
		it, err = tx.Get(tableSessions, "node", node)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("state: sessions: %w", err)
	}
	ws.Add(it.WatchCh())
	sessions := structs.Sessions{}
	for row := it.Next(); row != nil; row = it.Next() {
		sessions = append(sessions, row.(*structs.Session))
	}
	return maxIndex(tx, tableSessions), sessions, nil
}

// KVSLockDelay returns when the lock delay on key ends; the zero time if
// it has none.
func (s *Store) KVSLockDelay(key string) time.Time {
	tx := s.db.Txn(false)
	defer tx.Abort()
	row, err := tx.First(tableLockDelays, "id", key)
	if err != nil || row == nil {
		return time.Time{}
	}
	return row.(*lockDelay).Until
}

// session inserts a session of a state dump, unless its node is
// not in the dump: no store can hold such a session, since deregistering
// a node destroys its sessions. Nodes come before sessions in a dump.
func (rs *restorer) session(d dumpedTable, sess *structs.Session) error {
	node, err := rs.tx.First(tableNodes, "id", sess.Node)
	if err != nil {
		return fmt.Errorf("state: restore session: %w", err)
	}
	if node == nil {
		return nil
	}
	return rs.into(d, sess)
}
