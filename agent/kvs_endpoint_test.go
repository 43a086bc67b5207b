package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/consul/api"
)

func TestKVPutGetListDeleteWithAPIClient(t *testing.T) {
	_, c := testAgent(t)
	kv := c.KV()
	for _, k := range []string{"app/a", "app/b/c", "app/b/d", "other"} {
		if _, err := kv.Put(&api.KVPair{Key: k, Value: []byte("v-" + k), Flags: 42}, nil); err != nil {
			t.Fatal(err)
		}
	}
	p, meta, err := kv.Get("app/a", nil)
	if err != nil || p == nil {
		t.Fatalf("get: %v %v", p, err)
	}
	if string(p.Value) != "v-app/a" || p.Flags != 42 || meta.LastIndex == 0 || !meta.KnownLeader {
		t.Fatalf("pair %+v meta %+v", p, meta)
	}
	if p, _, err := kv.Get("missing", nil); err != nil || p != nil {
		t.Fatalf("missing key: %v %v", p, err)
	}
	pairs, _, err := kv.List("app/", nil)
	if err != nil || len(pairs) != 3 {
		t.Fatalf("list: %d %v", len(pairs), err)
	}
	keys, _, err := kv.Keys("app/", "/", nil)
	if err != nil || !reflect.DeepEqual(keys, []string{"app/a", "app/b/"}) {
		t.Fatalf("keys: %v %v", keys, err)
	}
	// CAS: a stale index loses, the current one wins.
	ok, _, err := kv.CAS(&api.KVPair{Key: "app/a", Value: []byte("x"), ModifyIndex: p.ModifyIndex + 1000}, nil)
	if err != nil || ok {
		t.Fatalf("stale cas: %v %v", ok, err)
	}
	ok, _, err = kv.CAS(&api.KVPair{Key: "app/a", Value: []byte("x"), ModifyIndex: p.ModifyIndex}, nil)
	if err != nil || !ok {
		t.Fatalf("cas: %v %v", ok, err)
	}
	if _, err := kv.DeleteTree("app/b/", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Delete("other", nil); err != nil {
		t.Fatal(err)
	}
	pairs, _, _ = kv.List("", nil)
	if len(pairs) != 1 || pairs[0].Key != "app/a" {
		t.Fatalf("after deletes: %+v", pairs)
	}
}

func TestKVRawAndHTTPDetails(t *testing.T) {
	a, c := testAgent(t)
	if _, err := c.KV().Put(&api.KVPair{Key: "raw", Value: []byte("<b>bytes</b>")}, nil); err != nil {
		t.Fatal(err)
	}
	base := "http://" + a.HTTPAddr()
	longest, tooLong := strings.Repeat("k", 8192), strings.Repeat("k", 8193)
	cases := []struct {
		method, path string
		body         string
		status       int
		want         string
	}{
		{"GET", "/v1/kv/raw?raw", "", 200, "<b>bytes</b>"},
		{"GET", "/v1/kv/nope", "", 404, ""},
		{"GET", "/v1/kv/nope?recurse", "", 404, ""},
		{"PUT", "/v1/kv/", "x", 400, "Missing key name"},
		{"PUT", "/v1/kv/big", string(make([]byte, 512*1024+1)), 413, "too large"},
		{"PUT", "/v1/kv/ok", string(make([]byte, 512*1024)), 200, "true"},
		{"PUT", "/v1/kv/f?flags=abc", "", 400, "Invalid flags"},
		{"PUT", "/v1/kv/c?cas=0", "", 200, "true"},
		{"PUT", "/v1/kv/c?cas=0", "", 200, "false"},
		{"GET", "/v1/kv/raw?index=abc", "", 400, "Invalid index"},
		{"GET", "/v1/kv/raw?wait=forever&index=1", "", 400, "Invalid wait"},
		{"GET", "/v1/kv/raw?stale&consistent", "", 400, "conflicting"},
		{"GET", "/v1/kv/raw?dc=dc2", "", 500, "No path to datacenter"},
		{"POST", "/v1/kv/raw", "", 405, ""},
		{"DELETE", "/v1/kv/c?cas=1", "", 200, "false"},
		{"DELETE", "/v1/kv/", "", 400, "Missing key name"},
		{"PUT", "/v1/kv/" + longest, "x", 200, "true"},
		{"PUT", "/v1/kv/" + tooLong, "x", 400, "Key is too long (8193 > 8192 bytes)"},
		{"PUT", "/v1/kv/" + tooLong + "?cas=0", "x", 400, "Key is too long"},
		{"PUT", "/v1/txn", `[{"KV":{"Verb":"set","Key":"` + tooLong + `"}}]`, 400, "Key is too long"},
		{"GET", "/v1/kv/" + tooLong, "", 404, ""},
		{"DELETE", "/v1/kv/" + tooLong, "", 200, "true"},
		{"PUT", "/v1/kv/bad%FFkey", "x", 400, `Key "bad\xffkey" is not valid UTF-8`},
		{"GET", "/v1/kv/bad%FFkey", "", 404, ""},
	}
	for _, tc := range cases {
		r := doHTTP(t, tc.method, base+tc.path, "", []byte(tc.body))
		if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s %.80s: %d %.200q, want %d containing %q", tc.method, tc.path, r.status, r.body, tc.status, tc.want)
		}
		if tc.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
		if tc.status == 200 && tc.method == "GET" && r.header.Get("X-Consul-Index") == "" {
			t.Errorf("%s %s: no X-Consul-Index", tc.method, tc.path)
		}
	}
	if p, _, _ := c.KV().Get("big", nil); p != nil {
		t.Fatal("a value over the limit was stored")
	}
	keys, _, err := c.KV().Keys("", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if len(k) > 8192 || !utf8.ValidString(k) || strings.ContainsRune(k, utf8.RuneError) {
			t.Errorf("a key over the limits was stored: %.40q (%d bytes)", k, len(k))
		}
	}
}

func TestKVBlockingQueryWithAPIClient(t *testing.T) {
	_, c := testAgent(t)
	kv := c.KV()
	if _, err := kv.Put(&api.KVPair{Key: "w", Value: []byte("1")}, nil); err != nil {
		t.Fatal(err)
	}
	_, meta, err := kv.Get("w", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *api.KVPair, 1)
	go func() {
		p, _, err := kv.Get("w", &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := kv.Put(&api.KVPair{Key: "w", Value: []byte("2")}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p == nil || string(p.Value) != "2" {
			t.Fatalf("woke with %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not wake")
	}
}
