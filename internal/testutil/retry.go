package testutil

import (
	"errors"
	"testing"
	"time"
)

// pollInterval is the time between two calls of a condition.
const pollInterval = 25 * time.Millisecond

// errFalse is Until's condition's error while it is false.
var errFalse = errors.New("the condition is still false")

// Wait calls cond until it returns nil, and then returns nil; once
// timeout has passed, it returns cond's last error instead. It is Retry
// for code that has no testing.TB, such as TestMain or a load tool.
func Wait(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollInterval)
	}
}

// Retry calls cond until it returns nil. If timeout passes first, it
// fails the test, saying what it waited for and cond's last error.
func Retry(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if err := Wait(timeout, cond); err != nil {
		t.Fatalf("%s: not within %v: %v", what, timeout, err)
	}
}

// Until is Retry for a condition that has no error to tell, only
// whether it holds yet.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Retry(t, timeout, what, func() error {
		if !cond() {
			return errFalse
		}
		return nil
	})
}
