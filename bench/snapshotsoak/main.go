// Command snapshotsoak saves /v1/snapshot every second for a long run
// against a real agent process while writers change keys through
// /v1/txn. Every save is checked as it arrives (status, SHA-256 trailer,
// snapshot.Verify). At the end it checks that no acknowledged write was
// lost, that the last archive holds exactly the state at its index, and
// that the server's RSS stayed flat: the peak of its last minute at most
// 25% over the peak of its first. It exits 1 if anything failed.
//
// The RSS judged is by default the anonymous part (heap and stacks):
// the total also counts the mapped BoltDB file of the Raft log, which
// grows for the first minutes of a run until log compaction holds it
// steady. A run shorter than two minutes reports the RSS but does not
// judge it.
//
//	go run ./bench/snapshotsoak -consul bin/consul -duration 10m
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
)

// maxListed is how many problems of one kind the summary lists.
const maxListed = 10

func main() {
	os.Exit(run())
}

// config is the command line.
type config struct {
	bin                string
	duration, interval time.Duration
	writers, valueSize int
	window             time.Duration
	maxGrowth          float64
	rss                rssKind
	progress           time.Duration
}

func run() int {
	var cfg config
	var kind string
	flag.StringVar(&cfg.bin, "consul", "bin/consul", "path of the consul binary to start")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long the writers and the saves run")
	flag.IntVar(&cfg.writers, "writers", 8, "concurrent /v1/txn writers, each setting its own 1000 keys")
	flag.DurationVar(&cfg.interval, "interval", time.Second, "time between the starts of two saves")
	flag.IntVar(&cfg.valueSize, "value-size", 64, "bytes per value; the writer and sequence number it encodes may make it longer")
	flag.DurationVar(&cfg.window, "rss-window", time.Minute, "span at the start and at the end of the run whose RSS peaks are compared; a run shorter than two windows compares its first half with all of it, but does not fail on it")
	flag.Float64Var(&cfg.maxGrowth, "max-rss-growth", 0.25, "largest allowed growth of the RSS peak, as a fraction of the first window's")
	flag.StringVar(&kind, "rss", string(rssAnon), "RSS judged: anon (heap and stacks) or total (also mapped files, such as the Raft log's BoltDB file)")
	flag.DurationVar(&cfg.progress, "progress", 30*time.Second, "time between progress lines on stderr; 0 for none")
	flag.Parse()
	cfg.rss = rssKind(kind)
	log.SetFlags(0)
	log.SetPrefix("snapshotsoak: ")
	if cfg.writers < 1 || cfg.duration <= 0 || cfg.interval <= 0 || cfg.window <= 0 || cfg.maxGrowth < 0 ||
		(cfg.rss != rssAnon && cfg.rss != rssTotal) || flag.NArg() > 0 {
		log.Print("-writers, -duration, -interval and -rss-window must be positive, -max-rss-growth not negative, -rss anon or total, and no arguments given")
		return 2
	}

	dir, err := os.MkdirTemp("", "snapshotsoak-")
	if err != nil {
		log.Print(err)
		return 1
	}
	defer os.RemoveAll(dir)
	var running atomic.Pointer[agentproc.Agent]
	ctx := onSignal(func() {
		if a := running.Load(); a != nil {
			a.Stop()
		}
		os.RemoveAll(dir)
	})

	agent, err := agentproc.Start(cfg.bin, "soak", dir, "-log-level", "warn")
	if err != nil {
		log.Print(err)
		return 1
	}
	defer agent.Stop()
	running.Store(agent)
	if ctx.Err() != nil {
		return 1
	}

	t := http.DefaultTransport.(*http.Transport).Clone()
	// One idle connection per writer and one for the saver: the default
	// of 2 would open and close connections all run long.
	t.MaxIdleConnsPerHost = cfg.writers + 1
	client := &http.Client{Transport: t}

	start := time.Now()
	runCtx, endRun := context.WithTimeout(ctx, cfg.duration)
	defer endRun()
	go func() {
		select {
		case <-agent.Exited():
			endRun()
		case <-runCtx.Done():
		}
	}()
	// The writers stop only after the last save, so that it falls among
	// writes, as every other save does.
	writeCtx, stopWrites := context.WithCancel(context.Background())
	defer stopWrites()
	var total counters
	stopRSS := sampleRSS(agent, start)
	waitWriters := writers(writeCtx, client, agent.URL(""), cfg.writers, cfg.valueSize, start, &total)
	waitSaver := saver(runCtx, client, agent.URL(""), cfg.interval, start, &total)
	if cfg.progress > 0 {
		go progress(runCtx, cfg.progress, start, agent, &total)
	}
	<-runCtx.Done()
	var o outcome
	o.ran = time.Since(start)
	o.samples = stopRSS()
	o.saves = waitSaver()
	stopWrites()
	o.writers = waitWriters()
	o.interrupted = ctx.Err() != nil

	if !judge(cfg, o, client, agent) {
		agent.Stop()
		printLogTail(agent.Output())
		return 1
	}
	return 0
}

