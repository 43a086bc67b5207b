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
