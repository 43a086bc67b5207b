package consul

import (
	"runtime/debug"
	"testing"
)

// TestSetGCPercentAtMost: a restore tightens the collector's target and
// puts the configured one back; a tighter target, or a collector turned
// off, stays as it is.
func TestSetGCPercentAtMost(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	for _, configured := range []int{100, 400, 10, -1} {
		debug.SetGCPercent(configured)
		undo := setGCPercentAtMost(restoreGCPercent)
		want := min(configured, restoreGCPercent)
		if got := debug.SetGCPercent(-1); got != want {
			t.Errorf("GOGC=%d: %d during the restore, want %d", configured, got, want)
		}
		debug.SetGCPercent(want)
		undo()
		if got := debug.SetGCPercent(configured); got != configured {
			t.Errorf("GOGC=%d: %d after the restore", configured, got)
		}
	}
}

// TestSetGCPercentAtMostOverlapping: restores that overlap, in any order
// of ending, leave the configured target in place once all have ended.
func TestSetGCPercentAtMostOverlapping(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	first := setGCPercentAtMost(restoreGCPercent)
	second := setGCPercentAtMost(restoreGCPercent)
	first()
	first()
	if got := debug.SetGCPercent(restoreGCPercent); got != restoreGCPercent {
		t.Fatalf("target %d while a restore still runs", got)
	}
	second()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("target %d after both restores, want 100", got)
	}
}
