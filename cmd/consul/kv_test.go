package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
	"github.com/hashicorp/consul/api"
)

func TestKVPutGetDelete(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url

	runCLI(t, "", "kv", "put", addr, "app/name", "web").check(t, 0, []string{"Success! Data written to: app/name\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "app/name").check(t, 0, []string{"web\n"}, nil)
	// A leading slash is dropped.
	runCLI(t, "", "kv", "get", addr, "/app/name").check(t, 0, []string{"web\n"}, nil)

	runCLI(t, "", "kv", "delete", addr, "app/name").check(t, 0, []string{"Success! Deleted key: app/name\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "app/name").check(t, 1, nil, []string{"Error! No key exists at: app/name\n"})
}

func TestKVPutData(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url
	file := filepath.Join(t.TempDir(), "license.lic")
	if err := os.WriteFile(file, []byte("from a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"literal", "", []string{"k", "v"}, "v"},
		{"no data", "", []string{"k"}, ""},
		{"empty data", "", []string{"k", ""}, ""},
		{"from a file", "", []string{"k", "@" + file}, "from a file\n"},
		{"from stdin", "piped\x00bytes", []string{"k", "-"}, "piped\x00bytes"},
		{"a dash and more is literal", "", []string{"k", "-x"}, "-x"},
		{"base64", "", []string{"-base64", "k", "aGVsbG8="}, "hello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"kv", "put", addr}, tc.args...)
			runCLI(t, tc.stdin, args...).check(t, 0, []string{"Success! Data written to: k"}, nil)
			if got := string(a.get(t, "k").Value); got != tc.want {
				t.Fatalf("stored %q, want %q", got, tc.want)
			}
		})
	}

	runCLI(t, "", "kv", "put", addr, "-flags=42", "k", "v").check(t, 0, nil, nil)
	if got := a.get(t, "k").Flags; got != 42 {
		t.Fatalf("Flags = %d, want 42", got)
	}
}

func TestKVPutCAS(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url
	p := a.put(t, "k", "v1")
	idx := strconv.FormatUint(p.ModifyIndex, 10)

	wrong := strconv.FormatUint(p.ModifyIndex+1, 10)
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index="+wrong, "k", "v2").
		check(t, 1, nil, []string{"Error! Did not write to k: CAS failed\n"})
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index="+idx, "k", "v2").
		check(t, 0, []string{"Success! Data written to: k\n"}, nil)
	if got := string(a.get(t, "k").Value); got != "v2" {
		t.Fatalf("value %q after CAS, want v2", got)
	}

	// -modify-index=0 writes only a key that does not exist yet.
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index=0", "k", "v3").
		check(t, 1, nil, []string{"CAS failed"})
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index=0", "new", "v").
		check(t, 0, []string{"Success! Data written to: new"}, nil)
}

func TestKVPutLock(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url

	s1, s2 := "-session="+a.session(t), "-session="+a.session(t)

	runCLI(t, "", "kv", "put", addr, "-acquire", s1, "lock", "me").
		check(t, 0, []string{"Success! Lock acquired on: lock\n"}, nil)
	runCLI(t, "", "kv", "put", addr, "-acquire", s2, "lock", "other").
		check(t, 1, nil, []string{"Error! Did not acquire lock"})
	runCLI(t, "", "kv", "put", addr, "-release", s2, "lock").
		check(t, 1, nil, []string{"Error! Did not release lock"})
	runCLI(t, "", "kv", "put", addr, "-release", s1, "lock").
		check(t, 0, []string{"Success! Lock released on: lock\n"}, nil)
	if s := a.get(t, "lock").Session; s != "" {
		t.Fatalf("session %q still holds the lock after its release", s)
	}
}

func TestKVGetModes(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url
	a.put(t, "app/a", "1")
	a.put(t, "app/b/c", "2")
	a.put(t, "app/b/d", "3")
	a.put(t, "other", "x")

	runCLI(t, "", "kv", "get", addr, "-recurse", "app/").
		check(t, 0, []string{"app/a:1\napp/b/c:2\napp/b/d:3\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "-recurse", "-base64", "app/a").
		check(t, 0, []string{"app/a:MQ==\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "-keys", "app/").
		check(t, 0, []string{"app/a\napp/b/\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "-keys", "-separator=", "app/").
		check(t, 0, []string{"app/a\napp/b/c\napp/b/d\n"}, nil)
	// Without a key, -keys lists from the root.
	runCLI(t, "", "kv", "get", addr, "-keys").
		check(t, 0, []string{"app/\nother\n"}, nil)
	// An empty listing prints nothing and succeeds.
	r := runCLI(t, "", "kv", "get", addr, "-recurse", "nothing/")
	r.check(t, 0, nil, nil)
	if r.out != "" {
		t.Errorf("empty listing printed %q", r.out)
	}
}

func TestKVGetDetailed(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url
	p := a.put(t, "app/a", "hello")
	idx := strconv.FormatUint(p.ModifyIndex, 10)

	want := "CreateIndex      " + idx + "\n" +
		"Flags            0\n" +
		"Key              app/a\n" +
		"LockIndex        0\n" +
		"ModifyIndex      " + idx + "\n" +
		"Session          -\n" +
		"Value            hello\n"
	r := runCLI(t, "", "kv", "get", addr, "-detailed", "app/a")
	r.check(t, 0, nil, nil)
	if r.out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", r.out, want)
	}

	a.put(t, "app/b", "x")
	r = runCLI(t, "", "kv", "get", addr, "-detailed", "-recurse", "app/")
	r.check(t, 0, []string{"Key              app/a\n", "Value            hello\n\nCreateIndex", "Key              app/b\n"}, nil)
}

func TestKVDeleteModes(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url
	a.put(t, "app/a", "1")
	a.put(t, "app/b", "2")
	a.put(t, "apple", "3")
	p := a.put(t, "keep", "k")

	wrong := strconv.FormatUint(p.ModifyIndex+1, 10)
	runCLI(t, "", "kv", "delete", addr, "-cas", "-modify-index="+wrong, "keep").
		check(t, 1, nil, []string{"Error! Did not delete key keep: CAS failed\n"})
	runCLI(t, "", "kv", "delete", addr, "-cas", "-modify-index="+strconv.FormatUint(p.ModifyIndex, 10), "keep").
		check(t, 0, []string{"Success! Deleted key: keep\n"}, nil)
	if a.get(t, "keep") != nil {
		t.Fatal("keep survived its CAS delete")
	}

	runCLI(t, "", "kv", "delete", addr, "-recurse", "app/").
		check(t, 0, []string{"Success! Deleted keys with prefix: app/\n"}, nil)
	if a.get(t, "app/a") != nil || a.get(t, "app/b") != nil || a.get(t, "apple") == nil {
		t.Fatal("-recurse app/ deleted the wrong keys")
	}
}

// TestHTTPFlags checks that -token, -datacenter and -stale, and the
// CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN variables, reach the agent. The
// agent's ACLs are off, so that any token is let through; its datacenter
// is dc1.
func TestHTTPFlags(t *testing.T) {
	a := sharedAgent(t, false)
	a.put(t, "k", "v")
	f := a.spy(t)

	runCLI(t, "", "kv", "get", "-http-addr="+f.URL, "-token=secret", "-datacenter=dc1", "-stale", "k").check(t, 0, nil, nil)
	req := f.last(t)
	if req.token != "secret" || req.query.Get("dc") != "dc1" || !req.query.Has("stale") {
		t.Fatalf("agent saw token %q, query %v; want token secret, dc=dc1, stale", req.token, req.query)
	}
	// The agent knows no path to another datacenter.
	runCLI(t, "", "kv", "get", "-http-addr="+f.URL, "-datacenter=dc2", "k").
		check(t, 1, nil, []string{"Error querying Consul agent: Unexpected response code: 500 (No path to datacenter)"})

	runCLI(t, "", "kv", "get", "-http-addr="+f.URL, "k").check(t, 0, nil, nil)
	req = f.last(t)
	if req.token != "" || req.query.Has("dc") || req.query.Has("stale") {
		t.Fatalf("agent saw token %q, query %v; want none", req.token, req.query)
	}

	// The environment, as Consul's CLI reads it.
	envRun := func(env map[string]string, args ...string) result {
		t.Helper()
		clearConsulEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		return runInEnv("", args...)
	}
	r := envRun(map[string]string{"CONSUL_HTTP_ADDR": f.URL, "CONSUL_HTTP_TOKEN": "from-env"}, "kv", "get", "k")
	r.check(t, 0, []string{"v\n"}, nil)
	if token := f.last(t).token; token != "from-env" {
		t.Fatalf("token %q, want CONSUL_HTTP_TOKEN's", token)
	}
	r = envRun(map[string]string{"CONSUL_HTTP_ADDR": "127.0.0.1:1", "CONSUL_HTTP_TOKEN": "from-env"}, "kv", "put", "-http-addr="+f.URL, "-token=flag", "k", "w")
	r.check(t, 0, nil, nil)
	if token := f.last(t).token; token != "flag" {
		t.Fatalf("token %q, want the flag's over the environment's", token)
	}
}

// put stores a pair and returns it as the agent holds it.
func (a *testAgent) put(t *testing.T, key, value string) *api.KVPair {
	t.Helper()
	if _, err := a.client.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
		t.Fatal(err)
	}
	return a.get(t, key)
}

// get returns the pair stored at key, or nil.
func (a *testAgent) get(t *testing.T, key string) *api.KVPair {
	t.Helper()
	p, _, err := a.client.KV().Get(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// session creates a session and returns its ID. A session needs the
// agent's node in the catalog, which the agent registers soon after its
// election.
func (a *testAgent) session(t *testing.T) string {
	t.Helper()
	var id string
	testutil.Retry(t, 10*time.Second, "a session", func() error {
		var err error
		id, _, err = a.client.Session().Create(&api.SessionEntry{}, nil)
		return err
	})
	return id
}
