// Command snapshotbench measures /v1/snapshot against a real agent
// process: it loads keys through /v1/txn, then times a save and a
// restore, samples the server's RSS in each phase, and measures Go's
// SHA-256 on the same machine so that the figures can be read as ratios.
// With -servers 3 it times restores into a cluster of three server
// processes instead, up to the moment every server serves the restored
// state (cluster.go).
//
//	go run ./bench/snapshotbench -consul bin/consul -keys 100000
//	go run ./bench/snapshotbench -consul bin/consul -keys 100000 -servers 3
package main

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
)

// config is what the flags ask for.
type config struct {
	bin                      string
	keys, valueSize, workers int
	text                     bool
	rounds                   int
	fresh                    bool
	servers                  int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "consul", "bin/consul", "path of the consul binary to start")
	flag.IntVar(&cfg.keys, "keys", 100000, "number of keys to load")
	flag.IntVar(&cfg.valueSize, "value-size", 512, "bytes of random value per key")
	flag.IntVar(&cfg.workers, "workers", 8, "concurrent /v1/txn writers")
	flag.BoolVar(&cfg.text, "text", false, "text values (JSON-like words) instead of random bytes")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of saves and of restores (with -servers: of restores, and of fresh clusters); times are their medians, RSS their peak")
	flag.BoolVar(&cfg.fresh, "fresh", true, "also restore into a freshly started agent (or cluster, one a round), as a disaster recovery does")
	flag.IntVar(&cfg.servers, "servers", 1, "server processes to start: 1 times one agent, more time restores into a cluster of that many")
	flag.Parse()
	if cfg.servers > 1 {
		benchCluster(cfg)
	} else {
		benchAgent(cfg)
	}
}

// benchAgent times saves and restores on one agent.
func benchAgent(cfg config) {
	agent, stop := startAgent(cfg.bin, "bench")
	defer stop()

	loadTime := loadKeys(agent.URL(""), cfg)
	rssRest := rssOf(agent)

	// Sized ahead: growing a buffer by doubling while the archive arrives
	// cost this client more than the server's whole save (52 MB: 1.5 s
	// against 0.4 s read into io.Discard).
	var archive bytes.Buffer
	archive.Grow(cfg.keys * (cfg.valueSize + 96))
	// Every save before the first restore: a restored store, built in key
	// order in one transaction, is faster to walk than one built by
	// concurrent writers, as a live server's is.
	var saves, restores []phaseResult
	for i := 0; i < cfg.rounds; i++ {
		archive.Reset()
		saves = append(saves, measure(agent, func() phaseResult {
			return saveSnapshot(agent.URL(""), &archive)
		}))
	}
	for i := 0; i < cfg.rounds; i++ {
		restores = append(restores, measure(agent, func() phaseResult {
			return restoreSnapshot(agent.URL(""), archive.Bytes())
		}))
	}
	save, restore := summary(saves), summary(restores)
	var intoFresh phaseResult
	if cfg.fresh {
		intoFresh = restoreIntoFresh(cfg.bin, archive.Bytes())
	}
	shaMBps := sha256Throughput(256 << 20)

	saveMBps := mbps(archive.Len(), save.elapsed)
	restoreMBps := mbps(archive.Len(), restore.elapsed)
	printLoad(cfg, loadTime, archive.Len())
	fmt.Printf("rounds                    %d (medians; RSS and disk: the worst round)\n", cfg.rounds)
	fmt.Printf("save                      %.1f MB/s (%s), first byte after %s\n", saveMBps, save.elapsed.Round(time.Millisecond), save.ttfb.Round(time.Microsecond))
	fmt.Printf("restore                   %.1f MB/s (%s)\n", restoreMBps, restore.elapsed.Round(time.Millisecond))
	fmt.Printf("server RSS at rest        %.1f MiB\n", float64(rssRest)/1024)
	fmt.Printf("server peak RSS, save     %.1f MiB (+%.1f over %.1f before it)\n", float64(save.peakRSS)/1024, float64(save.peakRSS-save.restRSS)/1024, float64(save.restRSS)/1024)
	fmt.Printf("server peak RSS, restore  %.1f MiB (%.2f x %.1f before it)\n", float64(restore.peakRSS)/1024, float64(restore.peakRSS)/float64(restore.restRSS), float64(restore.restRSS)/1024)
	if cfg.fresh {
		fmt.Printf("restore into fresh agent  %.1f MB/s (%s), peak RSS %.1f MiB (%.2f x the loaded agent at rest)\n",
			mbps(archive.Len(), intoFresh.elapsed), intoFresh.elapsed.Round(time.Millisecond),
			float64(intoFresh.peakRSS)/1024, float64(intoFresh.peakRSS)/float64(rssRest))
	}
	stateSize := stateBinSize(archive.Bytes())
	fmt.Printf("state.bin                 %.1f MB\n", mb(int(stateSize)))
	fmt.Printf("disk written, save        %.1f MB\n", mb(int(save.written)))
	fmt.Printf("disk written, restore     %.1f MB (%.2f x state.bin)\n", mb(int(restore.written)), float64(restore.written)/float64(stateSize))
	fmt.Printf("Go SHA-256                %.0f MB/s\n", shaMBps)
	fmt.Printf("save / SHA-256            %.3f\n", saveMBps/shaMBps)
	fmt.Printf("restore / SHA-256         %.3f\n", restoreMBps/shaMBps)
}

