package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = 500 * time.Millisecond

// progress counts the bytes of a transfer and, when w is a terminal,
// redraws one line on it with the bytes so far and the rate. Elsewhere
// (a cron job's log, a pipe) it stays silent.
type progress struct {
	w     io.Writer
	verb  string
	on    bool
	start time.Time
	last  time.Time
	n     int64
}

// newProgress returns a counter for a transfer described by verb
// ("saved", "sent") that reports on w if w is a terminal.
func newProgress(w io.Writer, verb string) *progress {
	now := time.Now()
	return &progress{w: w, verb: verb, on: isTerminal(w), start: now, last: now}
}

// isTerminal tells whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Write counts p; it never fails, so it can sit in an io.TeeReader or an
// io.MultiWriter.
func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); p.on && now.Sub(p.last) >= progressEvery {
		p.last = now
		p.draw(now)
	}
	return len(b), nil
}

func (p *progress) draw(now time.Time) {
	var rate int64
	if secs := now.Sub(p.start).Seconds(); secs > 0 {
		rate = int64(float64(p.n) / secs)
	}
	fmt.Fprintf(p.w, "\r%s %s (%s/s)   ", p.verb, humanBytes(p.n), humanBytes(rate))
}

// done draws the final figures and ends the line.
func (p *progress) done() {
	if p.on {
		p.draw(time.Now())
		fmt.Fprintln(p.w)
	}
}
