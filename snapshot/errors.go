package snapshot

import (
	"errors"
	"fmt"
)

// formatError is the error the reader returns: a one-line reason that names
// the problem, wrapping ErrCorrupt or ErrTooLarge (and the underlying error,
// if any, so that errors.Is sees both).
type formatError struct {
	kinds []error
	msg   string
	cause error
}

func (e *formatError) Error() string {
	if e.cause == nil {
		return "snapshot: " + e.msg
	}
	return "snapshot: " + e.msg + ": " + e.cause.Error()
}

func (e *formatError) Unwrap() []error {
	if e.cause == nil {
		return e.kinds
	}
	return append(e.kinds[:len(e.kinds):len(e.kinds)], e.cause)
}

// corruptf returns an error wrapping ErrCorrupt.
func corruptf(format string, args ...interface{}) error {
	return &formatError{kinds: []error{ErrCorrupt}, msg: fmt.Sprintf(format, args...)}
}

// corruptCause returns an error wrapping ErrCorrupt and cause, whose text
// follows the reason.
func corruptCause(cause error, format string, args ...interface{}) error {
	return &formatError{kinds: []error{ErrCorrupt}, msg: fmt.Sprintf(format, args...), cause: cause}
}

// tooLargef returns an error wrapping ErrTooLarge.
func tooLargef(format string, args ...interface{}) error {
	return &formatError{kinds: []error{ErrTooLarge}, msg: fmt.Sprintf(format, args...)}
}

// isFormatError tells whether err already carries a reason from this
// package, so that it is passed on unchanged rather than wrapped again.
func isFormatError(err error) bool {
	var fe *formatError
	return errors.As(err, &fe)
}