// outcome is what a run did.
type outcome struct {
	ran         time.Duration
	writers     []*writer
	saves       *saves
	samples     []rssSample
	interrupted bool
}

// judge runs the final checks, prints the summary, and tells whether the
// run passed.
func judge(cfg config, o outcome, client *http.Client, agent *agentproc.Agent) bool {
	ws, sv := o.writers, o.saves

	var failures []string
	fail := func(what string, problems []string) {
		failures = append(failures, what)
		fmt.Printf("%s:\n", what)
		for i, p := range problems {
			if i == maxListed {
				fmt.Printf("  ... and %d more\n", len(problems)-maxListed)
				break
			}
			fmt.Printf("  %s\n", p)
		}
	}

	acked, failed := 0, 0
	var writeErrs, oddities []string
	for _, w := range ws {
		acked += w.acked
		failed += w.failed
		writeErrs = append(writeErrs, w.errs...)
		oddities = append(oddities, w.oddities...)
	}
	if failed > 0 {
		fail(fmt.Sprintf("%d writes failed", failed), writeErrs)
	}
	if len(oddities) > 0 {
		fail("acknowledged indexes out of order", oddities)
	}
	if acked == 0 {
		fail("no write was acknowledged", nil)
	}
	if sv.failed > 0 {
		fail(fmt.Sprintf("%d saves failed", sv.failed), sv.errs)
	}
	if sv.last == nil {
		fail("no save succeeded", nil)
	}

	readBack := "not done: the agent exited"
	select {
	case <-agent.Exited():
		fail("the agent exited during the run", []string{agent.State().String()})
	default:
		c, err := checkReadBack(client, agent.URL(""), ws, cfg.valueSize)
		switch {
		case err != nil:
			readBack = "failed"
			fail("reading the keys back failed", []string{err.Error()})
		case len(c.problems) > 0:
			readBack = fmt.Sprintf("%d of %d keys differ", len(c.problems), c.keys)
			fail("lost writes", c.problems)
		default:
			readBack = fmt.Sprintf("%d keys, each holding its last acknowledged write%s", c.keys, unknownNote(c.unknown))
		}
	}

	lastArchive := "none"
	if sv.last != nil {
		c, err := checkArchive(sv.last, ws, cfg.valueSize)
		idx := sv.last.meta.Index
		switch {
		case err != nil:
			lastArchive = "does not decode"
			fail("decoding the last archive failed", []string{err.Error()})
		case len(c.problems) > 0:
			lastArchive = fmt.Sprintf("%d problems against index %d", len(c.problems), idx)
			fail("the last archive is not the state at its index", c.problems)
		default:
			lastArchive = fmt.Sprintf("%d keys exactly as at its index %d%s", c.keys, idx, unknownNote(c.unknown))
		}
		if err == nil {
			lastArchive += fmt.Sprintf("; %d acknowledged writes at or below it, %d above", c.before, c.after)
			if c.after == 0 {
				lastArchive += " (so it did not fall among writes)"
			}
		}
	}

	f := rssFlatness(o.samples, cfg.rss, cfg.window, o.ran)
	growthLine := fmt.Sprintf("%s (limit %+.0f%%)", f, 100*cfg.maxGrowth)
	switch {
	case f.first == 0 || f.tail == 0:
		growthLine = "not measured"
		fail("no RSS sample", nil)
	case !f.judged:
		growthLine = fmt.Sprintf("%s; not judged: the run is shorter than twice -rss-window (%s)", f, cfg.window)
	case f.growth() > cfg.maxGrowth:
		fail("RSS grew", []string{growthLine})
	}
	verdict := "PASS"
	if o.interrupted {
		failures = append(failures, "interrupted")
	}
	if len(failures) > 0 {
		verdict = "FAIL: " + strings.Join(failures, "; ")
	}

	fmt.Printf("duration       %s (%d writers x %d keys, %d B values, a save every %s)\n",
		o.ran.Round(time.Millisecond), cfg.writers, keysPerWriter, len(value(0, 0, cfg.valueSize)), cfg.interval)
	fmt.Printf("writes         %d acknowledged (%.0f/s), %d failed\n", acked, float64(acked)/o.ran.Seconds(), failed)
	fmt.Printf("saves          %d taken, %d failed", len(sv.times), sv.failed)
	if sv.last != nil {
		fmt.Printf("; last %.2f MB at index %d", float64(len(sv.last.archive))/1e6, sv.last.meta.Index)
	}
	fmt.Println()
	if len(sv.times) > 0 {
		ts := slices.Clone(sv.times)
		slices.Sort(ts)
		r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
		fmt.Printf("save time      min %s, median %s, max %s\n", r(ts[0]), r(ts[len(ts)/2]), r(ts[len(ts)-1]))
	}
	fmt.Printf("RSS total      %s\n", rssLine(o.samples, rssTotal, f.warmup))
	fmt.Printf("RSS anon       %s\n", rssLine(o.samples, rssAnon, f.warmup))
	fmt.Printf("RSS growth     %s\n", growthLine)
	fmt.Printf("read back      %s\n", readBack)
	fmt.Printf("last archive   %s\n", lastArchive)
	fmt.Printf("verdict        %s\n", verdict)
	return len(failures) == 0
}

