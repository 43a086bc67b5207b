package snapshot

import "fmt"

// StreamOption configures OpenStream.
type StreamOption func(*streamOptions)

type streamOptions struct {
	stateLimit int64
}

// WithStateLimit makes OpenStream refuse an archive whose meta.json
// declares a state.bin of more than limit bytes, with a *StateLimitError,
// before it reads any of state.bin. The declaration binds: a state.bin
// longer than meta.json's Size is corrupt, so no archive expands past
// it. A limit of 0 or less leaves only MaxStateSize.
func WithStateLimit(limit int64) StreamOption {
	return func(o *streamOptions) { o.stateLimit = limit }
}

// StateLimitError is why OpenStream refused an archive over the limit
// given by WithStateLimit; it wraps ErrTooLarge.
type StateLimitError struct {
	// Size is state.bin's size as meta.json declares it.
	Size int64
	// Limit is the limit it is over.
	Limit int64
}

func (e *StateLimitError) Error() string {
	return fmt.Sprintf("snapshot: %s: %s would be %d bytes (%.1f MiB), over the limit of %d bytes (%.1f MiB)",
		MetaName, StateName, e.Size, float64(e.Size)/(1<<20), e.Limit, float64(e.Limit)/(1<<20))
}

// Unwrap makes errors.Is(err, ErrTooLarge) hold.
func (e *StateLimitError) Unwrap() error {
	return ErrTooLarge
}
