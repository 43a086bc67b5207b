package testutil

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestFindLeaksNamesALeftGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	stop := make(chan struct{})
	go leakUntil(stop)
	err := FindLeaks(before)
	close(stop)
	if err == nil || !strings.Contains(err.Error(), "leakUntil") {
		t.Fatalf("FindLeaks = %v, want the goroutine in leakUntil", err)
	}
	if err := FindLeaks(before); err != nil {
		t.Fatalf("after the goroutine ended: %v", err)
	}
}

func leakUntil(stop chan struct{}) { <-stop }
