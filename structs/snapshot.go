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

// Snapshot operations.
const (
	SnapshotSave SnapshotOp = iota
	SnapshotRestore
)

// SnapshotRequest is the header of a snapshot stream: what to do, where,
// and with which token. The archive follows it on restore.
type SnapshotRequest struct {
	Datacenter string
	Token      string
	AllowStale bool
	Op         SnapshotOp
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
