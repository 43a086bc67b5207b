package state

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
)

func TestSessionCreateNeedsALiveNodeAndChecks(t *testing.T) {
	s := testStore(t)
	register(t, s, 1, &structs.RegisterRequest{Node: "n1", Address: "10.0.0.1", Checks: structs.HealthChecks{
		{CheckID: "ok", Status: structs.HealthPassing},
		{CheckID: "down", Status: structs.HealthCritical},
	}})
	for _, tc := range []struct {
		sess structs.Session
		want string
	}{
		{structs.Session{ID: "a", Node: "ghost"}, "Missing node registration"},
		{structs.Session{ID: "a", Node: "n1", NodeChecks: []string{"nope"}}, "Missing check 'nope' registration"},
		{structs.Session{ID: "a", Node: "n1", NodeChecks: []string{"ok", "down"}}, "Check 'down' is in critical state"},
		{structs.Session{ID: "a", Node: "n1", ServiceChecks: []structs.ServiceCheck{{ID: "down"}}}, "Check 'down' is in critical state"},
		{structs.Session{Node: "n1"}, "Missing session ID"},
	} {
		err := s.SessionCreate(2, &tc.sess)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.sess, err, tc.want)
		}
	}
	if _, list, _ := s.SessionList(nil, ""); len(list) != 0 {
		t.Fatalf("refused sessions were stored: %v", list)
	}
	if err := s.SessionCreate(3, &structs.Session{ID: "a", Node: "n1", NodeChecks: []string{"ok"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SessionCreate(4, &structs.Session{ID: "a", Node: "n1"}); err == nil {
		t.Fatal("a second session with the same ID was stored")
	}
}

// TestRestoreRepairsOrphans feeds Restore a dump no store could have
// written: a session whose node is not in the dump, and a key locked by a
// session that is not in it, and a query bound to that missing session.
// The session and the query are dropped and the lock freed, so nothing is
// left that no one can release.
func TestRestoreRepairsOrphans(t *testing.T) {
	var buf bytes.Buffer
	enc, err := snapshot.NewStateEncoder(&buf, structs.SnapshotHeader{LastIndex: 9})
	if err != nil {
		t.Fatal(err)
	}
	records := []struct {
		t   structs.MessageType
		rec interface{}
	}{
		{structs.RegisterRequestType, &structs.RegisterRequest{Node: "n1", Address: "10.0.0.1"}},
		{structs.SessionRequestType, &structs.Session{ID: "alive", Node: "n1"}},
		{structs.SessionRequestType, &structs.Session{ID: "nodeless", Node: "gone"}},
		{structs.PreparedQueryRequestType, &structs.PreparedQuery{ID: "kept", Session: "alive"}},
		{structs.PreparedQueryRequestType, &structs.PreparedQuery{ID: "dropped", Session: "nodeless"}},
		{structs.KVSRequestType, &structs.DirEntry{Key: "held", Session: "alive", LockIndex: 1}},
		{structs.KVSRequestType, &structs.DirEntry{Key: "orphan", Session: "nodeless", LockIndex: 1}},
		{structs.KVSRequestType, &structs.DirEntry{Key: "ghost", Session: "never-existed", LockIndex: 3}},
	}
	for _, r := range records {
		if err := enc.Record(r.t, r.rec); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err := Restore(&buf)
	if err != nil {
		t.Fatal(err)
	}
	_, sessions, _ := s.SessionList(nil, "")
	if len(sessions) != 1 || sessions[0].ID != "alive" {
		t.Fatalf("sessions after restore: %v", sessions)
	}
	if _, queries, _ := s.PreparedQueryList(nil); len(queries) != 1 || queries[0].ID != "kept" {
		t.Fatalf("queries after restore: %+v", queries)
	}
	want := map[string]string{"held": "alive", "orphan": "", "ghost": ""}
	for key, holder := range want {
		_, e, _ := s.KVSGet(nil, key)
		if e == nil || e.Session != holder {
			t.Errorf("%s: %+v, want holder %q", key, e, holder)
		}
	}
	// The repaired store still knows its exact dump size.
	dump(t, s, 9)
}

// TestInvalidatedSessionLeavesLockDelay: the keys of an invalidated
// session carry its lock delay, capped at MaxLockDelay; a session without
// one leaves none.
func TestInvalidatedSessionLeavesLockDelay(t *testing.T) {
	s := testStore(t)
	register(t, s, 1, &structs.RegisterRequest{Node: "n1", Address: "10.0.0.1"})
	for i, sess := range []*structs.Session{
		{ID: "long", Node: "n1", LockDelay: 10 * structs.MaxLockDelay},
		{ID: "none", Node: "n1"},
	} {
		idx := uint64(10 * (i + 1))
		if err := s.SessionCreate(idx, sess); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.KVSLock(idx+1, &structs.DirEntry{Key: sess.ID, Session: sess.ID}); err != nil || !ok {
			t.Fatalf("lock %s: %v %v", sess.ID, ok, err)
		}
		if err := s.SessionDestroy(idx+2, sess.ID); err != nil {
			t.Fatal(err)
		}
	}
	until := s.KVSLockDelay("long")
	if left := until.Sub(time.Now()); left <= structs.MaxLockDelay-5*time.Second || left > structs.MaxLockDelay {
		t.Fatalf("lock delay left %v, want about %v", left, structs.MaxLockDelay)
	}
	if !s.KVSLockDelay("none").IsZero() {
		t.Fatal("a session without a lock delay left one")
	}
}
