package structs

import "errors"

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
