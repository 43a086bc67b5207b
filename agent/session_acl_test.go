package agent

import (
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestACLSessionRules: session rules decide who may create, renew,
// destroy and see a session, per node; locking a key needs key write.
func TestACLSessionRules(t *testing.T) {
	a, root := testAgent(t, withACLs())
	for _, node := range []string{"n1", "n2"} {
		if _, err := root.Catalog().Register(&api.CatalogRegistration{Node: node, Address: "10.0.0.1"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	writer := clientWithToken(t, a, tokenWithRules(t, root, "n1-sessions", `session_prefix "n1" { policy = "write" }
key_prefix "locks/" { policy = "write" }`))
	reader := clientWithToken(t, a, tokenWithRules(t, root, "n2-read", `session "n2" { policy = "read" }`))

	mine, _, err := writer.Session().CreateNoChecks(&api.SessionEntry{Node: "n1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := writer.Session().CreateNoChecks(&api.SessionEntry{Node: "n2"}, nil); !is403(err) {
		t.Fatalf("create on a node without session write: %v", err)
	}
	theirs, _, err := root.Session().CreateNoChecks(&api.SessionEntry{Node: "n2"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	if ok, _, err := writer.KV().Acquire(&api.KVPair{Key: "locks/x", Session: mine}, nil); err != nil || !ok {
		t.Fatalf("acquire with key write: %v %v", ok, err)
	}
	if _, _, err := writer.KV().Acquire(&api.KVPair{Key: "other/x", Session: mine}, nil); !is403(err) {
		t.Fatalf("acquire without key write: %v", err)
	}
	if _, _, err := reader.KV().Release(&api.KVPair{Key: "locks/x", Session: mine}, nil); !is403(err) {
		t.Fatalf("release without key write: %v", err)
	}

	list, meta, err := reader.Session().List(nil)
	if err != nil || len(list) != 1 || list[0].ID != theirs || !meta.ResultsFilteredByACLs {
		t.Fatalf("reader's list = %v (filtered %v), %v", list, meta.ResultsFilteredByACLs, err)
	}
	if se, _, err := reader.Session().Info(mine, nil); err != nil || se != nil {
		t.Fatalf("reader sees a session of n1: %+v %v", se, err)
	}
	if _, _, err := reader.Session().Renew(theirs, nil); !is403(err) {
		t.Fatalf("renew with session read: %v", err)
	}
	if _, err := reader.Session().Destroy(theirs, nil); !is403(err) {
		t.Fatalf("destroy with session read: %v", err)
	}
	if _, err := writer.Session().Destroy(mine, nil); err != nil {
		t.Fatal(err)
	}
	if pair, _, _ := root.KV().Get("locks/x", nil); pair == nil || pair.Session != "" {
		t.Fatalf("destroying the session left %+v", pair)
	}
}
