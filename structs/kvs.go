package structs

import "errors"

// MaxKVSize is the largest value a KV entry may hold (Consul's default
// kv_max_value_size, 512 KiB).
const MaxKVSize = 512 * 1024

// MaxKeySize is the longest KV key a write may create, in bytes. Consul
// sets none (its HTTP API takes a URL of up to 1 MiB); a key is a name,
// and 8 KiB is twice Linux's longest path.
const MaxKeySize = 8 * 1024

// DirEntry is one KV entry. Field names are Consul's: they are the JSON
// of /v1/kv and the msgpack of log entries and state dumps.
type DirEntry struct {
	LockIndex uint64
	Key       string
	Flags     uint64
	Value     []byte
	Session   string `json:",omitempty"`

	RaftIndex
}

// DirEntries is a list of KV entries.
type DirEntries []*DirEntry

// KVSOp is a KV write verb, as Consul names them in /v1/txn.
type KVSOp string

// The KV verbs.
const (
	KVSet            KVSOp = "set"
	KVDelete         KVSOp = "delete"
	KVDeleteCAS      KVSOp = "delete-cas"
	KVDeleteTree     KVSOp = "delete-tree"
	KVCAS            KVSOp = "cas"
	KVLock           KVSOp = "lock"
	KVUnlock         KVSOp = "unlock"
	KVGet            KVSOp = "get"
	KVGetTree        KVSOp = "get-tree"
	KVCheckSession   KVSOp = "check-session"
	KVCheckIndex     KVSOp = "check-index"
	KVCheckNotExists KVSOp = "check-not-exists"
)

// IsWrite tells whether the verb changes state.
func (op KVSOp) IsWrite() bool {
	switch op {
	case KVGet, KVGetTree, KVCheckSession, KVCheckIndex, KVCheckNotExists:
		return false
	}
	return true
}

// CreatesKey tells whether the verb can create an entry. Only these are
// held to MaxKeySize and to UTF-8 keys, so that a key stored before
// (restored from an archive, say) can still be read and deleted.
func (op KVSOp) CreatesKey() bool {
	switch op {
	case KVSet, KVCAS, KVLock:
		return true
	}
	return false
}

// KVSRequest is the Raft log entry and RPC argument of a KV write.
type KVSRequest struct {
	Datacenter string
	Op         KVSOp
	DirEnt     DirEntry
	WriteRequest
}

// KeyRequest asks for one key.
type KeyRequest struct {
	Datacenter string
	Key        string
	QueryOptions
}

// KeyListRequest asks for the keys under a prefix, optionally only up to
// the next separator.
type KeyListRequest struct {
	Datacenter string
	Prefix     string
	Seperator  string
	QueryOptions
}

// IndexedDirEntries is the reply to a key or prefix read.
type IndexedDirEntries struct {
	Entries DirEntries
	QueryMeta
}

// IndexedKeyList is the reply to a key listing.
type IndexedKeyList struct {
	Keys []string
	QueryMeta
}

// Validate says whether a KV entry or tombstone from a state dump can be
// stored: it needs a key.
func (e *DirEntry) Validate() error {
	if e.Key == "" {
		return errors.New("entry has an empty key")
	}
	return nil
}

// TombstoneOp is what a tombstone log entry does.
type TombstoneOp string

// TombstoneReap removes the tombstones up to ReapIndex.
const TombstoneReap TombstoneOp = "reap"

// TombstoneRequest is the Raft entry (type 5) by which the leader reaps
// tombstones older than the tombstone TTL.
type TombstoneRequest struct {
	Datacenter string
	Op         TombstoneOp
	ReapIndex  uint64
	WriteRequest
}
