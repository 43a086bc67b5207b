package agent

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

func saveSnapshot(t *testing.T, c *api.Client) []byte {
	t.Helper()
	r, _, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	archive, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return archive
}

func holder(t *testing.T, c *api.Client, key string) (string, bool) {
	t.Helper()
	pair, _, err := c.KV().Get(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pair == nil {
		return "", false
	}
	return pair.Session, true
}

// TestSessionsAndLocksSurviveRestoreWithFreshTTL restores into the same
// agent a snapshot holding a TTL session and its lock. The lock is held
// again by that session, and its TTL counts from the restore: the timer
// armed by the last renewal before the restore, which would fire soon
// after it, is gone.
func TestSessionsAndLocksSurviveRestoreWithFreshTTL(t *testing.T) {
	_, c := testAgent(t, withConfig(func(cfg *config.Config) { cfg.SessionTTLMin = 100 * time.Millisecond }))
	const ttl = time.Second
	sid := createSession(t, c, &api.SessionEntry{TTL: ttl.String(), LockDelay: time.Nanosecond})
	if ok, _, err := c.KV().Acquire(&api.KVPair{Key: "lock/a", Session: sid}, nil); err != nil || !ok {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	archive := saveSnapshot(t, c)

	// The session lives on through renewals, then stops renewing: its
	// timer now fires 2×TTL after lastRenew.
	for end := time.Now().Add(2 * ttl); time.Now().Before(end); time.Sleep(ttl / 4) {
		if se, _, err := c.Session().Renew(sid, nil); err != nil || se == nil {
			t.Fatalf("renew = %v, %v", se, err)
		}
	}
	lastRenew := time.Now()
	time.Sleep(3 * ttl / 2)
	if err := c.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	restoredAt := time.Now()
	if got, _ := holder(t, c, "lock/a"); got != sid {
		t.Fatalf("after restore lock/a is held by %q, want %q", got, sid)
	}

	// The old timer would have fired at lastRenew+2×TTL, half a TTL after
	// the restore; a fresh one fires 2×TTL after it.
	time.Sleep(lastRenew.Add(2*ttl + 7*ttl/10).Sub(time.Now()))
	if se, _, err := c.Session().Info(sid, nil); err != nil || se == nil {
		t.Fatalf("the session expired %v after the restore: its TTL was not counted afresh (%v)", time.Since(restoredAt), err)
	}
	testutil.Until(t, 10*time.Second, "the restored session expires", func() bool {
		got, exists := holder(t, c, "lock/a")
		return exists && got == ""
	})
	if lived := time.Since(restoredAt); lived < 2*ttl {
		t.Fatalf("the restored session expired after %v, before 2×TTL", lived)
	}
}

// TestRestoreIntoFreshClusterInvalidatesStrangersSessions restores a
// snapshot into an agent of another name. The restored catalog holds the
// old agent's node with its serfHealth check; the new leader deregisters
// that node, not a Serf member here, and with it its sessions: their
// locks are released (behavior release) or their keys deleted (behavior
// delete). A session on a node registered through the catalog, which has
// no serfHealth check, is not the leader's to reap and keeps its lock.
func TestRestoreIntoFreshClusterInvalidatesStrangersSessions(t *testing.T) {
	_, old := testAgent(t)
	rel := createSession(t, old, &api.SessionEntry{LockDelay: time.Nanosecond})
	del := createSession(t, old, &api.SessionEntry{Behavior: api.SessionBehaviorDelete, LockDelay: time.Nanosecond})
	if _, err := old.Catalog().Register(&api.CatalogRegistration{Node: "external", Address: "10.0.0.7"}, nil); err != nil {
		t.Fatal(err)
	}
	ext, _, err := old.Session().CreateNoChecks(&api.SessionEntry{Node: "external"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, sid := range map[string]string{"lock/rel": rel, "lock/del": del, "lock/ext": ext} {
		if ok, _, err := old.KV().Acquire(&api.KVPair{Key: key, Session: sid}, nil); err != nil || !ok {
			t.Fatalf("acquire %s = %v, %v", key, ok, err)
		}
	}
	archive := saveSnapshot(t, old)

	_, fresh := testAgent(t, withConfig(func(cfg *config.Config) { cfg.NodeName = "agent-fresh" }))
	if err := fresh.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	testutil.Until(t, 10*time.Second, "only the external session is left", func() bool {
		list, _, err := fresh.Session().List(nil)
		return err == nil && len(list) == 1 && list[0].ID == ext
	})
	if got, exists := holder(t, fresh, "lock/rel"); !exists || got != "" {
		t.Fatalf("lock/rel: exists %v, holder %q; want released", exists, got)
	}
	if _, exists := holder(t, fresh, "lock/del"); exists {
		t.Fatal("lock/del survived the invalidation of its delete-behavior session")
	}
	if got, _ := holder(t, fresh, "lock/ext"); got != ext {
		t.Fatalf("lock/ext is held by %q, want %q", got, ext)
	}
}
