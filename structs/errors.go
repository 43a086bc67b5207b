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
	// ErrBadRequest marks an input the caller must fix (HTTP 400).
	ErrBadRequest = errors.New("bad request")
	// ErrTooLarge marks an input over a size limit (HTTP 413).
	ErrTooLarge = errors.New("request body too large")
)

// rpcSentinels are the sentinels that must survive RPC, where an error
// travels as its text.
var rpcSentinels = []error{ErrNoLeader, ErrNoDCPath, ErrPermissionDenied, ErrACLNotFound, ErrBadRequest, ErrTooLarge}

// ErrorFromRPC turns an error's text, as RPC carries it, back into an
// error that errors.Is matches with the sentinel it started from.
func ErrorFromRPC(text string) error {
	for _, s := range rpcSentinels {
		if text == s.Error() || strings.HasPrefix(text, s.Error()+": ") {
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