// loadKeys loads the keys cfg asks for through the agent at base and
// returns how long that took.
func loadKeys(base string, cfg config) time.Duration {
	start := time.Now()
	load(base, cfg.keys, cfg.valueSize, cfg.workers, cfg.text)
	return time.Since(start)
}

// printLoad prints the first lines of either mode's report: what was
// loaded, how fast, and the size of the archive it makes.
func printLoad(cfg config, loadTime time.Duration, archiveSize int) {
	fmt.Printf("keys                      %d x %d B values\n", cfg.keys, cfg.valueSize)
	fmt.Printf("load via /v1/txn          %.0f keys/s (%s)\n", float64(cfg.keys)/loadTime.Seconds(), loadTime.Round(time.Millisecond))
	fmt.Printf("archive size              %.1f MB\n", mb(archiveSize))
}

// mb is n bytes in MB.
func mb(n int) float64 { return float64(n) / 1e6 }

// mbps is the throughput of n bytes in d, in MB/s.
func mbps(n int, d time.Duration) float64 { return mb(n) / d.Seconds() }

// load writes keys in transactions of 64 from several workers.
func load(base string, keys, valueSize, workers int, text bool) {
	const perTxn = 64
	batches := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			value := make([]byte, valueSize)
			for first := range batches {
				var ops []map[string]interface{}
				for k := first; k < first+perTxn && k < keys; k++ {
					fill(value, text)
					ops = append(ops, map[string]interface{}{"KV": map[string]interface{}{
						"Verb": "set", "Key": fmt.Sprintf("bench/%08d", k), "Value": base64.StdEncoding.EncodeToString(value),
					}})
				}
				body, _ := json.Marshal(ops)
				req, _ := http.NewRequest("PUT", base+"/v1/txn", bytes.NewReader(body))
				resp, err := http.DefaultClient.Do(req)
				check(err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					log.Fatalf("txn: status %d", resp.StatusCode)
				}
			}
		}()
	}
	for first := 0; first < keys; first += perTxn {
		batches <- first
	}
	close(batches)
	wg.Wait()
}

// words make text values: configuration-like JSON.
var words = []string{`{"service":`, `"web"`, `"port":`, `8080,`, `"tags":`, `["primary",`, `"v2"],`, `"enabled":`, `true,`, `"weight":`, `10}`, ` `}

// fill fills value with random bytes, or with random words.
func fill(value []byte, text bool) {
	if !text {
		rand.Read(value)
		return
	}
	var pick [1]byte
	for i := 0; i < len(value); {
		rand.Read(pick[:])
		i += copy(value[i:], words[int(pick[0])%len(words)])
	}
}

type phaseResult struct {
	elapsed time.Duration
	ttfb    time.Duration
	// restRSS is the server's RSS just before the phase, peakRSS its
	// peak during it.
	restRSS, peakRSS int64
	// written is what the server wrote to storage during the phase.
	written int64
}

