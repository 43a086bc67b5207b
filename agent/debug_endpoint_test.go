package agent

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/consulcompat/consul/agent/config"
)

// gzipMagic starts a heap profile: pprof's protobuf, gzipped.
var gzipMagic = []byte{0x1f, 0x8b}

// TestDebugPprofBehindOperatorRead: with ACLs on, /debug/pprof/ answers
// a token with operator:read and refuses others with 403, whether
// enable_debug is set or not, as in Consul 1.16.
func TestDebugPprofBehindOperatorRead(t *testing.T) {
	for _, enableDebug := range []bool{false, true} {
		a, root := testAgent(t, withACLs(), withConfig(func(c *config.Config) { c.EnableDebug = enableDebug }))
		tokens := map[string]string{
			"anonymous":     "",
			"unknown":       "00000000-0000-4000-8000-00000000dead",
			"kv-read":       tokenWithRules(t, root, "kv-read", `key_prefix "" { policy = "read" }`),
			"operator-read": tokenWithRules(t, root, "operator-read", `operator = "read"`),
			"management":    rootSecret,
		}
		for name, secret := range tokens {
			want := http.StatusForbidden
			if name == "operator-read" || name == "management" {
				want = http.StatusOK
			}
			for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/", "/debug/pprof/cmdline"} {
				r := doHTTP(t, "GET", "http://"+a.HTTPAddr()+path, secret, nil)
				if r.status != want {
					t.Errorf("enable_debug=%v, %s token, %s: %d, want %d", enableDebug, name, path, r.status, want)
				}
				if want == http.StatusForbidden && len(r.body) != 0 {
					t.Errorf("enable_debug=%v, %s token, %s: refusal has a body: %q", enableDebug, name, path, r.body)
				}
				if want == http.StatusOK && path == "/debug/pprof/heap" && !bytes.HasPrefix(r.body, gzipMagic) {
					t.Errorf("enable_debug=%v, %s token: /debug/pprof/heap is not a profile: %.40q", enableDebug, name, r.body)
				}
			}
		}
	}
}

// TestDebugPprofWithoutACLs: with ACLs off, /debug/pprof/ exists only
// with enable_debug; without it every path answers 404, as in Consul.
func TestDebugPprofWithoutACLs(t *testing.T) {
	for _, enableDebug := range []bool{false, true} {
		a, _ := testAgent(t, withConfig(func(c *config.Config) { c.EnableDebug = enableDebug }))
		want := http.StatusNotFound
		if enableDebug {
			want = http.StatusOK
		}
		for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/", "/debug/pprof/goroutine?debug=1"} {
			if r := doHTTP(t, "GET", "http://"+a.HTTPAddr()+path, "", nil); r.status != want {
				t.Errorf("enable_debug=%v, %s: %d, want %d", enableDebug, path, r.status, want)
			}
		}
	}
}
