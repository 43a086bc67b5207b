package agent

import (
	"testing"
	"time"
)

// eventually polls cond until it holds, and fails the test, saying what
// it waited for, if 10 seconds pass first.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
