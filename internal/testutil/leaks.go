package testutil

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// leakTimeout is how long goroutines have to end once a test is over.
// It is longer than goleak's own half second: memberlist's Shutdown does
// not wait for a probe in flight, which ends at its deadline, a probe
// interval (1 s in the tests' configurations) later.
const leakTimeout = 3 * time.Second

// expected are the goroutines that may outlive a test by design.
var expected = []goleak.Option{
	// consul.(*Server).raftWait waits for a Raft future in a goroutine of
	// its own, so that a request stops waiting when the server shuts
	// down. Raft leaves some futures unanswered when it shuts down
	// (applies and verifies queued or in the FSM's batch), and the
	// goroutine waiting on one then lasts as long as the process; see
	// consul/raft_wait.go.
	goleak.IgnoreAnyFunction("github.com/consulcompat/consul/consul.(*Server).raftWait.func1"),
}

// CheckLeaks fails the test if goroutines that were not running when
// CheckLeaks was called are still running after the test's cleanups
// (shutting down its servers and agents) have run. Call it first,
// before the test starts anything, so that its own cleanup runs last.
func CheckLeaks(t testing.TB) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := FindLeaks(before); err != nil {
			t.Error(err)
		}
	})
}

// FindLeaks waits up to leakTimeout for goroutines to end and returns
// goleak's report of those still running, other than the expected ones
// and those opts ignore; nil when there are none. Without opts it is the
// check for a TestMain, after m.Run and the package's shutdowns.
func FindLeaks(opts ...goleak.Option) error {
	opts = slices.Concat(opts, expected)
	return Wait(leakTimeout, func() error { return goleak.Find(opts...) })
}
