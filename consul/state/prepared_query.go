package state

import (
	"fmt"
	"strings"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// PreparedQuerySet creates or replaces the query with q's ID at idx. Names
// are unique and may not be another query's ID (else a name could steal
// lookups meant for that ID); at most one template may have the empty
// name; a session the query is bound to must exist.
func (s *Store) PreparedQuerySet(idx uint64, q *structs.PreparedQuery) error {
	return s.write(func(tx *memdb.Txn) error {
		if q.ID == "" {
			return fmt.Errorf("%w: Missing query ID", structs.ErrBadRequest)
		}
		existing, err := tx.First(tablePreparedQueries, "id", q.ID)
		if err != nil {
			return fmt.Errorf("state: prepared query: %w", err)
		}
		if err := checkQueryName(tx, q); err != nil {
			return err
		}
		if q.Session != "" {
			if sess, err := tx.First(tableSessions, "id", q.Session); err != nil {
				return fmt.Errorf("state: prepared query: %w", err)
			} else if sess == nil {
				return fmt.Errorf("%w: Invalid session %q", structs.ErrBadRequest, q.Session)
			}
		}
		stored := *q
		stored.CreateIndex, stored.ModifyIndex = idx, idx
		if existing != nil {
			stored.CreateIndex = existing.(*structs.PreparedQuery).CreateIndex
		}
		if err := insertRecord(tx, tablePreparedQueries, existing, &stored); err != nil {
			return err
		}
		return setIndex(tx, tablePreparedQueries, idx)
	})
}

// checkQueryName refuses a name another query holds, a name that is
// another query's ID, and a second template with the empty name.
func checkQueryName(tx *memdb.Txn, q *structs.PreparedQuery) error {
	other := func(row interface{}) bool { return row != nil && row.(*structs.PreparedQuery).ID != q.ID }
	if q.Name == "" {
		if !q.IsTemplate() {
			return nil
		}
		it, err := tx.Get(tablePreparedQueries, "id")
		if err != nil {
			return fmt.Errorf("state: prepared query: %w", err)
		}
		for row := it.Next(); row != nil; row = it.Next() {
			if p := row.(*structs.PreparedQuery); p.IsTemplate() && p.Name == "" && other(p) {
				return fmt.Errorf("%w: A query template with an empty name already exists", structs.ErrBadRequest)
			}
		}
		return nil
	}
	byName, err := tx.First(tablePreparedQueries, "name", q.Name)
	if err != nil {
		return fmt.Errorf("state: prepared query: %w", err)
	}
	if other(byName) {
		return fmt.Errorf("%w: Name '%s' aliases an existing query name", structs.ErrBadRequest, q.Name)
	}
	byID, err := tx.First(tablePreparedQueries, "id", q.Name)
	if err != nil {
		return fmt.Errorf("state: prepared query: %w", err)
	}
	if other(byID) {
		return fmt.Errorf("%w: Name '%s' aliases an existing query ID", structs.ErrBadRequest, q.Name)
	}
	return nil
}

// PreparedQueryDelete deletes the query id at idx; an unknown ID changes
// nothing.
func (s *Store) PreparedQueryDelete(idx uint64, id string) error {
	return s.write(func(tx *memdb.Txn) error {
		return deleteRows(tx, idx, tablePreparedQueries, "id", id)
	})
}

// deleteSessionQueries deletes the queries bound to a session that goes.
func deleteSessionQueries(tx *memdb.Txn, idx uint64, sessionID string) error {
	return deleteRows(tx, idx, tablePreparedQueries, "session", sessionID)
}

// PreparedQueryGet returns the query id (nil if absent) and the table
// index.
func (s *Store) PreparedQueryGet(ws memdb.WatchSet, id string) (uint64, *structs.PreparedQuery, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	watchCh, row, err := tx.FirstWatch(tablePreparedQueries, "id", id)
	if err != nil {
		return 0, nil, fmt.Errorf("state: prepared query: %w", err)
	}
	ws.Add(watchCh)
	idx := maxIndex(tx, tablePreparedQueries)
	if row == nil {
		return idx, nil, nil
	}
	return idx, row.(*structs.PreparedQuery), nil
}

// PreparedQueryList returns every query and the table index.
func (s *Store) PreparedQueryList(ws memdb.WatchSet) (uint64, structs.PreparedQueries, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(tablePreparedQueries, "id")
	if err != nil {
		return 0, nil, fmt.Errorf("state: prepared queries: %w", err)
	}
	ws.Add(it.WatchCh())
	queries := structs.PreparedQueries{}
	for row := it.Next(); row != nil; row = it.Next() {
		queries = append(queries, row.(*structs.PreparedQuery))
	}
	return maxIndex(tx, tablePreparedQueries), queries, nil
}

// PreparedQueryResolve finds the query a client means by idOrName: the
// query with that ID, else the one with that name, else the template
// whose name is the longest prefix of it. It returns nil if none.
func (s *Store) PreparedQueryResolve(idOrName string) (uint64, *structs.PreparedQuery, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	idx := maxIndex(tx, tablePreparedQueries)
	if idOrName == "" {
		return idx, nil, nil
	}
	for _, index := range []string{"id", "name"} {
		row, err := tx.First(tablePreparedQueries, index, idOrName)
		if err != nil {
			return 0, nil, fmt.Errorf("state: prepared query: %w", err)
		}
		if row != nil {
			return idx, row.(*structs.PreparedQuery), nil
		}
	}
	// Templates are few; a scan keeps the schema simple.
	it, err := tx.Get(tablePreparedQueries, "id")
	if err != nil {
		return 0, nil, fmt.Errorf("state: prepared query: %w", err)
	}
	var best *structs.PreparedQuery
	for row := it.Next(); row != nil; row = it.Next() {
		q := row.(*structs.PreparedQuery)
		if q.IsTemplate() && strings.HasPrefix(idOrName, q.Name) && (best == nil || len(q.Name) > len(best.Name)) {
			best = q
		}
	}
	return idx, best, nil
}

// preparedQuery inserts a query of a state dump, unless the session
// it is bound to is not in the dump: that session's end would have
// deleted it. Sessions come before queries in a dump.
func (rs *restorer) preparedQuery(d dumpedTable, q *structs.PreparedQuery) error {
	if q.Session != "" {
		sess, err := rs.tx.First(tableSessions, "id", q.Session)
		if err != nil {
			return fmt.Errorf("state: restore prepared query: %w", err)
		}
		if sess == nil {
			return nil
		}
	}
	return rs.into(d, q)
}
