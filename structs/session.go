package structs

import (
	"errors"
	"slices"
	"time"
)

// SessionBehavior is what happens to a session's locks when it is
// invalidated.
type SessionBehavior string

// The session behaviors.
const (
	// SessionKeysRelease frees the session's locks and keeps the keys.
	SessionKeysRelease SessionBehavior = "release"
	// SessionKeysDelete deletes the keys the session holds.
	SessionKeysDelete SessionBehavior = "delete"
)

// Session limits and defaults, as Consul sets them.
const (
	// SessionTTLMultiplier is the grace Consul gives a TTL session: it is
	// invalidated after this many TTLs without a renewal.
	SessionTTLMultiplier = 2
	// SessionTTLMin and SessionTTLMax bound a session's TTL.
	SessionTTLMin = 10 * time.Second
	SessionTTLMax = 24 * time.Hour
	// DefaultLockDelay is the lock delay of a session that names none.
	DefaultLockDelay = 15 * time.Second
	// MaxLockDelay is the longest lock delay a session may ask for.
	MaxLockDelay = 60 * time.Second
)

// ServiceCheck names a service check a session is bound to.
type ServiceCheck struct {
	ID        string
	Namespace string
}

// Session binds a node and health checks to KV locks. Field names are
// Consul's: they are the JSON of /v1/session and the msgpack of log
// entries and state dumps.
type Session struct {
	ID   string
	Name string
	Node string
	// LockDelay is how long the keys a session held stay unlockable after
	// it is invalidated.
	LockDelay     time.Duration
	Behavior      SessionBehavior
	TTL           string
	NodeChecks    []string
	ServiceChecks []ServiceCheck

	RaftIndex
}

// Sessions is a list of sessions.
type Sessions []*Session

// BoundTo tells whether the session is invalidated with the check id of
// its node.
func (s *Session) BoundTo(checkID string) bool {
	if slices.Contains(s.NodeChecks, checkID) {
		return true
	}
	for _, c := range s.ServiceChecks {
		if c.ID == checkID {
			return true
		}
	}
	return false
}

// Validate says whether a session from a state dump can be stored: it
// needs an ID and a node.
func (s *Session) Validate() error {
	if s.ID == "" {
		return errors.New("session has an empty ID")
	}
	if s.Node == "" {
		return errors.New("session has an empty node")
	}
	return nil
}

// SessionOp is what a session log entry does.
type SessionOp string

// The session operations.
const (
	SessionCreate  SessionOp = "create"
	SessionDestroy SessionOp = "destroy"
)

// SessionRequest is the Raft log entry (type 3) and RPC argument that
// creates or destroys a session.
type SessionRequest struct {
	Datacenter string
	Op         SessionOp
	Session    Session
	WriteRequest
}

// SessionSpecificRequest asks for one session.
type SessionSpecificRequest struct {
	Datacenter string
	SessionID  string
	QueryOptions
}

// IndexedSessions is the reply to a session read.
type IndexedSessions struct {
	Sessions Sessions
	QueryMeta
}
