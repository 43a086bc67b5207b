package consul

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// errShuttingDown answers a request whose Raft future was still pending
// when the server began to shut down.
var errShuttingDown = errors.New("server is shutting down")

// barrierTimeout bounds the wait for every committed write to be applied.
const barrierTimeout = 30 * time.Second

// barrier waits until every write committed so far is applied to the FSM.
func (s *Server) barrier() error {
	return s.raftWait(s.raft.Barrier(barrierTimeout), 0)
}

// raftWait waits for a Raft future, but not past the start of shutdown
// nor, when timeout > 0, past timeout. raft leaves some futures forever
// unanswered when it shuts down (applies and verifies queued or in the
// FSM's batch), and a request waiting on one would hold Server.Shutdown
// with it. The goroutine left waiting then ends with the process at the
// latest; tests' leak checks name it as expected.
func (s *Server) raftWait(f raft.Future, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case err := <-done:
		return err
	case <-s.shutdownCh:
		return errShuttingDown
	case <-expired:
		return fmt.Errorf("no answer from raft within %v", timeout)
	}
}
