package agent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

// createSession creates a session once the agent's node is in the
// catalog (the leader registers it shortly after the election).
func createSession(t *testing.T, c *api.Client, se *api.SessionEntry) string {
	t.Helper()
	var id string
	testutil.Until(t, 10*time.Second, "a session is created", func() bool {
		var err error
		id, _, err = c.Session().Create(se, nil)
		return err == nil
	})
	return id
}

func TestSessionCreateReadRenewDestroy(t *testing.T) {
	_, c := testAgent(t)
	id := createSession(t, c, &api.SessionEntry{Name: "web-lock", TTL: "30s"})

	info, meta, err := c.Session().Info(id, nil)
	if err != nil || info == nil {
		t.Fatalf("info: %v %v", info, err)
	}
	if info.Name != "web-lock" || info.Node != "agent-test" || info.Behavior != "release" || info.TTL != "30s" ||
		info.LockDelay != 15*time.Second || len(info.NodeChecks) != 1 || info.NodeChecks[0] != "serfHealth" {
		t.Fatalf("defaults not applied: %+v", info)
	}
	if meta.LastIndex == 0 || info.CreateIndex == 0 {
		t.Fatalf("index missing: meta %d create %d", meta.LastIndex, info.CreateIndex)
	}

	list, _, err := c.Session().List(nil)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("list = %v, %v", list, err)
	}
	byNode, _, err := c.Session().Node("agent-test", nil)
	if err != nil || len(byNode) != 1 {
		t.Fatalf("node sessions = %v, %v", byNode, err)
	}
	if other, _, err := c.Session().Node("elsewhere", nil); err != nil || len(other) != 0 {
		t.Fatalf("sessions of another node = %v, %v", other, err)
	}

	renewed, _, err := c.Session().Renew(id, nil)
	if err != nil || renewed == nil || renewed.ID != id || renewed.TTL != "30s" {
		t.Fatalf("renew = %+v, %v", renewed, err)
	}

	if _, err := c.Session().Destroy(id, nil); err != nil {
		t.Fatal(err)
	}
	if info, _, err := c.Session().Info(id, nil); err != nil || info != nil {
		t.Fatalf("destroyed session still readable: %+v %v", info, err)
	}
	if renewed, _, err := c.Session().Renew(id, nil); err != nil || renewed != nil {
		t.Fatalf("renewing a destroyed session = %+v, %v; want nil (404)", renewed, err)
	}
	// Destroying again is not an error, as in Consul.
	if _, err := c.Session().Destroy(id, nil); err != nil {
		t.Fatal(err)
	}
}

// TestSessionHTTPShapes checks what curl sees: status codes, the empty
// lists, the renew 404 text and the LockDelay forms.
func TestSessionHTTPShapes(t *testing.T) {
	a, c := testAgent(t)
	createSession(t, c, &api.SessionEntry{}) // waits for the node
	base := "http://" + a.HTTPAddr()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		r := doHTTP(t, method, base+path, "", []byte(body))
		return r.status, strings.TrimSpace(string(r.body))
	}
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/v1/session/info/nope", "", 200, "[]"},
		{"GET", "/v1/session/node/elsewhere", "", 200, "[]"},
		{"PUT", "/v1/session/renew/nope", "", 404, "Session id 'nope' not found"},
		{"PUT", "/v1/session/destroy/", "", 400, "Missing session"},
		{"GET", "/v1/session/create", "", 405, ""},
		{"PUT", "/v1/session/create", `{"TTL":"1s"}`, 400, "Invalid Session TTL '1000000000', must be between [10s=24h0m0s]"},
		{"PUT", "/v1/session/create", `{"TTL":"soon"}`, 400, "Session TTL 'soon' invalid"},
		{"PUT", "/v1/session/create", `{"Behavior":"explode"}`, 400, "Invalid Behavior setting 'explode'"},
		{"PUT", "/v1/session/create", `{"Node":"ghost"}`, 400, "Missing node registration"},
		{"PUT", "/v1/session/create", `{"NodeChecks":["nope"]}`, 400, "Missing check 'nope' registration"},
		{"PUT", "/v1/session/create", `{"Name":`, 400, "Request decode failed"},
		{"PUT", "/v1/session/create", `{"LockDelay":"soon"}`, 400, "Request decode failed"},
	}
	for _, tc := range cases {
		status, body := do(tc.method, tc.path, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %d %q, want %d containing %q", tc.method, tc.path, tc.body, status, body, tc.status, tc.want)
		}
	}

	for body, want := range map[string]time.Duration{
		`{"LockDelay":"2s"}`:       2 * time.Second,
		`{"LockDelay":"1500ms"}`:   1500 * time.Millisecond,
		`{"LockDelay":5}`:          5 * time.Second,
		`{"LockDelay":3000000000}`: 3 * time.Second,
		`{"LockDelay":0}`:          0,
	} {
		status, out := do("PUT", "/v1/session/create", body)
		var created struct{ ID string }
		if status != 200 || json.Unmarshal([]byte(out), &created) != nil {
			t.Fatalf("%s: %d %s", body, status, out)
		}
		info, _, err := c.Session().Info(created.ID, nil)
		if err != nil || info.LockDelay != want {
			t.Errorf("%s: LockDelay %v, want %v (%v)", body, info.LockDelay, want, err)
		}
	}

	// Checks, the legacy field, adds to NodeChecks; an empty list means
	// no checks at all.
	status, out := do("PUT", "/v1/session/create", `{"Checks":[]}`)
	var created struct{ ID string }
	if status != 200 || json.Unmarshal([]byte(out), &created) != nil {
		t.Fatalf("no checks: %d %s", status, out)
	}
	if info, _, _ := c.Session().Info(created.ID, nil); len(info.NodeChecks) != 0 {
		t.Fatalf("Checks [] left NodeChecks %v", info.NodeChecks)
	}
}

