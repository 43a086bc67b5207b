package consul

import (
	"sync"
	"time"
)

// logThrottle lets through at most one log line per interval about an
// event that can repeat at the rate of requests (a refused write, a
// refused connection), so that a flood is reported rather than echoed.
// It is safe for concurrent use.
type logThrottle struct {
	every time.Duration

	mu      sync.Mutex
	last    time.Time
	counted int
}

// event counts one occurrence and calls log, with the occurrences since
// the last line (this one included), when a line is due.
func (l *logThrottle) event(log func(count int)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counted++
	if now := time.Now(); now.Sub(l.last) >= l.every {
		log(l.counted)
		l.last, l.counted = now, 0
	}
}
