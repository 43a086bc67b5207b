package structs

// RestoreRequestType is the Raft log entry that switches every server to
// a restored state at once: each one's FSM, applying it, swaps its state
// for the state dump staged under RestoreRequest.SHA256, so that all of
// them change at the same log index or none does. It is this agent's own
// entry (Consul restores through raft.Restore, which switches the leader
// alone first); 100 is far above Consul's numbering (43 in 1.16), and the
// entry must never carry IgnoreUnknownTypeFlag: a server that skipped it
// would go on from the old state.
const RestoreRequestType MessageType = 100

// RestoreRequest is the body of a RestoreRequestType entry: which staged
// dump to switch to.
type RestoreRequest struct {
	// ID is the archive's snapshot ID (meta.json), for the logs.
	ID string
	// SHA256 is the SHA-256 of the state dump (the archive's state.bin),
	// under which every server stages it.
	SHA256 []byte
	// Size is the dump's length in bytes.
	Size int64
}
