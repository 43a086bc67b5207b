package structs

import (
	"errors"
	"io"
	"time"
)

// SnapshotHeader opens every state dump (state.bin and Raft's own
// snapshots): the Raft index the dump was taken at.
type SnapshotHeader struct {
	LastIndex uint64
	// IndexOffset is what a server adds to Raft's log index to get the
	// index its writes carry (see fsm.FSM): above zero once a restore
	// brought a state with indexes past the log's. Raft's own snapshots
	// must carry it, so that every server numbers the same entry alike;
	// left out when zero, so a dump is then byte for byte what it was
	// before, and Consul, which ignores unknown fields, reads it either way.
	IndexOffset uint64 `json:",omitempty"`
}

// IndexEntry is a row of the per-table index table: the Raft index that
// last changed Key's table.
type IndexEntry struct {
	Key   string
	Value uint64
}

// NewSnapshotRecord returns a fresh value to decode a state-dump record of
// type t into, and false for a type that may not appear in a dump. The
// state store restores the same types, so this list is the one place that
// says what a dump may hold.
func NewSnapshotRecord(t MessageType) (interface{}, bool) {
	switch t {
	case RegisterRequestType:
		return new(RegisterRequest), true
	case KVSRequestType, TombstoneRequestType:
		// Consul stores a tombstone as a DirEntry with Key and ModifyIndex.
		return new(DirEntry), true
	case SessionRequestType:
		return new(Session), true
	case PreparedQueryRequestType:
		return new(PreparedQuery), true
	case IndexRequestType:
		return new(IndexEntry), true
	case ACLTokenSetRequestType:
		return new(ACLToken), true
	case ACLPolicySetRequestType:
		return new(ACLPolicy), true
	case ACLRoleSetRequestType:
		return new(ACLRole), true
	}
	return nil, false
}

// SnapshotOp says whether a snapshot request saves or restores.
type SnapshotOp int

// Snapshot operations. Save and Restore are the API's; Stage and Fetch
// pass a restore's state dump between servers (consul/restore_staging.go).
const (
	SnapshotSave SnapshotOp = iota
	SnapshotRestore
	// SnapshotStage sends a state dump to a server, which stages it under
	// its SHA-256 for a restore the leader is about to commit.
	SnapshotStage
	// SnapshotFetch asks a server for the state dump it staged under a
	// SHA-256, for a server that must apply a restore it missed.
	SnapshotFetch
)

// SnapshotRequest is the header of a snapshot stream: what to do, where,
// and with which token. The archive follows it on restore, the state dump
// on stage.
type SnapshotRequest struct {
	Datacenter string
	Token      string
	AllowStale bool
	Op         SnapshotOp
	// SHA256 and Size name the state dump of a stage or a fetch.
	SHA256 []byte `json:",omitempty"`
	Size   int64  `json:",omitempty"`
}

// SnapshotResponse is the reply header of a snapshot stream; the archive
// follows it on save.
type SnapshotResponse struct {
	// Error is the failure's text and ErrorKind its sentinel (see
	// ErrorKind), so that the status code survives forwarding.
	Error       string
	ErrorKind   string
	Index       uint64
	KnownLeader bool
	LastContact time.Duration
}

// SnapshotReplyFunc is called once the reply header is known and before any
// archive byte is written, so an HTTP handler can set its headers; it
// returns where the archive goes.
type SnapshotReplyFunc func(reply *SnapshotResponse) (io.Writer, error)

// Validate says whether an index row from a state dump can be stored: it
// needs a table name.
func (e *IndexEntry) Validate() error {
	if e.Key == "" {
		return errors.New("index entry has an empty table name")
	}
	return nil
}
