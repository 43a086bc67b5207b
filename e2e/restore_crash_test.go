package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/consul/api"
)

// The log lines of an atomic restore, each at INFO in an agent's output.
const (
	// lineStaged: the leader has verified the upload and staged it.
	lineStaged = "restore: upload staged"
	// lineCommitting: the leader is about to propose the commit entry.
	lineCommitting = "restore: staged on a quorum, committing"
	// lineApplied: this server's FSM has swapped in the restored state.
	lineApplied = "restore: applied"
)

// crashKeys is how many KV entries the crash tests' archives hold, at
// least: 100,000 small ones make an archive of about 8 MB.
const crashKeys = 100_000

// convergeTimeout bounds the wait for the three servers to agree on one
// state after a crash and a restart.
const convergeTimeout = 60 * time.Second

// kvEntry is the part of a KV entry that a restore must bring back.
type kvEntry struct {
	key   string
	flags uint64
	value []byte
}

// kvState is a digest of a whole KV store: its key count and a SHA-256 of
// its sorted keys, flags and values.
type kvState struct {
	keys int
	sum  string
}

func (s kvState) String() string {
	if s.sum == "" {
		return "none"
	}
	return fmt.Sprintf("%d keys, %s", s.keys, s.sum[:12])
}

// digest is the kvState of entries; it sorts them.
func digest(entries []kvEntry) kvState {
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	h := sha256.New()
	var n [8]byte
	for _, e := range entries {
		for _, field := range [][]byte{[]byte(e.key), e.value} {
			binary.BigEndian.PutUint64(n[:], uint64(len(field)))
			h.Write(n[:])
			h.Write(field)
		}
		binary.BigEndian.PutUint64(n[:], e.flags)
		h.Write(n[:])
	}
	return kvState{keys: len(entries), sum: hex.EncodeToString(h.Sum(nil))}
}

