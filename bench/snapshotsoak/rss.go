package main

import (
	"fmt"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
)

// rssSample is the server's RSS at one moment of the run.
type rssSample struct {
	at time.Duration // since the run began
	agentproc.RSS
}

// sampleRSS records the agent's RSS now and every second until stop is
// called; stop returns the samples.
func sampleRSS(agent *agentproc.Agent, start time.Time) (stop func() []rssSample) {
	var samples []rssSample
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			// An error means the process is gone.
			if r, err := agent.RSS(); err == nil {
				samples = append(samples, rssSample{time.Since(start), r})
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() []rssSample { close(quit); <-done; return samples }
}

// rssKind picks the part of the RSS that is judged.
type rssKind string

const (
	// rssAnon is the heap and the stacks, where a leak shows.
	rssAnon rssKind = "anon"
	// rssTotal adds the pages of mapped files, mostly the BoltDB Raft
	// log, which grows for the first minutes of a run until log
	// compaction keeps its size steady.
	rssTotal rssKind = "total"
)

func (k rssKind) of(r agentproc.RSS) int64 {
	if k == rssTotal {
		return r.Total
	}
	return r.Anon
}

// flatness compares the highest RSS of the warm-up with the highest at
// the end of the run. Peaks, not single samples, because the heap
// swings by a third between garbage collections, within seconds.
type flatness struct {
	kind     rssKind
	warmup   time.Duration // first is the peak up to here
	tailFrom time.Duration // tail is the peak from here on
	first    int64
	tail     int64
	// judged is false for a run too short to tell growth from warm-up.
	judged bool
}

// rssFlatness takes the warm-up and the tail as window long. A run
// shorter than two windows compares its first half with all of it, and
// that is not to be judged: the heap grows for the first half minute or
// so as the server settles, more than a leak would in so short a run.
func rssFlatness(samples []rssSample, kind rssKind, window, run time.Duration) flatness {
	f := flatness{kind: kind, warmup: window, tailFrom: run - window, judged: true}
	if run < 2*window {
		f.warmup, f.tailFrom, f.judged = run/2, 0, false
	}
	for _, s := range samples {
		v := kind.of(s.RSS)
		if s.at <= f.warmup && v > f.first {
			f.first = v
		}
		if s.at >= f.tailFrom && v > f.tail {
			f.tail = v
		}
	}
	return f
}

// growth is the tail's peak over the warm-up's, minus one.
func (f flatness) growth() float64 {
	if f.first == 0 {
		return 0
	}
	return float64(f.tail)/float64(f.first) - 1
}

func (f flatness) String() string {
	return fmt.Sprintf("%s RSS peak %.1f MiB from +%s on vs. %.1f MiB up to +%s: %+.1f%%",
		f.kind, mib(f.tail), f.tailFrom.Round(time.Second), mib(f.first), f.warmup.Round(time.Second), 100*f.growth())
}

// rssLine is the first, last and highest sample of one kind of RSS.
func rssLine(samples []rssSample, kind rssKind, warmup time.Duration) string {
	if len(samples) == 0 {
		return "no samples"
	}
	var first, max int64
	for _, s := range samples {
		v := kind.of(s.RSS)
		if s.at <= warmup && v > first {
			first = v
		}
		if v > max {
			max = v
		}
	}
	return fmt.Sprintf("first %.1f MiB (peak up to +%s), last %.1f MiB, max %.1f MiB",
		mib(first), warmup.Round(time.Second), mib(kind.of(samples[len(samples)-1].RSS)), mib(max))
}

func mib(kib int64) float64 {
	return float64(kib) / 1024
}
