// Package state is the server's state store: go-memdb tables, the Raft
// index that last changed each table, watch channels for blocking queries,
// and the state dump that Raft and /v1/snapshot carry.
//
// Writes happen only from the FSM, one at a time, each at a Raft index;
// reads come from any goroutine.
package state

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// Store is the state store.
type Store struct {
	db *memdb.MemDB
	// abandonCh is closed when a restore replaces this store, waking every
	// blocking query so that it re-reads from the new one.
	abandonCh chan struct{}
}

// NewStore returns an empty store.
func NewStore() (*Store, error) {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &Store{db: db, abandonCh: make(chan struct{})}, nil
}

// AbandonCh is closed once this store has been replaced.
func (s *Store) AbandonCh() <-chan struct{} {
	return s.abandonCh
}

// Abandon marks the store as replaced.
func (s *Store) Abandon() {
	close(s.abandonCh)
}

// write runs fn in a write transaction, committing only if it succeeds.
func (s *Store) write(fn func(tx *memdb.Txn) error) error {
	tx := s.db.Txn(true)
	defer tx.Abort()
	if err := fn(tx); err != nil {
		return err
	}
	tx.Commit()
	return nil
}

// maxIndex is the highest Raft index that changed any of tables.
func maxIndex(tx *memdb.Txn, tables ...string) uint64 {
	var max uint64
	for _, t := range tables {
		row, err := tx.First(tableIndex, "id", t)
		if err == nil && row != nil {
			if v := row.(*structs.IndexEntry).Value; v > max {
				max = v
			}
		}
	}
	return max
}

// setIndex records that table changed at idx.
func setIndex(tx *memdb.Txn, table string, idx uint64) error {
	if err := tx.Insert(tableIndex, &structs.IndexEntry{Key: table, Value: idx}); err != nil {
		return fmt.Errorf("state: index %s: %w", table, err)
	}
	return nil
}

// insertRecord inserts rec into table and keeps the table's dump size
// current. old is the record it replaces, or nil. Every write to a dumped
// table goes through here or deleteRecord: the archive's meta.json states
// the dump's size before the dump is written, from these totals.
func insertRecord(tx *memdb.Txn, table string, old, rec interface{}) error {
	delta, err := insertSized(tx, table, old, rec)
	if err != nil {
		return err
	}
	return addDumpSize(tx, table, delta)
}

// insertSized inserts rec in place of old and returns by how much the
// table's dump grew; the caller accounts for it.
func insertSized(tx *memdb.Txn, table string, old, rec interface{}) (int64, error) {
	d := dumpedTableOf(table)
	delta, err := d.size(rec)
	if err != nil {
		return 0, err
	}
	if old != nil {
		oldSize, err := d.size(old)
		if err != nil {
			return 0, err
		}
		delta -= oldSize
	}
	if err := tx.Insert(table, rec); err != nil {
		return 0, fmt.Errorf("state: insert %s: %w", table, err)
	}
	return delta, nil
}

// deleteRecord deletes rec from table and keeps the table's dump size
// current.
func deleteRecord(tx *memdb.Txn, table string, rec interface{}) error {
	size, err := dumpedTableOf(table).size(rec)
	if err != nil {
		return err
	}
	if err := tx.Delete(table, rec); err != nil {
		return fmt.Errorf("state: delete %s: %w", table, err)
	}
	return addDumpSize(tx, table, -size)
}

func addDumpSize(tx *memdb.Txn, table string, delta int64) error {
	var cur int64
	if row, err := tx.First(tableDumpSize, "id", table); err != nil {
		return fmt.Errorf("state: dump size %s: %w", table, err)
	} else if row != nil {
		cur = row.(*dumpSize).Bytes
	}
	return tx.Insert(tableDumpSize, &dumpSize{Table: table, Bytes: cur + delta})
}

// deleteRows deletes every row of table matching the index lookup, and
// bumps the table's index if any went.
func deleteRows(tx *memdb.Txn, idx uint64, table, index string, args ...interface{}) error {
	it, err := tx.Get(table, index, args...)
	if err != nil {
		return fmt.Errorf("state: %s: %w", table, err)
	}
	var doomed []interface{}
	for row := it.Next(); row != nil; row = it.Next() {
		doomed = append(doomed, row)
	}
	for _, row := range doomed {
		if err := deleteRecord(tx, table, row); err != nil {
			return err
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	return setIndex(tx, table, idx)
}
