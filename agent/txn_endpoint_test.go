package agent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestTxnWithAPIClient(t *testing.T) {
	a, c := testAgent(t)
	ops := api.TxnOps{
		{KV: &api.KVTxnOp{Verb: api.KVSet, Key: "t/a", Value: []byte("1")}},
		{KV: &api.KVTxnOp{Verb: api.KVSet, Key: "t/b", Value: []byte("2")}},
		{KV: &api.KVTxnOp{Verb: api.KVGet, Key: "t/a"}},
	}
	ok, resp, _, err := c.Txn().Txn(ops, nil)
	if err != nil || !ok || len(resp.Results) != 3 {
		t.Fatalf("ok=%v resp=%+v err=%v", ok, resp, err)
	}
	if resp.Results[0].KV.Value != nil || string(resp.Results[2].KV.Value) != "1" {
		t.Fatalf("results %+v %+v", resp.Results[0].KV, resp.Results[2].KV)
	}
	// A failing check rolls the whole transaction back, with a 409.
	idx := resp.Results[0].KV.ModifyIndex
	bad := api.TxnOps{
		{KV: &api.KVTxnOp{Verb: api.KVSet, Key: "t/c", Value: []byte("3")}},
		{KV: &api.KVTxnOp{Verb: api.KVCheckIndex, Key: "t/a", Index: idx + 1}},
	}
	ok, resp, _, err = c.Txn().Txn(bad, nil)
	if err != nil || ok || len(resp.Errors) != 1 || resp.Errors[0].OpIndex != 1 {
		t.Fatalf("ok=%v resp=%+v err=%v", ok, resp, err)
	}
	if p, _, _ := c.KV().Get("t/c", nil); p != nil {
		t.Fatal("rolled-back write is visible")
	}
	// Read-only transactions are answered too.
	ok, resp, _, err = c.Txn().Txn(api.TxnOps{{KV: &api.KVTxnOp{Verb: api.KVGetTree, Key: "t/"}}}, nil)
	if err != nil || !ok || len(resp.Results) != 2 {
		t.Fatalf("read txn: ok=%v resp=%+v err=%v", ok, resp, err)
	}

	base := "http://" + a.HTTPAddr() + "/v1/txn"
	many := make([]string, 65)
	for i := range many {
		many[i] = fmt.Sprintf(`{"KV":{"Verb":"set","Key":"k%d"}}`, i)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{"not json", 400},
		{"[" + strings.Join(many, ",") + "]", 413},
		{`[{"Node":{"Verb":"set"}}]`, 400},
		{`[{"KV":{"Verb":"frobnicate","Key":"x"}}]`, 409},
	} {
		if r := doHTTP(t, "PUT", base, "", []byte(tc.body)); r.status != tc.status {
			t.Errorf("%.40s: status %d, want %d", tc.body, r.status, tc.status)
		}
	}
}

func TestStatusAndSelf(t *testing.T) {
	_, c := testAgent(t)
	leader, err := c.Status().Leader()
	if err != nil || leader == "" {
		t.Fatalf("leader %q %v", leader, err)
	}
	peers, err := c.Status().Peers()
	if err != nil || len(peers) != 1 || peers[0] != leader {
		t.Fatalf("peers %v %v", peers, err)
	}
	name, err := c.Agent().NodeName()
	if err != nil || name != "agent-test" {
		t.Fatalf("node name %q %v", name, err)
	}
	self, err := c.Agent().Self()
	if err != nil || self["Config"]["Datacenter"] != "dc1" || self["Config"]["Version"] != Version {
		t.Fatalf("self %v %v", self, err)
	}
}
