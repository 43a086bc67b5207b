// Package structs holds the types that cross package and process
// boundaries: Raft log entries, RPC requests and replies, snapshot records,
// and the sentinel errors callers branch on.
package structs

import (
	"strconv"
	"time"
)

// MessageType is the first byte of every Raft log entry and of every record
// in a state dump. The values are a wire contract shared with Consul's own
// numbering, so they are written out and must never be renumbered.
type MessageType uint8

// Message types, numbered as Consul numbers them.
const (
	RegisterRequestType        MessageType = 0
	DeregisterRequestType      MessageType = 1
	KVSRequestType             MessageType = 2
	SessionRequestType         MessageType = 3
	TombstoneRequestType       MessageType = 5
	PreparedQueryRequestType   MessageType = 7
	TxnRequestType             MessageType = 8
	IndexRequestType           MessageType = 16
	ACLTokenSetRequestType     MessageType = 17
	ACLTokenDeleteRequestType  MessageType = 18
	ACLPolicySetRequestType    MessageType = 19
	ACLPolicyDeleteRequestType MessageType = 20
	ACLRoleSetRequestType      MessageType = 23
	ACLRoleDeleteRequestType   MessageType = 24
)

// IgnoreUnknownTypeFlag marks a log entry that an older server may skip
// if it does not know its type, as in Consul.
const IgnoreUnknownTypeFlag MessageType = 128

// String names a message type for error messages and `snapshot inspect`.
func (t MessageType) String() string {
	switch t {
	case RegisterRequestType:
		return "Register"
	case DeregisterRequestType:
		return "Deregister"
	case KVSRequestType:
		return "KVS"
	case SessionRequestType:
		return "Session"
	case TombstoneRequestType:
		return "Tombstone"
	case PreparedQueryRequestType:
		return "PreparedQuery"
	case TxnRequestType:
		return "Txn"
	case IndexRequestType:
		return "Index"
	case ACLTokenSetRequestType:
		return "ACLToken"
	case ACLPolicySetRequestType:
		return "ACLPolicy"
	case ACLRoleSetRequestType:
		return "ACLRole"
	case RestoreRequestType:
		return "Restore"
	}
	return "Unknown(" + strconv.Itoa(int(t)) + ")"
}

// RaftIndex records the Raft indexes at which a record was created and
// last modified.
type RaftIndex struct {
	CreateIndex uint64
	ModifyIndex uint64
}

// QueryOptions carries the read options every read endpoint accepts.
type QueryOptions struct {
	// Token is the ACL token secret.
	Token string
	// MinQueryIndex makes a read block until the table index exceeds it.
	MinQueryIndex uint64
	// MaxQueryTime bounds how long a blocking read waits.
	MaxQueryTime time.Duration
	// AllowStale lets any server answer, not only the leader.
	AllowStale bool
	// RequireConsistent makes the leader confirm its leadership first.
	RequireConsistent bool
}

// QueryMeta is returned with every read: the index to block on next and
// how fresh the answer is.
type QueryMeta struct {
	Index       uint64
	LastContact time.Duration
	KnownLeader bool
	// ResultsFilteredByACLs says that entries the token may not see were
	// left out (X-Consul-Results-Filtered-By-ACLs).
	ResultsFilteredByACLs bool
}

// WriteRequest carries the options every write accepts.
type WriteRequest struct {
	// Token is the ACL token secret.
	Token string
}

// DCSpecificRequest is a request that names only its datacenter, and
// for node listings the node metadata to match.
type DCSpecificRequest struct {
	Datacenter string
	NodeMeta   map[string]string
	QueryOptions
}