// counters are the running totals of the writers and the saver, for the
// progress lines.
type counters struct {
	acked, failedWrites, saves, failedSaves atomic.Int64
}

// progress prints the running totals every so often until ctx is done.
func progress(ctx context.Context, every time.Duration, start time.Time, agent *agentproc.Agent, total *counters) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r, _ := agent.RSS()
		log.Printf("+%s: %d writes acknowledged, %d failed; %d saves, %d failed; RSS %.1f MiB, anon %.1f MiB",
			time.Since(start).Round(time.Second), total.acked.Load(), total.failedWrites.Load(),
			total.saves.Load(), total.failedSaves.Load(), mib(r.Total), mib(r.Anon))
	}
}

func unknownNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d hold a write whose acknowledgement never came)", n)
}

// onSignal returns a context that is cancelled on the first SIGINT,
// SIGTERM or SIGHUP, which ends the run early; a second one runs abort
// and exits.
func onSignal(abort func()) context.Context {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		sig := <-sigs
		log.Printf("%v: ending the run early; again to abort", sig)
		cancel()
		sig = <-sigs
		log.Printf("%v: aborting", sig)
		abort()
		os.Exit(1)
	}()
	return ctx
}

// printLogTail shows the end of the agent's output.
func printLogTail(output string) {
	if strings.TrimSpace(output) == "" {
		return
	}
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	fmt.Printf("agent log, last %d lines:\n", len(lines))
	for _, l := range lines {
		fmt.Printf("  %s\n", l)
	}
}
