package consul

import (
	"sync"
	"time"

	"github.com/consulcompat/consul/structs"
)

// invalidateAttempts is how often the leader tries to apply the
// invalidation of an expired session before it gives up; the next leader
// re-arms every timer, so a session is never kept forever.
const invalidateAttempts = 10

// sessionTimers are the leader's TTL timers, by session ID. Only the
// leader runs them; a new leader arms one for every TTL session, each
// with a fresh TTL, as Consul does.
type sessionTimers struct {
	mu     sync.Mutex
	timers map[string]*time.Timer
}

// reset (re)starts the timer of session id: fire runs after d.
func (t *sessionTimers) reset(id string, d time.Duration, fire func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timers == nil {
		t.timers = make(map[string]*time.Timer)
	}
	if old, ok := t.timers[id]; ok {
		old.Stop()
	}
	t.timers[id] = time.AfterFunc(d, fire)
}

// stop stops and forgets the timer of session id.
func (t *sessionTimers) stop(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.timers[id]; ok {
		old.Stop()
		delete(t.timers, id)
	}
}

// stopAll stops every timer: leadership was lost or the state replaced.
func (t *sessionTimers) stopAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, old := range t.timers {
		old.Stop()
		delete(t.timers, id)
	}
}

// armed tells how many timers run.
func (t *sessionTimers) armed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.timers)
}

// resetSessionTimer starts the session's TTL afresh: it is invalidated
// after SessionTTLMultiplier TTLs without a renewal. Sessions without a
// TTL have no timer.
func (s *Server) resetSessionTimer(sess *structs.Session) {
	ttl, err := time.ParseDuration(sess.TTL)
	if err != nil || ttl <= 0 {
		return
	}
	id := sess.ID
	s.sessionTimers.reset(id, ttl*structs.SessionTTLMultiplier, func() { s.invalidateSession(id) })
}

// invalidateSession destroys an expired session through Raft.
func (s *Server) invalidateSession(id string) {
	s.sessionTimers.stop(id)
	for attempt := 1; attempt <= invalidateAttempts; attempt++ {
		select {
		case <-s.shutdownCh:
			return
		default:
		}
		if !s.IsLeader() {
			return
		}
		if _, sess, err := s.fsm.State().SessionGet(nil, id); err == nil && sess == nil {
			return
		}
		req := structs.SessionRequest{Op: structs.SessionDestroy, Session: structs.Session{ID: id}}
		_, err := s.raftApply(structs.SessionRequestType, &req)
		if err == nil {
			s.logger.Info("session expired", "session", id)
			return
		}
		s.logger.Error("invalidating an expired session", "session", id, "attempt", attempt, "error", err)
		select {
		case <-s.shutdownCh:
			return
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// initializeSessionTimers arms a timer, with a fresh TTL, for every TTL
// session in the state: on a new leader, and after a restore.
func (s *Server) initializeSessionTimers() error {
	s.sessionTimers.stopAll()
	_, sessions, err := s.fsm.State().SessionList(nil, "")
	if err != nil {
		return err
	}
	for _, sess := range sessions {
		s.resetSessionTimer(sess)
	}
	return nil
}
