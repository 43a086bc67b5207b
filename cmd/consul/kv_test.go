package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestKVPutGetDelete(t *testing.T) {
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL

	runCLI(t, "", "kv", "put", addr, "app/name", "web").check(t, 0, []string{"Success! Data written to: app/name\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "app/name").check(t, 0, []string{"web\n"}, nil)
	// A leading slash is dropped.
	runCLI(t, "", "kv", "get", addr, "/app/name").check(t, 0, []string{"web\n"}, nil)

	runCLI(t, "", "kv", "delete", addr, "app/name").check(t, 0, []string{"Success! Deleted key: app/name\n"}, nil)
	runCLI(t, "", "kv", "get", addr, "app/name").check(t, 1, nil, []string{"Error! No key exists at: app/name\n"})
}

func TestKVPutData(t *testing.T) {
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL
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
			if got := string(f.get("k").Value); got != tc.want {
				t.Fatalf("stored %q, want %q", got, tc.want)
			}
		})
	}

	runCLI(t, "", "kv", "put", addr, "-flags=42", "k", "v").check(t, 0, nil, nil)
	if got := f.get("k").Flags; got != 42 {
		t.Fatalf("Flags = %d, want 42", got)
	}
}

func TestKVPutCAS(t *testing.T) {
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL
	p := f.put("k", "v1")
	idx := strconv.FormatUint(p.ModifyIndex, 10)

	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index=999", "k", "v2").
		check(t, 1, nil, []string{"Error! Did not write to k: CAS failed\n"})
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index="+idx, "k", "v2").
		check(t, 0, []string{"Success! Data written to: k\n"}, nil)
	if got := string(f.get("k").Value); got != "v2" {
		t.Fatalf("value %q after CAS, want v2", got)
	}

	// -modify-index=0 writes only a key that does not exist yet.
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index=0", "k", "v3").
		check(t, 1, nil, []string{"CAS failed"})
	runCLI(t, "", "kv", "put", addr, "-cas", "-modify-index=0", "new", "v").
		check(t, 0, []string{"Success! Data written to: new"}, nil)
}

func TestKVPutLock(t *testing.T) {
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL

	runCLI(t, "", "kv", "put", addr, "-acquire", "-session=s1", "lock", "me").
		check(t, 0, []string{"Success! Lock acquired on: lock\n"}, nil)
	runCLI(t, "", "kv", "put", addr, "-acquire", "-session=s2", "lock", "other").
		check(t, 1, nil, []string{"Error! Did not acquire lock"})
	runCLI(t, "", "kv", "put", addr, "-release", "-session=s2", "lock").
		check(t, 1, nil, []string{"Error! Did not release lock"})
	runCLI(t, "", "kv", "put", addr, "-release", "-session=s1", "lock").
		check(t, 0, []string{"Success! Lock released on: lock\n"}, nil)
}

func TestKVGetModes(t *testing.T) {
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL
	f.put("app/a", "1")
	f.put("app/b/c", "2")
	f.put("app/b/d", "3")
	f.put("other", "x")

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
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL
	p := f.put("app/a", "hello")
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

	f.put("app/b", "x")
	r = runCLI(t, "", "kv", "get", addr, "-detailed", "-recurse", "app/")
	r.check(t, 0, []string{"Key              app/a\n", "Value            hello\n\nCreateIndex", "Key              app/b\n"}, nil)
}

func TestKVDeleteModes(t *testing.T) {
	f := newFakeServer(t)
	addr := "-http-addr=" + f.URL
	f.put("app/a", "1")
	f.put("app/b", "2")
	f.put("apple", "3")
	p := f.put("keep", "k")

	runCLI(t, "", "kv", "delete", addr, "-cas", "-modify-index=999", "keep").
		check(t, 1, nil, []string{"Error! Did not delete key keep: CAS failed\n"})
	runCLI(t, "", "kv", "delete", addr, "-cas", "-modify-index="+strconv.FormatUint(p.ModifyIndex, 10), "keep").
		check(t, 0, []string{"Success! Deleted key: keep\n"}, nil)
	if f.get("keep") != nil {
		t.Fatal("keep survived its CAS delete")
	}

	runCLI(t, "", "kv", "delete", addr, "-recurse", "app/").
		check(t, 0, []string{"Success! Deleted keys with prefix: app/\n"}, nil)
	if f.get("app/a") != nil || f.get("app/b") != nil || f.get("apple") == nil {
		t.Fatal("-recurse app/ deleted the wrong keys")
	}
}

// TestHTTPFlags checks that -token, -datacenter and -stale, and the
// CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN variables, reach the server.
func TestHTTPFlags(t *testing.T) {
	f := newFakeServer(t)
	f.put("k", "v")

	runCLI(t, "", "kv", "get", "-http-addr="+f.URL, "-token=secret", "-datacenter=dc2", "-stale", "k").check(t, 0, nil, nil)
	q, token := f.last()
	if token != "secret" || q.Get("dc") != "dc2" || !q.Has("stale") {
		t.Fatalf("server saw token %q, query %v; want token secret, dc=dc2, stale", token, q)
	}

	runCLI(t, "", "kv", "get", "-http-addr="+f.URL, "k").check(t, 0, nil, nil)
	q, token = f.last()
	if token != "" || q.Has("dc") || q.Has("stale") {
		t.Fatalf("server saw token %q, query %v; want none", token, q)
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
	if _, token = f.last(); token != "from-env" {
		t.Fatalf("token %q, want CONSUL_HTTP_TOKEN's", token)
	}
	r = envRun(map[string]string{"CONSUL_HTTP_ADDR": "127.0.0.1:1", "CONSUL_HTTP_TOKEN": "from-env"}, "kv", "put", "-http-addr="+f.URL, "-token=flag", "k", "w")
	r.check(t, 0, nil, nil)
	if _, token = f.last(); token != "flag" {
		t.Fatalf("token %q, want the flag's over the environment's", token)
	}
}