func TestKVAcquireRelease(t *testing.T) {
	_, c := testAgent(t)
	kv := c.KV()
	s1 := createSession(t, c, &api.SessionEntry{LockDelay: time.Nanosecond})
	s2 := createSession(t, c, &api.SessionEntry{})

	ok, _, err := kv.Acquire(&api.KVPair{Key: "lock", Value: []byte("one")}, nil)
	if err == nil || ok {
		t.Fatalf("acquire without a session = %v, %v; want an error", ok, err)
	}
	if ok, _, err := kv.Acquire(&api.KVPair{Key: "lock", Session: "no-such-session"}, nil); err == nil || ok {
		t.Fatalf("acquire with an unknown session = %v, %v; want an error", ok, err)
	}
	mustAcquire := func(session string, want bool) {
		t.Helper()
		ok, _, err := kv.Acquire(&api.KVPair{Key: "lock", Value: []byte(session[:4]), Session: session}, nil)
		if err != nil || ok != want {
			t.Fatalf("acquire by %s = %v, %v; want %v", session, ok, err, want)
		}
	}
	mustAcquire(s1, true)
	mustAcquire(s1, true) // again: still held, LockIndex unchanged
	mustAcquire(s2, false)
	pair, _, _ := kv.Get("lock", nil)
	if pair.Session != s1 || pair.LockIndex != 1 || string(pair.Value) != s1[:4] {
		t.Fatalf("after acquire: %+v", pair)
	}
	// A plain write keeps the holder.
	if _, err := kv.Put(&api.KVPair{Key: "lock", Value: []byte("plain")}, nil); err != nil {
		t.Fatal(err)
	}
	if pair, _, _ := kv.Get("lock", nil); pair.Session != s1 {
		t.Fatalf("a plain write dropped the holder: %+v", pair)
	}
	if ok, _, err := kv.Release(&api.KVPair{Key: "lock", Session: s2}, nil); err != nil || ok {
		t.Fatalf("release by a non-holder = %v, %v", ok, err)
	}
	if ok, _, err := kv.Release(&api.KVPair{Key: "lock", Value: []byte("freed"), Session: s1}, nil); err != nil || !ok {
		t.Fatalf("release by the holder = %v, %v", ok, err)
	}
	pair, _, _ = kv.Get("lock", nil)
	if pair.Session != "" || pair.LockIndex != 1 || string(pair.Value) != "freed" {
		t.Fatalf("after release: %+v", pair)
	}
	mustAcquire(s2, true)
	if pair, _, _ := kv.Get("lock", nil); pair.LockIndex != 2 {
		t.Fatalf("LockIndex after a second holder = %d, want 2", pair.LockIndex)
	}
}

