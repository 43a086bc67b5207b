package consul

import (
	"math/rand"
	"time"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// Blocking query limits, Consul's.
const (
	defaultQueryTime = 5 * time.Minute
	maxQueryTime     = 10 * time.Minute
	// jitterFraction spreads wake-ups: up to wait/16 is added.
	jitterFraction = 16
)

// queryFn runs a read against a store, adding the channels that signal a
// change to ws and filling the reply's index.
type queryFn func(ws memdb.WatchSet, s *state.Store) error

// blockingQuery runs fn, and while opts asks to block and the reply's
// index has not passed MinQueryIndex, waits for a change and runs it
// again, until the wait times out or a restore replaces the store.
func (s *Server) blockingQuery(opts *structs.QueryOptions, meta *structs.QueryMeta, fn queryFn) error {
	var deadline <-chan time.Time
	if opts.MinQueryIndex > 0 {
		wait := opts.MaxQueryTime
		if wait <= 0 {
			wait = defaultQueryTime
		}
		if wait > maxQueryTime {
			wait = maxQueryTime
		}
		wait += time.Duration(rand.Int63n(int64(wait/jitterFraction) + 1))
		timer := time.NewTimer(wait)
		defer timer.Stop()
		deadline = timer.C
	}
	restored := false
	for {
		store := s.fsm.State()
		ws := memdb.NewWatchSet()
		ws.Add(store.AbandonCh())
		ws.Add(s.shutdownCh)
		if err := fn(ws, store); err != nil {
			return err
		}
		s.setQueryMeta(meta)
		// Never report index 0: clients would not block on it.
		if meta.Index < 1 {
			meta.Index = 1
		}
		// After a restore the index may have gone back; answer at once so
		// that the client sees the new state and resets its index.
		if opts.MinQueryIndex == 0 || meta.Index > opts.MinQueryIndex || restored {
			return nil
		}
		if timedOut := ws.Watch(deadline); timedOut {
			return nil
		}
		select {
		case <-store.AbandonCh():
			restored = true
		default:
		}
	}
}