// archiveKV is the kvState an archive restores, read from its state.bin.
func archiveKV(t *testing.T, archive []byte) kvState {
	t.Helper()
	_, rc, err := snapshot.Read(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var entries []kvEntry
	_, err = snapshot.ReadState(rc, func(typ structs.MessageType, rec interface{}) error {
		if typ == structs.KVSRequestType {
			e := rec.(*structs.DirEntry)
			entries = append(entries, kvEntry{key: e.Key, flags: e.Flags, value: bytes.Clone(e.Value)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return digest(entries)
}

// served is a KV store as a server serves it from its own state: the
// body of /v1/kv/?recurse&stale and its SHA-256. Servers that hold one
// and the same state, indexes included, answer byte for byte alike; the
// keys, flags and values are decoded only when asked for, as decoding
// 100,000 entries is what would make these tests slow (under -race
// above all).
type served struct {
	sum  string
	body []byte
	kv   *kvState
}

// fetchServed reads what n serves.
func fetchServed(n *clusterNode) (*served, error) {
	select {
	case <-n.proc.Exited():
		return nil, fmt.Errorf("%s is not running", n.name)
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", n.proc.URL("/v1/kv/?recurse&stale"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: n.proc.APIConfig().Transport}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", n.name, err)
	case resp.StatusCode == http.StatusNotFound:
		// No key at all.
		body = nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %d %s", n.name, resp.StatusCode, body)
	}
	sum := sha256.Sum256(body)
	return &served{sum: hex.EncodeToString(sum[:]), body: body}, nil
}

// state decodes the keys, flags and values served.
func (s *served) state() (kvState, error) {
	if s.kv == nil {
		var pairs []struct {
			Key   string
			Flags uint64
			Value []byte
		}
		if len(s.body) > 0 {
			if err := json.Unmarshal(s.body, &pairs); err != nil {
				return kvState{}, err
			}
		}
		entries := make([]kvEntry, len(pairs))
		for i, p := range pairs {
			entries[i] = kvEntry{key: p.Key, flags: p.Flags, value: p.Value}
		}
		k := digest(entries)
		s.kv = &k
	}
	return *s.kv, nil
}

// mustState is state, failing the test if the body does not decode.
func (s *served) mustState(t *testing.T) kvState {
	t.Helper()
	k, err := s.state()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sameKV tells whether a and b serve the same keys, flags and values.
func sameKV(t *testing.T, a, b *served) bool {
	t.Helper()
	return a.sum == b.sum || a.mustState(t) == b.mustState(t)
}

// stateNames name the states a test expects, for its messages: by the
// body served (raw) or by the keys, flags and values (kv).
type stateNames struct {
	raw map[string]string
	kv  map[kvState]string
}

func (n stateNames) of(s *served) string {
	if name := n.raw[s.sum]; name != "" {
		return name
	}
	k, err := s.state()
	if err != nil {
		return err.Error()
	}
	if name := n.kv[k]; name != "" {
		return name
	}
	return k.String()
}

// agreedKV waits until every node of nodes serves the same keys, flags
// and values, and returns what one of them serves. Its failure names
// each node's state as names does.
func agreedKV(t *testing.T, nodes []*clusterNode, names stateNames) *served {
	t.Helper()
	var agreed *served
	start := time.Now()
	testutil.Retry(t, convergeTimeout, "every server serves the same KV state", func() error {
		var all []*served
		same := true
		for _, n := range nodes {
			s, err := fetchServed(n)
			if err != nil {
				return err
			}
			same = same && (len(all) == 0 || s.sum == all[0].sum)
			all = append(all, s)
		}
		agreed = all[0]
		if same {
			return nil
		}
		if time.Since(start) < 5*time.Second {
			// Most likely one of them is catching up.
			return errors.New("the servers' answers differ")
		}
		var seen []string
		same = true
		for i, s := range all {
			seen = append(seen, nodes[i].name+": "+names.of(s))
			same = same && s.mustState(t) == all[0].mustState(t)
		}
		if !same {
			return fmt.Errorf("the servers differ: %s", strings.Join(seen, "; "))
		}
		t.Logf("the servers serve the same keys, flags and values, in bodies that differ (in their indexes?)")
		return nil
	})
	return agreed
}

// servedEverywhere waits until each of nodes serves key = value from its
// own state (?stale); its failure names the nodes that do not.
func servedEverywhere(t *testing.T, nodes []*clusterNode, key, value string) {
	t.Helper()
	testutil.Retry(t, 20*time.Second, fmt.Sprintf("every server serves %s = %q", key, value), func() error {
		var wrong []string
		for _, n := range nodes {
			p, _, err := n.proc.client().KV().Get(key, &api.QueryOptions{AllowStale: true})
			switch {
			case err != nil:
				wrong = append(wrong, fmt.Sprintf("%s: %v", n.name, err))
			case p == nil:
				wrong = append(wrong, n.name+": no such key")
			case string(p.Value) != value:
				wrong = append(wrong, fmt.Sprintf("%s: %q", n.name, p.Value))
			}
		}
		if len(wrong) > 0 {
			return fmt.Errorf("%s", strings.Join(wrong, "; "))
		}
		return nil
	})
}

// loadKV runs the ops through the nodes' HTTP APIs, 64 to a transaction,
// four transactions at a time.
func loadKV(t *testing.T, nodes []*clusterNode, ops api.TxnOps) {
	t.Helper()
	loadKVBatched(t, nodes, ops, 64)
}

// loadKVBatched is loadKV with per operations to a transaction.
func loadKVBatched(t *testing.T, nodes []*clusterNode, ops api.TxnOps, per int) {
	t.Helper()
	batches := make(chan api.TxnOps)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(c *api.Client) {
			defer wg.Done()
			for b := range batches {
				ok, resp, _, err := c.Txn().Txn(b, nil)
				if err == nil && !ok {
					err = fmt.Errorf("transaction refused: %v", resp.Errors)
				}
				if err != nil {
					errs <- err
					for range batches {
					}
					return
				}
			}
		}(nodes[w%len(nodes)].proc.client())
	}
	for len(ops) > 0 {
		n := min(per, len(ops))
		batches <- ops[:n]
		ops = ops[n:]
	}
	close(batches)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// crashKey is the key of entry i of the crash tests' state.
func crashKey(i int) string { return fmt.Sprintf("crash/%06d", i) }

// crashValue is a 64-byte value for entry i in version v of the state:
// random-looking bytes, which the archive stores as they are, so that it
// is as large as the state.
func crashValue(v string, i int) []byte {
	a := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/a", v, i)))
	b := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/b", v, i)))
	return append(a[:], b[:]...)
}

// putOutcome is how a restore's PUT ended: an answer, or a broken
// connection (err).
type putOutcome struct {
	status int
	body   string
	err    error
	took   time.Duration
}

func (o putOutcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("no answer after %v (%v)", o.took.Round(time.Millisecond), o.err)
	}
	return fmt.Sprintf("%d after %v %q", o.status, o.took.Round(time.Millisecond), strings.TrimSpace(o.body))
}

// startPUT sends archive to n's /v1/snapshot in the background; the
// channel gets how it ended.
func startPUT(n *clusterNode, archive []byte) <-chan putOutcome {
	done := make(chan putOutcome, 1)
	url := n.proc.URL("/v1/snapshot")
	go func() {
		start := time.Now()
		var o putOutcome
		req, _ := http.NewRequest("PUT", url, bytes.NewReader(archive))
		// A connection of its own: the kill must break this request, not
		// one that a later request would reuse.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Do(req)
		if err == nil {
			var body []byte
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			o.status, o.body = resp.StatusCode, string(body)
		}
		o.err, o.took = err, time.Since(start)
		if o.err != nil {
			o.status = 0
		}
		done <- o
	}()
	return done
}

// restartNode starts n again, as before, for the rest of the parent test.
func restartNode(parent, t *testing.T, n *clusterNode, nodes []*clusterNode) {
	t.Helper()
	a, err := agentproc.Spawn(exec.Command(consulBin, n.args(nodes)...), n.httpPort, n.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	n.proc = adopt(parent, a)
}

// logged tells whether p wrote line after offset from of its output.
func logged(p *agentProc, from int, line string) bool {
	out := p.Output()
	return len(out) >= from && strings.Contains(out[from:], line)
}

// restoreLines are the restore's log lines that p wrote after offset from.
func restoreLines(p *agentProc, from int) []string {
	out := p.Output()
	if from > len(out) {
		from = 0
	}
	var seen []string
	for _, l := range []string{lineStaged, lineCommitting, lineApplied} {
		if strings.Contains(out[from:], l) {
			seen = append(seen, l)
		}
	}
	return seen
}

// killPoint is a moment of a restore at which a trial kills a server:
// frac of the baseline restore's time after the PUT starts, or when line
// first appears in the output of the leader (onLeader) or of the server
// to kill, or once the PUT has been answered (afterPUT).
type killPoint struct {
	name     string
	frac     float64
	line     string
	onLeader bool
	afterPUT bool
}

// crashCluster is one 3-server cluster that the trials of a test share:
// each restores one of two archives over whatever the one before left.
type crashCluster struct {
	parent   *testing.T
	nodes    []*clusterNode
	archives [2][]byte
	states   [2]kvState
	// next is the archive the next trial restores.
	next int
	// current is the state every server serves now.
	current *served
	// baseline is how long the quicker undisturbed restore took.
	baseline time.Duration
	trials   int
	// broken is set once a trial left the servers apart: the trials
	// after it would show nothing.
	broken bool
}

// newCrashCluster starts three servers, loads them with version A of
// the state, saves it, changes it into version B (values changed, keys
// added and deleted), saves that too, and times two undisturbed
// restores, of A and then B.
func newCrashCluster(t *testing.T) *crashCluster {
	start := time.Now()
	c := &crashCluster{parent: t, nodes: startCluster(t)}
	var ops api.TxnOps
	for i := 0; i < crashKeys; i++ {
		ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: crashKey(i), Value: crashValue("A", i), Flags: uint64(i % 7)}})
	}
	loadKV(t, c.nodes, ops)
	loaded := time.Since(start)
	c.archives[0] = c.save(t)

	ops = nil
	for i := 0; i < crashKeys; i += 50 {
		ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: crashKey(i), Value: crashValue("B", i), Flags: 9}})
		ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: crashKey(crashKeys + i), Value: crashValue("B", i)}})
		if i%100 == 0 {
			ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVDelete, Key: crashKey(i + 1)}})
		}
	}
	loadKV(t, c.nodes, ops)
	c.archives[1] = c.save(t)

	for i, a := range c.archives {
		c.states[i] = archiveKV(t, a)
	}
	if c.states[0] == c.states[1] {
		t.Fatal("archives A and B restore the same KV state")
	}
	// The digest of a served state and of an archive agree: B is what
	// the servers hold.
	c.current = agreedKV(t, c.nodes, c.names())
	if got := c.current.mustState(t); got != c.states[1] {
		t.Fatalf("the servers hold %v, archive B %v", got, c.states[1])
	}
	t.Logf("%d keys loaded in %v; archives of %.1f MB (A: %v) and %.1f MB (B: %v), ready after %v",
		crashKeys, loaded.Round(time.Millisecond), float64(len(c.archives[0]))/1e6, c.states[0],
		float64(len(c.archives[1]))/1e6, c.states[1], time.Since(start).Round(time.Millisecond))

	// Not a subtest: the trials that -run picks need the baseline. The
	// quicker of two, as the first restore is slower than the rest.
	c.trial(t, nil, killPoint{name: "none"})
	c.trial(t, nil, killPoint{name: "none"})
	return c
}

