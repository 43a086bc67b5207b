package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// consistent asks for a read the leader confirms it is current.
var consistent = &api.QueryOptions{RequireConsistent: true}

// pause waits for d, or less if stop is closed; it reports whether stop
// was closed.
func pause(stop <-chan struct{}, d time.Duration) bool {
	select {
	case <-stop:
		return true
	case <-time.After(d):
		return false
	}
}

// Tenure policies of the election's contenders (election.policy): 0, 1
// or 2 means only that contender keeps the lock, the others release it
// as soon as they have confirmed they hold it.
const (
	rotate   = -1 // hold for 100-300 ms, release, contend again
	everyone = 99 // hold until the lock is lost or the test ends
)

// confirmation is a consistent read of the lock key, by a contender that
// believes it holds the lock, showing its session as the holder. start
// and end bracket the read: the server answered at some moment in
// between.
type confirmation struct {
	contender  int
	session    string
	lockIndex  uint64
	start, end time.Time
}

// election is contenders running api.Lock on one key, each through its
// own agent, recording what they see.
type election struct {
	key    string
	policy atomic.Int32
	stop   chan struct{}
	halt   func()

	mu       sync.Mutex
	confirms []confirmation
	// acquired is the first confirmation of each tenure.
	acquired []confirmation
	// holding is each contender's session while it holds the lock (from
	// its first confirmation to its release or loss).
	holding    map[int]string
	violations []string
}

func newElection(key string) *election {
	e := &election{key: key, stop: make(chan struct{}), holding: make(map[int]string)}
	var once sync.Once
	e.halt = func() { once.Do(func() { close(e.stop) }) }
	e.policy.Store(rotate)
	return e
}

