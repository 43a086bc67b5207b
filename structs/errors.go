package structs

import (
	"errors"
	"strings"
)

// Sentinel errors that callers branch on with errors.Is. Their texts are
// Consul's, because clients match on them.
var (
	ErrNoLeader         = errors.New("No cluster leader")
	ErrNoDCPath         = errors.New("No path to datacenter")
	ErrPermissionDenied = errors.New("Permission denied")
	ErrACLNotFound      = errors.New("ACL not found")
	// ErrACLDisabled answers ACL endpoints while ACLs are off (HTTP 401).
	ErrACLDisabled = errors.New("ACL support disabled")
	// ErrNotFound marks a request for something that does not exist
	// (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrBadRequest marks an input the caller must fix (HTTP 400).
	ErrBadRequest = errors.New("bad request")
	// ErrTooLarge marks an input over a size limit (HTTP 413).
	ErrTooLarge = errors.New("request body too large")
	// ErrSnapshotCorrupt marks a snapshot archive that fails a check
	// (HTTP 400); the snapshot package's ErrCorrupt is this value.
	ErrSnapshotCorrupt = errors.New("corrupt snapshot")
	// ErrSnapshotTooLarge marks a snapshot archive over a size limit
	// (HTTP 413); the snapshot package's ErrTooLarge is this value.
	ErrSnapshotTooLarge = errors.New("snapshot too large")
	// ErrDiskFull marks a write refused because the disk holding Raft's
	// data is full (HTTP 507).
	ErrDiskFull = errors.New("no space left on device")
	// ErrConflict marks a request that collides with one under way, such
	// as a second restore (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable marks a failure that a retry may not meet, such as a
	// leadership change in the middle of a restore (HTTP 503).
	ErrUnavailable = errors.New("service unavailable")
)

// rpcSentinels are the sentinels that must survive RPC, where an error
// travels as its text.
var rpcSentinels = []error{ErrNoLeader, ErrNoDCPath, ErrPermissionDenied, ErrACLNotFound, ErrACLDisabled,
	ErrBadRequest, ErrTooLarge, ErrSnapshotCorrupt, ErrSnapshotTooLarge, ErrNotFound, ErrDiskFull, ErrConflict, ErrUnavailable}

// ErrorFromRPC turns an error's text, as net/rpc carries it, back into an
// error that errors.Is matches with the sentinel its text starts with.
func ErrorFromRPC(text string) error {
	for _, s := range rpcSentinels {
		if text == s.Error() || strings.HasPrefix(text, s.Error()+": ") {
			return &rpcError{text: text, sentinel: s}
		}
	}
	return errors.New(text)
}

// ErrorKind names the sentinel err wraps, for a protocol that carries the
// kind beside the text; "" when it wraps none.
func ErrorKind(err error) string {
	for _, s := range rpcSentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return ""
}

// ErrorWithKind rebuilds an error from its text and ErrorKind.
func ErrorWithKind(text, kind string) error {
	for _, s := range rpcSentinels {
		if kind == s.Error() {
			return &rpcError{text: text, sentinel: s}
		}
	}
	return errors.New(text)
}

type rpcError struct {
	text     string
	sentinel error
}

func (e *rpcError) Error() string { return e.text }
func (e *rpcError) Unwrap() error { return e.sentinel }