// TestSessionInvalidation covers every way a session ends and what it
// does to its keys: release keeps them unlocked, delete removes them,
// and the lock delay holds back the next acquire.
func TestSessionInvalidation(t *testing.T) {
	_, c := testAgent(t)
	kv := c.KV()
	hold := func(session, key string) {
		t.Helper()
		if ok, _, err := kv.Acquire(&api.KVPair{Key: key, Session: session}, nil); err != nil || !ok {
			t.Fatalf("acquire %s = %v, %v", key, ok, err)
		}
	}

	// Destroy, behavior release, with a lock delay.
	rel := createSession(t, c, &api.SessionEntry{LockDelay: 2 * time.Second})
	hold(rel, "held/release")
	if _, err := c.Session().Destroy(rel, nil); err != nil {
		t.Fatal(err)
	}
	pair, _, _ := kv.Get("held/release", nil)
	if pair == nil || pair.Session != "" {
		t.Fatalf("release behavior: %+v", pair)
	}
	next := createSession(t, c, &api.SessionEntry{})
	destroyedAt := time.Now()
	if ok, _, err := kv.Acquire(&api.KVPair{Key: "held/release", Session: next}, nil); err != nil || ok {
		t.Fatalf("acquire during the lock delay = %v, %v; want false", ok, err)
	}
	testutil.Until(t, 10*time.Second, "the lock is acquired after the lock delay", func() bool {
		ok, _, err := kv.Acquire(&api.KVPair{Key: "held/release", Session: next}, nil)
		return err == nil && ok
	})
	if waited := time.Since(destroyedAt); waited < time.Second {
		t.Fatalf("lock delay of 2s let the lock go after %v", waited)
	}

	// Destroy, behavior delete.
	del := createSession(t, c, &api.SessionEntry{Behavior: api.SessionBehaviorDelete, LockDelay: time.Nanosecond})
	hold(del, "held/delete")
	if _, err := c.Session().Destroy(del, nil); err != nil {
		t.Fatal(err)
	}
	if pair, _, _ := kv.Get("held/delete", nil); pair != nil {
		t.Fatalf("delete behavior kept %+v", pair)
	}

	// A check going critical.
	if _, err := c.Catalog().Register(&api.CatalogRegistration{Node: "worker", Address: "10.0.0.9",
		Check: &api.AgentCheck{CheckID: "disk", Name: "disk", Status: api.HealthPassing}}, nil); err != nil {
		t.Fatal(err)
	}
	bound := createSession(t, c, &api.SessionEntry{Node: "worker", NodeChecks: []string{"disk"}, LockDelay: time.Nanosecond})
	unbound, _, err := c.Session().CreateNoChecks(&api.SessionEntry{Node: "worker", LockDelay: time.Nanosecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hold(bound, "held/check")
	if _, err := c.Catalog().Register(&api.CatalogRegistration{Node: "worker", Address: "10.0.0.9", SkipNodeUpdate: true,
		Check: &api.AgentCheck{CheckID: "disk", Name: "disk", Status: api.HealthCritical}}, nil); err != nil {
		t.Fatal(err)
	}
	if info, _, _ := c.Session().Info(bound, nil); info != nil {
		t.Fatal("a session outlived its critical check")
	}
	if info, _, _ := c.Session().Info(unbound, nil); info == nil {
		t.Fatal("a session with no checks was invalidated by a check")
	}
	if pair, _, _ := kv.Get("held/check", nil); pair == nil || pair.Session != "" {
		t.Fatalf("critical check left the lock: %+v", pair)
	}
	// A critical check refuses new sessions.
	if _, _, err := c.Session().Create(&api.SessionEntry{Node: "worker", NodeChecks: []string{"disk"}}, nil); err == nil ||
		!strings.Contains(err.Error(), "Check 'disk' is in critical state") {
		t.Fatalf("session on a critical check: %v", err)
	}

	// The node deregistered.
	hold(unbound, "held/node")
	if _, err := c.Catalog().Deregister(&api.CatalogDeregistration{Node: "worker"}, nil); err != nil {
		t.Fatal(err)
	}
	if info, _, _ := c.Session().Info(unbound, nil); info != nil {
		t.Fatal("a session outlived its node")
	}
	if pair, _, _ := kv.Get("held/node", nil); pair == nil || pair.Session != "" {
		t.Fatalf("node deregistration left the lock: %+v", pair)
	}
}

// TestSessionTTLExpiry lets a TTL session lapse: after 2 × TTL without
// renewal the leader invalidates it and its lock is released; renewing
// keeps it alive meanwhile.
func TestSessionTTLExpiry(t *testing.T) {
	_, c := testAgent(t, withConfig(func(cfg *config.Config) { cfg.SessionTTLMin = 100 * time.Millisecond }))
	kv := c.KV()
	lapsing := createSession(t, c, &api.SessionEntry{TTL: "500ms", LockDelay: time.Nanosecond})
	renewed := createSession(t, c, &api.SessionEntry{TTL: "500ms", LockDelay: time.Nanosecond})
	for key, s := range map[string]string{"ttl/lapsing": lapsing, "ttl/renewed": renewed} {
		if ok, _, err := kv.Acquire(&api.KVPair{Key: key, Session: s}, nil); err != nil || !ok {
			t.Fatalf("acquire %s = %v, %v", key, ok, err)
		}
	}
	start := time.Now()
	testutil.Until(t, 10*time.Second, "the unrenewed session lapses", func() bool {
		if _, _, err := c.Session().Renew(renewed, nil); err != nil {
			t.Fatal(err)
		}
		pair, _, err := kv.Get("ttl/lapsing", nil)
		return err == nil && pair != nil && pair.Session == ""
	})
	if lapsed := time.Since(start); lapsed < 500*time.Millisecond {
		t.Fatalf("a 500ms TTL session expired after %v; Consul's grace is 2 × TTL", lapsed)
	}
	if info, _, _ := c.Session().Info(lapsing, nil); info != nil {
		t.Fatal("the lapsed session is still there")
	}
	if pair, _, _ := kv.Get("ttl/renewed", nil); pair.Session != renewed {
		t.Fatalf("the renewed session lost its lock: %+v", pair)
	}
}

func TestTxnLockVerbs(t *testing.T) {
	_, c := testAgent(t)
	s1 := createSession(t, c, &api.SessionEntry{LockDelay: time.Minute})
	s2 := createSession(t, c, &api.SessionEntry{})
	txn := func(ops ...*api.TxnOp) (bool, []string) {
		t.Helper()
		ok, resp, _, err := c.Txn().Txn(api.TxnOps(ops), nil)
		if err != nil {
			t.Fatal(err)
		}
		var errs []string
		for _, e := range resp.Errors {
			errs = append(errs, e.What)
		}
		return ok, errs
	}
	kvOp := func(verb api.KVOp, session string) *api.TxnOp {
		return &api.TxnOp{KV: &api.KVTxnOp{Verb: verb, Key: "txn/lock", Value: []byte("v"), Session: session}}
	}

	if ok, errs := txn(kvOp(api.KVLock, s1), kvOp(api.KVCheckSession, s1)); !ok {
		t.Fatalf("lock + check-session: %v", errs)
	}
	for _, tc := range []struct {
		op   *api.TxnOp
		want string
	}{
		{kvOp(api.KVLock, s2), `failed to lock key "txn/lock", lock is already held`},
		{kvOp(api.KVUnlock, s2), `failed to unlock key "txn/lock", lock isn't held, or is held by another session`},
		{kvOp(api.KVCheckSession, s2), `failed session check for key "txn/lock", current session "` + s1 + `" != "` + s2 + `"`},
		{kvOp(api.KVLock, "nope"), `invalid session "nope"`},
	} {
		if ok, errs := txn(tc.op); ok || len(errs) != 1 || errs[0] != tc.want {
			t.Errorf("%s by %s: ok %v, errors %q; want %q", tc.op.KV.Verb, tc.op.KV.Session, ok, errs, tc.want)
		}
	}
	if ok, errs := txn(kvOp(api.KVUnlock, s1)); !ok {
		t.Fatalf("unlock by the holder: %v", errs)
	}
	// The lock delay applies to txn locks too.
	if ok, errs := txn(kvOp(api.KVLock, s1)); !ok {
		t.Fatalf("relock: %v", errs)
	}
	if _, err := c.Session().Destroy(s1, nil); err != nil {
		t.Fatal(err)
	}
	want := `failed to lock key "txn/lock" due to lock delay`
	if ok, errs := txn(kvOp(api.KVLock, s2)); ok || len(errs) != 1 || errs[0] != want {
		t.Fatalf("lock during the delay: ok %v, errors %q; want %q", ok, errs, want)
	}
}

// TestSessionReadsBlock: a session read with ?index waits for a change
// and wakes on it.
func TestSessionReadsBlock(t *testing.T) {
	_, c := testAgent(t)
	first := createSession(t, c, &api.SessionEntry{})
	_, meta, err := c.Session().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []*api.SessionEntry, 1)
	go func() {
		list, _, err := c.Session().List(&api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 30 * time.Second})
		if err != nil {
			list = nil
		}
		done <- list
	}()
	select {
	case list := <-done:
		t.Fatalf("the blocking read returned before any change: %v", list)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := c.Session().Destroy(first, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case list := <-done:
		if list == nil || len(list) != 0 {
			t.Fatalf("woken read = %v", list)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking read did not wake on the destroy")
	}
}