// startAgent starts an agent named name with its data in a new temp dir;
// stop stops it and removes the dir.
func startAgent(bin, name string) (agent *agentproc.Agent, stop func()) {
	dir, err := os.MkdirTemp("", "snapshotbench-"+name+"-")
	check(err)
	agent, err = agentproc.Start(bin, name, dir, "-log-level", "warn")
	if err != nil {
		os.RemoveAll(dir)
		log.Fatal(err)
	}
	return agent, func() {
		agent.Stop()
		os.RemoveAll(dir)
	}
}

// restoreIntoFresh starts a second agent with an empty state and
// restores archive into it.
func restoreIntoFresh(bin string, archive []byte) phaseResult {
	agent, stop := startAgent(bin, "fresh")
	defer stop()
	return measure(agent, func() phaseResult {
		return restoreSnapshot(agent.URL(""), archive)
	})
}

// summary is the median elapsed time and time to first byte of rs, with
// the round of the largest RSS growth and the most disk written.
func summary(rs []phaseResult) phaseResult {
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	var elapsed, ttfb []time.Duration
	var s phaseResult
	for _, r := range rs {
		elapsed, ttfb = append(elapsed, r.elapsed), append(ttfb, r.ttfb)
		if s.peakRSS == 0 || r.peakRSS-r.restRSS > s.peakRSS-s.restRSS {
			s.restRSS, s.peakRSS = r.restRSS, r.peakRSS
		}
		s.written = max(s.written, r.written)
	}
	s.elapsed, s.ttfb = median(elapsed), median(ttfb)
	return s
}

// measure runs fn while sampling the server's RSS every 2 ms.
func measure(agent *agentproc.Agent, fn func() phaseResult) phaseResult {
	stop := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var max int64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rssOf(agent); r > max {
				max = r
			}
			select {
			case <-stop:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	rest, before := rssOf(agent), writtenBy(agent)
	r := fn()
	r.restRSS = rest
	r.written = writtenBy(agent) - before
	close(stop)
	r.peakRSS = <-peak
	return r
}

// rssOf is the agent's total RSS in KiB; 0 once it has ended.
func rssOf(agent *agentproc.Agent) int64 {
	r, _ := agent.RSS()
	return r.Total
}

// writtenBy is what the agent has written to storage so far.
func writtenBy(agent *agentproc.Agent) int64 {
	n, err := agent.DiskWritten()
	check(err)
	return n
}

func saveSnapshot(base string, out *bytes.Buffer) phaseResult {
	start := time.Now()
	resp, err := http.Get(base + "/v1/snapshot")
	check(err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("save: status %d", resp.StatusCode)
	}
	var first [1]byte
	_, err = io.ReadFull(resp.Body, first[:])
	check(err)
	ttfb := time.Since(start)
	out.Write(first[:])
	_, err = io.Copy(out, resp.Body)
	check(err)
	return phaseResult{elapsed: time.Since(start), ttfb: ttfb}
}

func restoreSnapshot(base string, archive []byte) phaseResult {
	start := time.Now()
	req, _ := http.NewRequest("PUT", base+"/v1/snapshot", bytes.NewReader(archive))
	resp, err := http.DefaultClient.Do(req)
	check(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("restore: status %d: %s", resp.StatusCode, body)
	}
	return phaseResult{elapsed: time.Since(start)}
}

// stateBinSize is the uncompressed size of the archive's state dump.
func stateBinSize(archive []byte) int64 {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	check(err)
	for _, f := range zr.File {
		if f.Name == "state.bin" {
			return int64(f.UncompressedSize64)
		}
	}
	log.Fatal("archive has no state.bin")
	return 0
}

// sha256Throughput hashes n bytes and returns MB/s.
func sha256Throughput(n int) float64 {
	buf := make([]byte, 1<<20)
	rand.Read(buf)
	h := sha256.New()
	start := time.Now()
	for done := 0; done < n; done += len(buf) {
		h.Write(buf)
	}
	h.Sum(nil)
	return float64(n) / 1e6 / time.Since(start).Seconds()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
