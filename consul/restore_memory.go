package consul

import "runtime/debug"

// restoreGCPercent is the garbage collector's target while a restore
// builds the new state beside the current one: a collection when the heap
// has grown by a quarter over the live data, instead of the default
// doubling, so that a restore needs little more memory than the two
// states themselves. Unlike a fixed memory limit, it cannot make the
// collector run without end when the new state is larger than the old
// (a restore into a fresh server); it costs more collections instead.
const restoreGCPercent = 25

// tightenGCForRestore applies restoreGCPercent, unless the configured
// target is tighter already or the collector is off (GOGC=off), and
// returns the function that undoes it.
func tightenGCForRestore() (undo func()) {
	prev := debug.SetGCPercent(restoreGCPercent)
	if prev < restoreGCPercent {
		debug.SetGCPercent(prev)
	}
	return func() { debug.SetGCPercent(prev) }
}