// save saves an archive through the leader.
func (c *crashCluster) save(t *testing.T) []byte {
	t.Helper()
	leader := waitForOneLeader(t, c.nodes)
	archive, _ := saveArchive(t, leader.proc.client())
	return archive
}

// names names the states a trial may see, for its messages.
func (c *crashCluster) names() stateNames {
	names := stateNames{raw: map[string]string{}, kv: map[kvState]string{c.states[0]: "archive A", c.states[1]: "archive B"}}
	if c.current != nil {
		names.raw[c.current.sum] = "the old state"
	}
	return names
}

// victim picks, among the current leader and its followers, the server
// a trial kills; nil kills none.
type victim func(leader *clusterNode, followers []*clusterNode) *clusterNode

func theLeader(leader *clusterNode, _ []*clusterNode) *clusterNode { return leader }

func aFollower(_ *clusterNode, followers []*clusterNode) *clusterNode { return followers[0] }

// trial restores the next archive through the leader, SIGKILLs the
// victim at the kill point and starts it again; then all three servers
// must serve one and the same state, the old one or the archive's (the
// archive's if the PUT was answered 200), and take a write. A trial that
// kills a follower must get 200: the leader and the other follower are
// a quorum.
func (c *crashCluster) trial(t *testing.T, pick victim, kp killPoint) {
	if c.broken {
		t.Skip("an earlier trial left the servers apart")
	}
	finished := false
	defer func() { c.broken = c.broken || !finished }()
	c.trials++
	leader := waitForOneLeader(t, c.nodes)
	var v *clusterNode
	if pick != nil {
		v = pick(leader, followersOf(c.nodes, leader))
	}
	which := c.next
	archive, want, old := c.archives[which], c.states[which], c.current
	c.next ^= 1
	names := c.names()
	names.kv[want] = "new (" + names.kv[want] + ")"
	names.raw[old.sum] = "old"

	leaderFrom := len(leader.proc.Output())
	victimFrom := 0
	if v != nil {
		victimFrom = len(v.proc.Output())
	}
	start := time.Now()
	done := startPUT(leader, archive)
	var outcome *putOutcome
	wait := func(d time.Duration) bool {
		select {
		case o := <-done:
			outcome = &o
			return true
		case <-time.After(d):
			return false
		}
	}
	switch {
	case v == nil || kp.afterPUT:
		if !wait(2 * time.Minute) {
			t.Fatal("the restore was not answered within 2 minutes")
		}
	case kp.line != "":
		watched, from := v, victimFrom
		if kp.onLeader {
			watched, from = leader, leaderFrom
		}
		// The steps after the commit take a millisecond or two: look
		// often. A follower may apply after the answer: look on after it.
		var answered time.Time
		for !logged(watched.proc, from, kp.line) {
			if outcome == nil {
				if wait(200 * time.Microsecond) {
					answered = time.Now()
				}
				continue
			}
			if time.Since(answered) > 10*time.Second {
				t.Errorf("%s never logged %q, not within 10 s of the answer: %v", watched.name, kp.line, outcome)
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
	default:
		wait(time.Duration(kp.frac * float64(c.baseline)))
	}
	if v == nil {
		if outcome.status != 200 {
			t.Fatalf("undisturbed restore: %v", outcome)
		}
		if c.baseline == 0 || outcome.took < c.baseline {
			c.baseline = outcome.took
		}
		t.Logf("trial %d, no kill: PUT %v", c.trials, outcome)
	} else {
		killedAt := time.Since(start)
		v.proc.Kill()
		seen := restoreLines(v.proc, victimFrom)
		if outcome == nil && !wait(2*time.Minute) {
			t.Fatal("the restore was not answered within 2 minutes of the kill")
		}
		role := "follower"
		if v == leader {
			role = "leader"
		}
		t.Logf("trial %d, %s %s killed at %s, %v after the PUT started (its log then: %v); PUT %v",
			c.trials, role, v.name, kp.name, killedAt.Round(time.Millisecond), seen, outcome)
		restartNode(c.parent, t, v, c.nodes)
	}

	got := agreedKV(t, c.nodes, names)
	var ended string
	switch {
	case got.sum == old.sum:
		ended = "old"
	case got.mustState(t) == want:
		ended = "new"
	case got.mustState(t) == old.mustState(t):
		ended = "old"
	default:
		t.Fatalf("the servers agree on %v, neither the old state (%v) nor the archive's (%v)", got.mustState(t), old.mustState(t), want)
	}
	t.Logf("trial %d: all three on the %s state", c.trials, ended)
	if outcome.err == nil && outcome.status == 200 && ended != "new" {
		t.Errorf("the restore was answered 200 but the servers are on the old state")
	}
	if v != nil && v != leader && outcome.status != 200 {
		t.Errorf("with a follower killed the restore was answered %v, want 200", outcome)
	}
	if kp.afterPUT && outcome.status != 200 {
		t.Errorf("the restore was answered %v before any kill, want 200", outcome)
	}

	// A write afterwards reaches all three, through the restarted server
	// (the leader if none was).
	through := leader
	if v != nil {
		through = v
	}
	key, value := fmt.Sprintf("probe/%d", c.trials), "after "+kp.name
	testutil.Retry(t, 30*time.Second, "a write through "+through.name, func() error {
		_, err := through.proc.client().KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil)
		return err
	})
	servedEverywhere(t, c.nodes, key, value)
	c.current = agreedKV(t, c.nodes, names)
	finished = true
}

// leaderKillPoints spread over a whole restore: every tenth of its
// undisturbed time, each step the log shows, and just after the answer.
var leaderKillPoints = append(fractions(0.05, 0.95, 0.10),
	killPoint{name: "upload staged", line: lineStaged, onLeader: true},
	killPoint{name: "committing", line: lineCommitting, onLeader: true},
	killPoint{name: "leader applied", line: lineApplied, onLeader: true},
	killPoint{name: "answered", afterPUT: true},
)

// followerKillPoints: the same, more sparsely, for a follower, whose own
// log says when it has applied the restore.
var followerKillPoints = append(fractions(0.10, 0.90, 0.20),
	killPoint{name: "upload staged", line: lineStaged, onLeader: true},
	killPoint{name: "committing", line: lineCommitting, onLeader: true},
	killPoint{name: "follower applied", line: lineApplied},
	killPoint{name: "answered", afterPUT: true},
)

// fractions are the kill points from to to, step apart, as fractions of
// an undisturbed restore's time.
func fractions(from, to, step float64) []killPoint {
	var points []killPoint
	for f := from; f < to+step/2; f += step {
		points = append(points, killPoint{name: fmt.Sprintf("%.0f%%", f*100), frac: f})
	}
	return points
}

func pointName(who string, kp killPoint) string {
	return who + " at " + strings.ReplaceAll(kp.name, "%", "pct")
}

// TestRestoreCrash shows that a restore is atomic across a 3-server
// cluster holding 100,000 keys, whatever server crashes when. Each trial
// restores one of two archives over the state the trial before left.
// The leader is SIGKILLed at fourteen points spread over the whole
// restore (every tenth of an undisturbed restore's time, at each step
// the log shows, right after the answer), then a follower at nine, and
// each is started again; last, a follower is down for a whole restore
// and comes back later. Every time, all three servers end up serving
// the same keys and values with ?stale, all from the old state or all
// from the archive (the archive's if the PUT was answered 200), and a
// write afterwards reaches all three.
func TestRestoreCrash(t *testing.T) {
	start := time.Now()
	c := newCrashCluster(t)
	t.Logf("an undisturbed restore takes %v", c.baseline.Round(time.Millisecond))
	for _, kp := range leaderKillPoints {
		t.Run(pointName("leader", kp), func(t *testing.T) { c.trial(t, theLeader, kp) })
	}
	for _, kp := range followerKillPoints {
		t.Run(pointName("follower", kp), func(t *testing.T) { c.trial(t, aFollower, kp) })
	}
	t.Run("follower down throughout", c.followerDownTrial)
	t.Logf("%d trials in %v", c.trials, time.Since(start).Round(time.Millisecond))
}

// followerDownTrial stops a follower (SIGTERM) before a restore, which
// the other two then answer 200 and serve; a write follows. Started
// again, the follower has missed the staging and must fetch the dump:
// it comes to serve the restored state with the write.
func (c *crashCluster) followerDownTrial(t *testing.T) {
	if c.broken {
		t.Skip("an earlier trial left the servers apart")
	}
	finished := false
	defer func() { c.broken = c.broken || !finished }()
	c.trials++
	leader := waitForOneLeader(t, c.nodes)
	down := followersOf(c.nodes, leader)[0]
	down.proc.Stop()
	var up []*clusterNode
	for _, n := range c.nodes {
		if n != down {
			up = append(up, n)
		}
	}
	which := c.next
	archive, want := c.archives[which], c.states[which]
	c.next ^= 1
	names := c.names()
	names.kv[want] = "new (" + names.kv[want] + ")"
	names.raw[c.current.sum] = "old"

	o := <-startPUT(leader, archive)
	if o.status != 200 {
		t.Fatalf("restore with %s down: %v", down.name, o)
	}
	if got := agreedKV(t, up, names); got.mustState(t) != want {
		t.Fatalf("after the restore, the two servers up serve %v, want the archive's %v", names.of(got), want)
	}
	key := fmt.Sprintf("probe/%d", c.trials)
	if _, err := leader.proc.client().KV().Put(&api.KVPair{Key: key, Value: []byte("while down")}, nil); err != nil {
		t.Fatal(err)
	}
	servedEverywhere(t, up, key, "while down")
	withWrite := agreedKV(t, up, names)
	names.raw[withWrite.sum] = "new with the later write"

	restartNode(c.parent, t, down, c.nodes)
	waitForOneLeader(t, c.nodes)
	if got := agreedKV(t, c.nodes, names); !sameKV(t, got, withWrite) {
		t.Fatalf("with %s back, the servers serve %v, want %v", down.name, got.mustState(t), withWrite.mustState(t))
	}
	t.Logf("trial %d, %s down throughout: PUT %v; with it back all three on the new state and the later write", c.trials, down.name, o)
	key = fmt.Sprintf("probe/%d/after", c.trials)
	testutil.Retry(t, 30*time.Second, "a write through "+down.name, func() error {
		_, err := down.proc.client().KV().Put(&api.KVPair{Key: key, Value: []byte("back")}, nil)
		return err
	})
	servedEverywhere(t, c.nodes, key, "back")
	c.current = agreedKV(t, c.nodes, names)
	finished = true
}
