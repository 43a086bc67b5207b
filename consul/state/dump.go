package state

import (
	"bytes"
	"fmt"
	"io"

	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// dumpedTable is a table a dump carries: its record type, and how to read
// a record's primary key and its other unique keys.
type dumpedTable struct {
	table string
	typ   structs.MessageType
	id    func(rec interface{}) string
	// unique names the other unique indexes and reads their values.
	unique map[string]func(rec interface{}) string
	// record turns a row into the record the dump carries; nil when the
	// row is the record.
	record func(row interface{}) interface{}
}

// dumpRecord is what the dump carries for row.
func (d dumpedTable) dumpRecord(row interface{}) interface{} {
	if d.record == nil {
		return row
	}
	return d.record(row)
}

// size is the number of bytes row takes in the dump.
func (d dumpedTable) size(row interface{}) (int64, error) {
	return snapshot.RecordSize(d.typ, d.dumpRecord(row))
}

func dirEntryKey(rec interface{}) string { return rec.(*structs.DirEntry).Key }

// dumpedTables are the tables a dump carries, in dump order. The index
// table follows them.
var dumpedTables = []dumpedTable{
	{table: tableNodes, typ: structs.RegisterRequestType, record: nodeRecord},
	{table: tableServices, typ: structs.RegisterRequestType, record: serviceRecord},
	{table: tableChecks, typ: structs.RegisterRequestType, record: checkRecord},
	{table: tableSessions, typ: structs.SessionRequestType,
		id: func(r interface{}) string { return r.(*structs.Session).ID }},
	{table: tablePreparedQueries, typ: structs.PreparedQueryRequestType,
		id:     func(r interface{}) string { return r.(*structs.PreparedQuery).ID },
		unique: map[string]func(interface{}) string{"name": func(r interface{}) string { return r.(*structs.PreparedQuery).Name }}},
	{table: tableKVs, typ: structs.KVSRequestType, id: dirEntryKey},
	{table: tableTombstones, typ: structs.TombstoneRequestType, id: dirEntryKey},
	{table: tableACLPolicies, typ: structs.ACLPolicySetRequestType,
		id:     func(r interface{}) string { return r.(*structs.ACLPolicy).ID },
		unique: map[string]func(interface{}) string{"name": func(r interface{}) string { return r.(*structs.ACLPolicy).Name }}},
	{table: tableACLRoles, typ: structs.ACLRoleSetRequestType,
		id:     func(r interface{}) string { return r.(*structs.ACLRole).ID },
		unique: map[string]func(interface{}) string{"name": func(r interface{}) string { return r.(*structs.ACLRole).Name }}},
	{table: tableACLTokens, typ: structs.ACLTokenSetRequestType,
		id:     func(r interface{}) string { return r.(*structs.ACLToken).AccessorID },
		unique: map[string]func(interface{}) string{"secret": func(r interface{}) string { return r.(*structs.ACLToken).SecretID }}},
}

// dumpedTableOf is the dumped table named table.
func dumpedTableOf(table string) dumpedTable {
	for _, d := range dumpedTables {
		if d.table == table {
			return d
		}
	}
	panic("state: no dumped table " + table)
}

// Snapshot is a point-in-time view of the store, taken in O(1): later
// writes do not show through it. Release it when done.
type Snapshot struct {
	tx     *memdb.Txn
	header structs.SnapshotHeader
}

// Snapshot returns a view of the store as of now, labelled with h: the
// index of the last write applied, and the index offset (see fsm.FSM).
func (s *Store) Snapshot(h structs.SnapshotHeader) *Snapshot {
	return &Snapshot{tx: s.db.Txn(false), header: h}
}

// LastIndex is the index of the last write the snapshot holds.
func (s *Snapshot) LastIndex() uint64 {
	return s.header.LastIndex
}

// Release frees the snapshot.
func (s *Snapshot) Release() {
	s.tx.Abort()
}

// Size is the exact number of bytes Dump writes, known without writing it.
func (s *Snapshot) Size() (int64, error) {
	size, err := snapshot.HeaderSize(s.header)
	if err != nil {
		return 0, err
	}
	for _, d := range dumpedTables {
		row, err := s.tx.First(tableDumpSize, "id", d.table)
		if err != nil {
			return 0, fmt.Errorf("state: dump size: %w", err)
		}
		if row != nil {
			size += row.(*dumpSize).Bytes
		}
	}
	err = s.eachIndex(func(e *structs.IndexEntry) error {
		n, err := snapshot.RecordSize(structs.IndexRequestType, e)
		size += n
		return err
	})
	return size, err
}

// Dump writes the state dump: header, each dumped table, then the index
// table.
func (s *Snapshot) Dump(w io.Writer) error {
	enc, err := snapshot.NewStateEncoder(w, s.header)
	if err != nil {
		return err
	}
	for _, d := range dumpedTables {
		it, err := s.tx.Get(d.table, "id")
		if err != nil {
			return fmt.Errorf("state: dump %s: %w", d.table, err)
		}
		for row := it.Next(); row != nil; row = it.Next() {
			if err := enc.Record(d.typ, d.dumpRecord(row)); err != nil {
				return err
			}
		}
	}
	return s.eachIndex(func(e *structs.IndexEntry) error {
		return enc.Record(structs.IndexRequestType, e)
	})
}

func (s *Snapshot) eachIndex(fn func(*structs.IndexEntry) error) error {
	it, err := s.tx.Get(tableIndex, "id")
	if err != nil {
		return fmt.Errorf("state: dump index: %w", err)
	}
	for row := it.Next(); row != nil; row = it.Next() {
		if err := fn(row.(*structs.IndexEntry)); err != nil {
			return err
		}
	}
	return nil
}

// Restore builds a new store from a state dump. On any error the partial
// store is dropped; the caller's current store is never touched.
func Restore(r io.Reader) (*Store, structs.SnapshotHeader, error) {
	b, err := NewBuilder(nil)
	if err != nil {
		return nil, structs.SnapshotHeader{}, err
	}
	h, err := snapshot.ReadState(r, b.Record)
	if err != nil {
		b.Discard()
		return nil, h, err
	}
	s, err := b.Store()
	return s, h, err
}

// Builder fills a new store with the records of a state dump, one at a
// time, so that a restore can build it while the dump streams in. It is
// not safe for concurrent use; calls may come from different goroutines
// one after another.
type Builder struct {
	s  *Store
	rs *restorer
}

// NewBuilder starts a new, empty store. KV entries whose key and value
// are the same in current (if not nil) share current's copies, so that
// restoring a state much like the current one, as a rollback does, does
// not hold every value twice while the current store still serves.
func NewBuilder(current *Store) (*Builder, error) {
	s, err := NewStore()
	if err != nil {
		return nil, err
	}
	rs := &restorer{tx: s.db.Txn(true), sizes: make(map[string]int64), maxID: make(map[string]string)}
	if current != nil {
		rs.current = current.db.Txn(false)
	}
	return &Builder{s: s, rs: rs}, nil
}

// Record adds one dump record, as snapshot.ReadState decodes it. The
// builder keeps rec, but copies a KV entry's Value unless it shares the
// current store's, so that Value may be a view of the caller's buffer.
func (b *Builder) Record(t structs.MessageType, rec interface{}) error {
	return b.rs.record(t, rec)
}

// Store finishes the store and returns it; the builder is done.
func (b *Builder) Store() (*Store, error) {
	if err := b.rs.writeSizes(); err != nil {
		b.Discard()
		return nil, err
	}
	b.rs.tx.Commit()
	return b.s, nil
}

// Discard drops the partial store; after Store it does nothing.
func (b *Builder) Discard() {
	b.rs.tx.Abort()
}

// restorer fills a new store from a dump. It adds up the tables' dump
// sizes and writes them once at the end: writing a size row per record
// was a fifth of a restore's time.
type restorer struct {
	tx    *memdb.Txn
	sizes map[string]int64
	// current is a view of the store being replaced, to share values
	// with; nil for none. currentKVs walks its KV entries in key order,
	// the order of a dump, currentKV being the next one.
	current    *memdb.Txn
	currentKVs memdb.ResultIterator
	currentKV  *structs.DirEntry
	walked     string // the greatest key looked for so far
	// maxID is the greatest primary key restored so far in each table:
	// a dump holds each table in key order, so a record past it cannot
	// replace an earlier one, and needs no lookup.
	maxID map[string]string
}

// insert inserts a dump record in place of old.
func (rs *restorer) insert(table string, old, rec interface{}) error {
	delta, err := insertSized(rs.tx, table, old, rec)
	rs.sizes[table] += delta
	return err
}

func (rs *restorer) writeSizes() error {
	for table, size := range rs.sizes {
		if err := addDumpSize(rs.tx, table, size); err != nil {
			return err
		}
	}
	return nil
}

func (rs *restorer) record(t structs.MessageType, rec interface{}) error {
	tx := rs.tx
	if t == structs.RegisterRequestType {
		return rs.catalog(rec.(*structs.RegisterRequest))
	}
	for _, d := range dumpedTables {
		if d.typ != t {
			continue
		}
		switch rec := rec.(type) {
		case *structs.Session:
			return rs.session(d, rec)
		case *structs.PreparedQuery:
			return rs.preparedQuery(d, rec)
		case *structs.DirEntry:
			if err := releaseOrphanLock(tx, t, rec); err != nil {
				return err
			}
			rs.ownValue(t, rec)
		}
		return rs.into(d, rec)
	}
	if t == structs.IndexRequestType {
		return tx.Insert(tableIndex, rec)
	}
	return fmt.Errorf("state: restore: record type %s has no table", t)
}

// ownValue gives a restored KV entry a Value of its own: the current
// store's copy when key and value are the same there (stored entries are
// never changed in place, so sharing is safe), else a copy.
func (rs *restorer) ownValue(t structs.MessageType, ent *structs.DirEntry) {
	if t == structs.KVSRequestType {
		if old := rs.currentEntry(ent.Key); old != nil {
			ent.Key = old.Key
			if bytes.Equal(old.Value, ent.Value) && (old.Value == nil) == (ent.Value == nil) {
				ent.Value = old.Value
				return
			}
		}
	}
	ent.Value = bytes.Clone(ent.Value)
}

// currentEntry is the current store's KV entry for key, nil if none.
// Keys in ascending order, as a dump gives them, are found by walking the
// current entries alongside; a key out of order by a lookup.
func (rs *restorer) currentEntry(key string) *structs.DirEntry {
	switch {
	case rs.current == nil:
		return nil
	case key < rs.walked:
		row, err := rs.current.First(tableKVs, "id", key)
		if err != nil || row == nil {
			return nil
		}
		return row.(*structs.DirEntry)
	case rs.currentKVs == nil:
		it, err := rs.current.Get(tableKVs, "id")
		if err != nil {
			return nil
		}
		rs.currentKVs = it
		rs.currentKV, _ = it.Next().(*structs.DirEntry)
	}
	rs.walked = key
	for rs.currentKV != nil && rs.currentKV.Key < key {
		rs.currentKV, _ = rs.currentKVs.Next().(*structs.DirEntry)
	}
	if rs.currentKV != nil && rs.currentKV.Key == key {
		return rs.currentKV
	}
	return nil
}

// releaseOrphanLock frees a KV entry of a dump whose lock holder is not
// in the dump: it would otherwise stay locked by a session that can never
// release it. Sessions come before KV entries in a dump.
func releaseOrphanLock(tx *memdb.Txn, t structs.MessageType, ent *structs.DirEntry) error {
	if t != structs.KVSRequestType || ent.Session == "" {
		return nil
	}
	sess, err := tx.First(tableSessions, "id", ent.Session)
	if err != nil {
		return fmt.Errorf("state: restore kvs: %w", err)
	}
	if sess == nil {
		ent.Session = ""
	}
	return nil
}

// into inserts a dump record. A dump may repeat a key, or give two
// records the same unique name or secret; the later record wins and the
// earlier one goes, so that the store stays consistent whatever the dump
// holds (Raft stops the server if a restore fails halfway).
func (rs *restorer) into(d dumpedTable, rec interface{}) error {
	tx := rs.tx
	for index, value := range d.unique {
		clash, err := tx.First(d.table, index, value(rec))
		if err != nil {
			return fmt.Errorf("state: restore %s: %w", d.table, err)
		}
		if clash != nil && d.id(clash) != d.id(rec) {
			if err := deleteRecord(tx, d.table, clash); err != nil {
				return err
			}
		}
	}
	id := d.id(rec)
	var old interface{}
	if last, seen := rs.maxID[d.table]; seen && id <= last {
		var err error
		if old, err = tx.First(d.table, "id", id); err != nil {
			return fmt.Errorf("state: restore %s: %w", d.table, err)
		}
	} else {
		rs.maxID[d.table] = id
	}
	return rs.insert(d.table, old, rec)
}
