package testutil

import (
	"fmt"
	"testing"
	"time"
)

func TestWaitReturnsOnceCondHolds(t *testing.T) {
	calls := 0
	err := Wait(time.Minute, func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("call %d", calls)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Wait = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestWaitReturnsTheLastErrorAfterTimeout(t *testing.T) {
	calls := 0
	start := time.Now()
	err := Wait(100*time.Millisecond, func() error {
		calls++
		return fmt.Errorf("call %d", calls)
	})
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", took)
	}
	if want := fmt.Sprintf("call %d", calls); err == nil || err.Error() != want {
		t.Fatalf("Wait = %v, want the last error %q", err, want)
	}
}