func (e *election) violation(format string, args ...interface{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.violations = append(e.violations, fmt.Sprintf(format, args...))
}

// holder is the session contender i holds the lock with, or "".
func (e *election) holder(i int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holding[i]
}

// contend runs contender i through client c until the election stops:
// acquire, hold as the policy says, release, again.
func (e *election) contend(i int, c *api.Client) {
	for attempt := 0; ; attempt++ {
		name := fmt.Sprintf("contender-%d-%d", i, attempt)
		l, err := c.LockOpts(&api.LockOptions{
			Key: e.key, Value: []byte(name), SessionName: name, SessionTTL: "10s",
			LockDelay: time.Second, LockWaitTime: time.Second,
			MonitorRetries: 10, MonitorRetryTime: 500 * time.Millisecond,
		})
		if err != nil {
			e.violation("contender %d: LockOpts: %v", i, err)
			return
		}
		lost, err := l.Lock(e.stop)
		if lost == nil {
			// Stopped, or the agent or the leader is unreachable.
			if pause(e.stop, 200*time.Millisecond) {
				return
			}
			continue
		}
		session := e.hold(i, c, name, lost)
		unlockErr := l.Unlock()
		e.cleanup(c, name, session, unlockErr)
		backoff := 20 * time.Millisecond
		if p := int(e.policy.Load()); p != rotate && p != everyone && p != i {
			// Let the chosen contender win the next round.
			backoff = 300 * time.Millisecond
		}
		if pause(e.stop, backoff) {
			return
		}
	}
}

// hold runs a tenure of contender i: it finds its session, confirms with
// consistent reads every 50 ms that the key shows it as the holder, and
// returns the session when the policy lets it go, the lock is lost or the
// election stops.
func (e *election) hold(i int, c *api.Client, name string, lost <-chan struct{}) string {
	session := e.ownSession(c, name, lost)
	if session == "" {
		return ""
	}
	defer func() {
		e.mu.Lock()
		delete(e.holding, i)
		e.mu.Unlock()
	}()
	holdFor := time.Duration(100+rand.Intn(200)) * time.Millisecond
	var since time.Time
	for {
		conf, known := e.confirm(i, c, name, session)
		switch {
		case known && conf == nil:
			return session
		case conf != nil && since.IsZero():
			since = time.Now()
			e.mu.Lock()
			e.acquired = append(e.acquired, *conf)
			e.holding[i] = session
			e.mu.Unlock()
		}
		if !since.IsZero() && e.letGo(i, time.Since(since) >= holdFor) {
			return session
		}
		select {
		case <-lost:
			return session
		case <-e.stop:
			return session
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// letGo tells whether contender i, holding the lock, should release it
// under the current policy; done tells whether a rotating tenure is over.
func (e *election) letGo(i int, done bool) bool {
	switch p := int(e.policy.Load()); p {
	case rotate:
		return done
	case everyone, i:
		return false
	default:
		return true
	}
}

// ownSession finds the session the lock created for this tenure (it is
// named after it), or "" if it is already gone or the lock was lost.
func (e *election) ownSession(c *api.Client, name string, lost <-chan struct{}) string {
	for {
		sessions, _, err := c.Session().List(consistent)
		if err == nil {
			for _, s := range sessions {
				if s.Name == name {
					return s.ID
				}
			}
			return ""
		}
		select {
		case <-lost:
			return ""
		case <-e.stop:
			return ""
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// confirm reads the key consistently: the confirmation (also recorded)
// when it shows session as the holder, known false when the read failed. A key that shows
// another holder, or none, is a violation unless session is gone: the
// lock may pass on only from a session that released it (this one has
// not yet) or that was invalidated.
func (e *election) confirm(i int, c *api.Client, name, session string) (_ *confirmation, known bool) {
	start := time.Now()
	p, _, err := c.KV().Get(e.key, consistent)
	end := time.Now()
	if err != nil {
		return nil, false
	}
	if p != nil && p.Session == session {
		if string(p.Value) != name {
			e.violation("contender %d: key held by its session %s has value %q, want %q", i, session, p.Value, name)
		}
		conf := confirmation{contender: i, session: session, lockIndex: p.LockIndex, start: start, end: end}
		e.mu.Lock()
		e.confirms = append(e.confirms, conf)
		e.mu.Unlock()
		return &conf, true
	}
	// Sessions never come back: alive now means alive at the read above.
	s, _, err := c.Session().Info(session, consistent)
	if err == nil && s != nil {
		e.violation("contender %d: key shows %s while its live session %s never released it", i, describe(p), session)
	}
	return nil, true
}

func describe(p *api.KVPair) string {
	if p == nil {
		return "no key"
	}
	return fmt.Sprintf("session %q (LockIndex %d, value %q)", p.Session, p.LockIndex, p.Value)
}

// cleanup makes sure a tenure's lock is released and its session gone:
// Unlock fails during an election, and the session it destroys in the
// background would otherwise keep the lock until its TTL ran out.
func (e *election) cleanup(c *api.Client, name, session string, unlockErr error) {
	if session == "" {
		return
	}
	released := unlockErr == nil
	for {
		if !released {
			_, _, err := c.KV().Release(&api.KVPair{Key: e.key, Value: []byte(name), Session: session, Flags: api.LockFlagValue}, nil)
			released = err == nil
		}
		if released {
			if _, err := c.Session().Destroy(session, nil); err == nil {
				return
			}
		}
		if pause(e.stop, 200*time.Millisecond) {
			return
		}
	}
}

// check verifies the confirmations together. Each tenure has its own
// session and LockIndex; and since the key's LockIndex never decreases,
// a confirmation that ended before another started has a LockIndex no
// higher. Two holders whose confirmations interleave in time (A, then B,
// then A again) would need A's LockIndex on both sides of B's: that is
// two holders at once.
func (e *election) check() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	bad := append([]string(nil), e.violations...)
	cs := append([]confirmation(nil), e.confirms...)
	sort.Slice(cs, func(a, b int) bool { return cs[a].start.Before(cs[b].start) })
	indexOf, sessionOf := map[string]uint64{}, map[uint64]string{}
	for _, c := range cs {
		if idx, ok := indexOf[c.session]; ok && idx != c.lockIndex {
			bad = append(bad, fmt.Sprintf("session %s seen with LockIndex %d and %d", c.session, idx, c.lockIndex))
		}
		if s, ok := sessionOf[c.lockIndex]; ok && s != c.session {
			bad = append(bad, fmt.Sprintf("LockIndex %d held by sessions %s and %s", c.lockIndex, s, c.session))
		}
		indexOf[c.session], sessionOf[c.lockIndex] = c.lockIndex, c.session
	}
	for a := range cs {
		for b := a + 1; b < len(cs); b++ {
			if cs[b].start.After(cs[a].end) && cs[b].lockIndex < cs[a].lockIndex {
				bad = append(bad, fmt.Sprintf("contender %d saw LockIndex %d after contender %d saw %d",
					cs[b].contender, cs[b].lockIndex, cs[a].contender, cs[a].lockIndex))
			}
		}
	}
	return bad
}

// TestLockLeaderElectionSurvivesLeaderKill: three contenders, each through
// its own server, pass a lock around; then the Raft leader is killed with
// -9 while its contender holds the lock. The lock stays exclusive
// throughout, the dead holder's session is invalidated once its node's
// serfHealth goes critical, and a contender on a survivor takes over.
func TestLockLeaderElectionSurvivesLeaderKill(t *testing.T) {
	nodes := startCluster(t)
	leader := waitForOneLeader(t, nodes)
	e := newElection("e2e/election/.lock")
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func(i int, c *api.Client) {
			defer wg.Done()
			e.contend(i, c)
		}(i, n.proc.client())
	}
	// Before the agents stop (cleanups run last registered first).
	t.Cleanup(func() { e.halt(); wg.Wait() })

	// The lock changes hands.
	testutil.Retry(t, 30*time.Second, "the lock changes hands", func() error {
		e.mu.Lock()
		defer e.mu.Unlock()
		who := map[int]bool{}
		for _, a := range e.acquired {
			who[a.contender] = true
		}
		if len(e.acquired) < 6 || len(who) < 2 {
			return fmt.Errorf("%d acquisitions by %d contenders", len(e.acquired), len(who))
		}
		return nil
	})

	// The leader's contender takes the lock and keeps it.
	k := -1
	for i, n := range nodes {
		if n == leader {
			k = i
		}
	}
	e.policy.Store(int32(k))
	var deadSession string
	testutil.Retry(t, 30*time.Second, "the leader's contender holds the lock", func() error {
		if deadSession = e.holder(k); deadSession == "" {
			return fmt.Errorf("contender %d on the leader %s does not hold the lock", k, leader.name)
		}
		return nil
	})

	killedAt := time.Now()
	leader.proc.Kill()
	e.policy.Store(everyone)
	survivors := followersOf(nodes, leader)
	deadline := killedAt.Add(60 * time.Second)
	since := func() time.Duration { return time.Since(killedAt).Round(100 * time.Millisecond) }

	// The dead node fails its serfHealth check on the new leader, which
	// invalidates the session; the dead contender learns it lost the lock
	// when its monitor gives up on its agent.
	sc := survivors[0].proc.client()
	testutil.Retry(t, time.Until(deadline), "the dead node's serfHealth is critical", func() error {
		checks, _, err := sc.Health().Node(leader.name, consistent)
		if err != nil {
			return err
		}
		for _, c := range checks {
			if c.CheckID == "serfHealth" && c.Status == api.HealthCritical {
				return nil
			}
		}
		return fmt.Errorf("%s's checks: %v", leader.name, checks)
	})
	t.Logf("serfHealth of %s critical after %v", leader.name, since())
	// Well before the session's TTL (10 s, invalidated after twice that
	// with no renewal) could have ended it instead.
	testutil.Retry(t, 10*time.Second, "the dead holder's session is invalidated", func() error {
		s, _, err := sc.Session().Info(deadSession, consistent)
		if err != nil || s != nil {
			return fmt.Errorf("session %s of the dead holder: %+v %v", deadSession, s, err)
		}
		return nil
	})
	t.Logf("dead holder's session invalidated after %v", since())
	testutil.Retry(t, time.Until(deadline), "the dead contender learns it lost the lock", func() error {
		if s := e.holder(k); s != "" {
			return fmt.Errorf("contender %d still believes it holds the lock", k)
		}
		return nil
	})

	// A contender on a survivor holds the lock, and both survivors say so.
	var newHolder string
	testutil.Retry(t, time.Until(deadline), "a contender on a survivor holds the lock", func() error {
		newHolder = ""
		for _, n := range survivors {
			for _, q := range []*api.QueryOptions{consistent, {AllowStale: true}} {
				p, _, err := n.proc.client().KV().Get(e.key, q)
				switch {
				case err != nil:
					return err
				case p == nil || p.Session == "":
					return fmt.Errorf("%s: no holder", n.name)
				case newHolder != "" && p.Session != newHolder:
					return fmt.Errorf("%s says %s holds the lock, another survivor %s", n.name, p.Session, newHolder)
				}
				newHolder = p.Session
			}
		}
		s, _, err := sc.Session().Info(newHolder, consistent)
		if err != nil || s == nil || s.Node == leader.name {
			return fmt.Errorf("holder's session %s: %+v %v", newHolder, s, err)
		}
		for i := range nodes {
			if i != k && e.holder(i) == newHolder {
				return nil
			}
		}
		return fmt.Errorf("no surviving contender holds session %s yet", newHolder)
	})
	t.Logf("lock held again on a survivor after %v", since())

	// The new holder keeps confirming its tenure for a while.
	count := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		n := 0
		for _, c := range e.confirms {
			if c.session == newHolder {
				n++
			}
		}
		return n
	}
	testutil.Retry(t, 10*time.Second, "the new holder confirms its tenure", func() error {
		if n := count(); n < 5 {
			return fmt.Errorf("%d confirmations by the new holder", n)
		}
		return nil
	})

	e.halt()
	wg.Wait()
	for _, v := range e.check() {
		t.Error(v)
	}
	t.Logf("%d tenures, %d confirmations", len(e.acquired), len(e.confirms))
}

// semaphoreLock is the JSON of a semaphore's .lock key.
type semaphoreLock struct {
	Limit   int
	Holders map[string]bool
}

// TestSemaphoreLimitTwoFiveContenders: five contenders share a semaphore
// of limit 2; two hold it at once, never three, and each gets it.
func TestSemaphoreLimitTwoFiveContenders(t *testing.T) {
	a := startAgent(t, "")
	const prefix, limit, contenders, rounds = "e2e/sem", 2, 5, 3
	var (
		mu            sync.Mutex
		cur, most     int
		held          = map[int]int{}
		problems      []string
		watchMax      int
		stop          = make(chan struct{})
		wg, watchDone sync.WaitGroup
	)
	problem := func(format string, args ...interface{}) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	// A watcher follows the .lock key and records the most holders it
	// ever lists.
	watchDone.Add(1)
	go func() {
		defer watchDone.Done()
		c := a.client()
		var index uint64
		for {
			p, meta, err := c.KV().Get(prefix+"/.lock", &api.QueryOptions{WaitIndex: index, WaitTime: 500 * time.Millisecond})
			select {
			case <-stop:
				return
			default:
			}
			if err != nil {
				problem("watcher: %v", err)
				return
			}
			index = meta.LastIndex
			if p == nil {
				continue
			}
			var l semaphoreLock
			if err := json.Unmarshal(p.Value, &l); err != nil {
				problem("watcher: .lock: %v", err)
				return
			}
			mu.Lock()
			watchMax = max(watchMax, len(l.Holders))
			mu.Unlock()
		}
	}()

	for i := 0; i < contenders; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := a.client()
			for r := 0; r < rounds; r++ {
				name := fmt.Sprintf("sem-%d-%d", i, r)
				s, err := c.SemaphoreOpts(&api.SemaphoreOptions{Prefix: prefix, Limit: limit, Value: []byte(name),
					SessionName: name, SemaphoreWaitTime: time.Second, MonitorRetries: 3})
				if err != nil {
					problem("contender %d: %v", i, err)
					return
				}
				lost, err := s.Acquire(nil)
				if err != nil || lost == nil {
					problem("contender %d: acquire: %v", i, err)
					return
				}
				mu.Lock()
				cur++
				most = max(most, cur)
				held[i]++
				mu.Unlock()

				checkHolders(c, prefix, name, limit, problem)
				select {
				case <-lost:
					problem("contender %d lost the semaphore", i)
				case <-time.After(time.Duration(100+rand.Intn(150)) * time.Millisecond):
				}

				mu.Lock()
				cur--
				mu.Unlock()
				if err := s.Release(); err != nil {
					problem("contender %d: release: %v", i, err)
				}
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	watchDone.Wait()

	for _, p := range problems {
		t.Error(p)
	}
	if most != limit {
		t.Errorf("at most %d holders at once, want %d", most, limit)
	}
	if watchMax != limit {
		t.Errorf(".lock listed at most %d holders, want %d", watchMax, limit)
	}
	for i := 0; i < contenders; i++ {
		if held[i] != rounds {
			t.Errorf("contender %d held the semaphore %d times, want %d", i, held[i], rounds)
		}
	}

	// Unused, the semaphore can be destroyed, and nothing is left.
	s, err := a.client().SemaphorePrefix(prefix, limit)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Destroy(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	testutil.Retry(t, 10*time.Second, "the destroyed semaphore leaves nothing", func() error {
		pairs, _, err := a.client().KV().List(prefix, consistent)
		if err != nil || len(pairs) > 0 {
			return fmt.Errorf("left under %s: %d keys, %v", prefix, len(pairs), err)
		}
		sessions, _, err := a.client().Session().List(consistent)
		if err != nil || len(sessions) > 0 {
			return fmt.Errorf("sessions left: %d, %v", len(sessions), err)
		}
		return nil
	})
}

// checkHolders reads the semaphore at prefix consistently, as the holder
// called name: the .lock key lists at most limit holders, this one among
// them (its contender key, prefix/<session>, holds name).
func checkHolders(c *api.Client, prefix, name string, limit int, problem func(string, ...interface{})) {
	pairs, _, err := c.KV().List(prefix, consistent)
	if err != nil {
		problem("%s: list: %v", name, err)
		return
	}
	var l semaphoreLock
	session := ""
	for _, p := range pairs {
		switch {
		case p.Key == prefix+"/.lock":
			if err := json.Unmarshal(p.Value, &l); err != nil {
				problem("%s: .lock: %v", name, err)
			}
		case string(p.Value) == name:
			session = strings.TrimPrefix(p.Key, prefix+"/")
		}
	}
	if len(l.Holders) > limit || l.Limit != limit {
		problem("%s: .lock has limit %d and %d holders: %v", name, l.Limit, len(l.Holders), l.Holders)
	}
	if session == "" || !l.Holders[session] {
		problem("%s: its session %q is not among the holders %v", name, session, l.Holders)
	}
}

// lockCLI is a `consul lock` process running in the background.
type lockCLI struct {
	*agentproc.Process
}

// startLockCLI starts `consul lock -http-addr=<a> args...`, killed with
// its child when the test ends.
func startLockCLI(t *testing.T, a *agentProc, args ...string) *lockCLI {
	t.Helper()
	p, err := agentproc.StartProcess(a.cli(append([]string{"lock", "-http-addr=" + a.HTTPAddr}, args...)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return &lockCLI{p}
}

// wait waits for the process to exit and returns its exit code.
func (l *lockCLI) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-l.Exited():
		return l.State().ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("consul lock did not exit:\n%s", l.Output())
		return -1
	}
}

// waitScript is a child that records that it runs in started, then
// waits (at most 30 s) for release to exist.
func waitScript(started, release string) string {
	return fmt.Sprintf(`touch %s; i=0; while [ ! -f %s ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`, started, release)
}

func fileExists(path string) error {
	_, err := os.Stat(path)
	return err
}

func TestConsulLockCLI(t *testing.T) {
	a := startAgent(t, "")
	c := a.client()
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }

	// The child runs with CONSUL_LOCK_HELD and while the key is locked.
	child := fmt.Sprintf(`test "$CONSUL_LOCK_HELD" = true || exit 3; %s kv get -detailed app/job/.lock > %s; `,
		consulBin, file("held")) + waitScript(file("started"), file("release"))
	first := startLockCLI(t, a, "app/job", child)
	testutil.Retry(t, 20*time.Second, "the first lock's child runs", func() error { return fileExists(file("started")) })
	held, err := os.ReadFile(file("held"))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := c.KV().Get("app/job/.lock", consistent)
	if err != nil || p == nil || p.Session == "" {
		t.Fatalf("lock key while held: %+v %v", p, err)
	}
	if !strings.Contains(string(held), p.Session) || !strings.Contains(string(held), fmt.Sprint(uint64(api.LockFlagValue))) {
		t.Fatalf("the child saw the lock key as:\n%s\nwant session %s", held, p.Session)
	}

	// A second one gives up after its timeout.
	start := time.Now()
	out, code := a.runCLI("lock", "-http-addr="+a.HTTPAddr, "-timeout=1s", "app/job", "touch "+file("second"))
	if code != 1 || !strings.Contains(out, "Shutdown triggered or timeout during lock acquisition") || fileExists(file("second")) == nil {
		t.Fatalf("second lock: exit %d: %s", code, out)
	}
	if d := time.Since(start); d < time.Second || d > 10*time.Second {
		t.Errorf("second lock gave up after %v, want about 1s", d)
	}

	if err := os.WriteFile(file("release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("first lock: exit %d:\n%s", code, first.Output())
	}
	if p, _, err := c.KV().Get("app/job/.lock", consistent); err != nil || p != nil {
		t.Fatalf("lock key left after the lock ended: %+v %v", p, err)
	}
	noSessionsLeft(t, c)

	// With -n=2, two children run at once, and a third waits.
	one := startLockCLI(t, a, "-n=2", "app/pool", waitScript(file("one"), file("release-pool")))
	two := startLockCLI(t, a, "-n=2", "app/pool", waitScript(file("two"), file("release-pool")))
	testutil.Retry(t, 20*time.Second, "both holders' children run", func() error { return errors.Join(fileExists(file("one")), fileExists(file("two"))) })
	out, code = a.runCLI("lock", "-n=2", "-timeout=1s", "app/pool", "touch "+file("three"))
	if code != 1 || fileExists(file("three")) == nil {
		t.Fatalf("third holder of a 2-semaphore: exit %d: %s", code, out)
	}
	if err := os.WriteFile(file("release-pool"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*lockCLI{one, two} {
		if code := l.wait(t); code != 0 {
			t.Fatalf("-n=2 lock: exit %d:\n%s", code, l.Output())
		}
	}
	// The last one out deletes the semaphore's .lock; the one that timed
	// out took its contender key with its session.
	if pairs, _, err := c.KV().List("app/", consistent); err != nil || len(pairs) > 0 {
		for _, p := range pairs {
			t.Errorf("left: %s session %q", p.Key, p.Session)
		}
		t.Fatalf("keys left under app/: %d, %v", len(pairs), err)
	}
	noSessionsLeft(t, c)
}

// noSessionsLeft checks that every `consul lock` destroyed its session
// before it exited.
func noSessionsLeft(t *testing.T, c *api.Client) {
	t.Helper()
	sessions, _, err := c.Session().List(consistent)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		t.Errorf("session left: %s %q", s.ID, s.Name)
	}
}
