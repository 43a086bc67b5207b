package consul

import (
	"errors"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/consulcompat/consul/structs"
)

// TestClusterSessionsAndQueriesThroughFollower drives sessions, locks and
// prepared queries through a follower: every call is forwarded to the
// leader over msgpack-RPC and comes back with its reply and error kinds
// intact, and the TTL timer lives on the leader.
func TestClusterSessionsAndQueriesThroughFollower(t *testing.T) {
	_, servers := formedCluster(t, 3)
	leader, follower := servers[0], servers[1]
	call := func(method string, args, reply interface{}) {
		t.Helper()
		if err := follower.RPC(method, args, reply); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	var none struct{}
	call("Catalog.Register", &structs.RegisterRequest{Node: "app-1", Address: "10.0.0.5",
		Service: &structs.NodeService{ID: "web-1", Service: "web", Port: 80}}, &none)

	var sid string
	call("Session.Apply", &structs.SessionRequest{Op: structs.SessionCreate,
		Session: structs.Session{Node: "app-1", TTL: "30s", Behavior: structs.SessionKeysRelease}}, &sid)
	if leader.sessionTimers.armed() != 1 || follower.sessionTimers.armed() != 0 {
		t.Fatalf("timers: leader %d, follower %d; want 1, 0", leader.sessionTimers.armed(), follower.sessionTimers.armed())
	}
	var renewed structs.IndexedSessions
	call("Session.Renew", &structs.SessionSpecificRequest{SessionID: sid}, &renewed)
	if len(renewed.Sessions) != 1 || renewed.Sessions[0].TTL != "30s" {
		t.Fatalf("renew = %+v", renewed.Sessions)
	}
	var locked bool
	call("KVS.Apply", &structs.KVSRequest{Op: structs.KVLock, DirEnt: structs.DirEntry{Key: "leader", Session: sid}}, &locked)
	if !locked {
		t.Fatal("lock through a follower refused")
	}

	var qid string
	call("PreparedQuery.Apply", &structs.PreparedQueryRequest{Op: structs.PreparedQueryCreate,
		Query: &structs.PreparedQuery{Name: "web", Session: sid, Service: structs.ServiceQuery{Service: "web"}}}, &qid)
	var res structs.PreparedQueryExecuteResponse
	call("PreparedQuery.Execute", &structs.PreparedQueryExecuteRequest{QueryIDOrName: "web"}, &res)
	if len(res.Nodes) != 1 || res.Nodes[0].Service.ID != "web-1" || res.Nodes[0].Node.Node != "app-1" {
		t.Fatalf("execute through a follower = %+v", res.Nodes)
	}
	err := follower.RPC("PreparedQuery.Execute", &structs.PreparedQueryExecuteRequest{QueryIDOrName: "nope"}, &res)
	if !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("unknown query through a follower: %v, want ErrNotFound", err)
	}

	call("Session.Apply", &structs.SessionRequest{Op: structs.SessionDestroy, Session: structs.Session{ID: sid}}, &sid)
	if leader.sessionTimers.armed() != 0 {
		t.Fatal("the destroyed session's timer still runs")
	}
	testutil.Retry(t, 15*time.Second, "the follower sees the lock released", func() error {
		e, err := localGet(follower, "leader")
		if err == nil && (e == nil || e.Session != "") {
			err = errors.New("lock still held on the follower")
		}
		return err
	})
	var queries structs.IndexedPreparedQueries
	call("PreparedQuery.List", &structs.DCSpecificRequest{}, &queries)
	if len(queries.Queries) != 0 {
		t.Fatalf("the session's query outlived it: %+v", queries.Queries)
	}
}
