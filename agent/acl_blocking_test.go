package agent

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// aclReply is what a GET on an ACL endpoint answered.
type aclReply struct {
	status int
	index  uint64
	header http.Header
	body   string
}

// aclGet GETs url with the management token.
func aclGet(t *testing.T, url string) aclReply {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Consul-Token", rootSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return aclReply{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	idx, _ := strconv.ParseUint(resp.Header.Get("X-Consul-Index"), 10, 64)
	return aclReply{resp.StatusCode, idx, resp.Header, string(body)}
}

// blockedGet starts aclGet in the background and fails the test if it
// answers within 200 ms: a blocking read must wait for a change.
func blockedGet(t *testing.T, url string) <-chan aclReply {
	t.Helper()
	done := make(chan aclReply, 1)
	go func() { done <- aclGet(t, url) }()
	select {
	case r := <-done:
		t.Fatalf("GET %s answered before any change: %d %s", url, r.status, r.body)
	case <-time.After(200 * time.Millisecond):
	}
	return done
}

// woken waits for a blocked read to answer after a change.
func woken(t *testing.T, done <-chan aclReply, after uint64, want string) aclReply {
	t.Helper()
	select {
	case r := <-done:
		if r.status != 200 || r.index <= after || !strings.Contains(r.body, want) {
			t.Fatalf("woken read: %d, index %d (was %d), body %s; want %q in it", r.status, r.index, after, r.body, want)
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking read did not wake on the change")
	}
	return aclReply{}
}

// TestACLReadsBlock: the ACL lists and reads honour ?index and ?wait as a
// KV read does. They wait for a change to their kind and wake on it, and
// with no change answer after the wait with the same index.
func TestACLReadsBlock(t *testing.T) {
	a, root := testAgent(t, withACLs())
	base := "http://" + a.HTTPAddr()
	for _, tc := range []struct {
		path   string
		create func(name string) error
	}{
		{"/v1/acl/tokens", func(name string) error {
			_, _, err := root.ACL().TokenCreate(&api.ACLToken{Description: name}, nil)
			return err
		}},
		{"/v1/acl/policies", func(name string) error {
			_, _, err := root.ACL().PolicyCreate(&api.ACLPolicy{Name: name}, nil)
			return err
		}},
		{"/v1/acl/roles", func(name string) error {
			_, _, err := root.ACL().RoleCreate(&api.ACLRole{Name: name}, nil)
			return err
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			first := aclGet(t, base+tc.path)
			if first.status != 200 || first.index == 0 {
				t.Fatalf("GET %s: %d, index %d", tc.path, first.status, first.index)
			}
			// No change: the answer comes after the wait, index unchanged.
			start := time.Now()
			idle := aclGet(t, fmt.Sprintf("%s%s?index=%d&wait=300ms", base, tc.path, first.index))
			if took := time.Since(start); idle.status != 200 || took < 300*time.Millisecond || idle.index != first.index {
				t.Fatalf("idle blocking read: %d after %v, index %d; want 200 after 300ms, index %d", idle.status, took, idle.index, first.index)
			}
			for _, h := range []string{"X-Consul-KnownLeader", "X-Consul-LastContact"} {
				if idle.header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			done := blockedGet(t, fmt.Sprintf("%s%s?index=%d&wait=30s", base, tc.path, first.index))
			if err := tc.create("made-while-waiting"); err != nil {
				t.Fatal(err)
			}
			woken(t, done, first.index, "made-while-waiting")
		})
	}

	t.Run("one policy", func(t *testing.T) {
		p, _, err := root.ACL().PolicyCreate(&api.ACLPolicy{Name: "watched"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		first := aclGet(t, base+"/v1/acl/policy/"+p.ID)
		done := blockedGet(t, fmt.Sprintf("%s/v1/acl/policy/%s?index=%d&wait=30s", base, p.ID, first.index))
		p.Description = "changed while waiting"
		if _, _, err := root.ACL().PolicyUpdate(p, nil); err != nil {
			t.Fatal(err)
		}
		woken(t, done, first.index, "changed while waiting")
	})

	t.Run("restore", func(t *testing.T) {
		body, _, err := root.Snapshot().Save(nil)
		if err != nil {
			t.Fatal(err)
		}
		archive, _ := io.ReadAll(body)
		body.Close()
		if _, _, err := root.ACL().TokenCreate(&api.ACLToken{Description: "after-the-snapshot"}, nil); err != nil {
			t.Fatal(err)
		}
		first := aclGet(t, base+"/v1/acl/tokens")
		done := blockedGet(t, fmt.Sprintf("%s/v1/acl/tokens?index=%d&wait=30s", base, first.index))
		if err := root.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			if r.status != 200 || strings.Contains(r.body, "after-the-snapshot") {
				t.Fatalf("read woken by the restore: %d %s", r.status, r.body)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the blocking read did not wake on the restore")
		}
	})

	t.Run("consistent", func(t *testing.T) {
		for _, path := range []string{"/v1/acl/tokens", "/v1/acl/policies", "/v1/acl/roles", "/v1/acl/token/self"} {
			r := aclGet(t, base+path+"?consistent")
			if r.status != 200 || r.index == 0 || r.header.Get("X-Consul-KnownLeader") != "true" {
				t.Errorf("GET %s?consistent: %d, index %d, known leader %q", path, r.status, r.index, r.header.Get("X-Consul-KnownLeader"))
			}
			if r := aclGet(t, base+path+"?consistent&stale"); r.status != 400 {
				t.Errorf("GET %s?consistent&stale: %d, want 400", path, r.status)
			}
		}
	})
}

// TestACLReadsRefusedWhileDisabled: with ACLs off, a blocking ACL read is
// refused at once with 401, as before any wait.
func TestACLReadsRefusedWhileDisabled(t *testing.T) {
	a, _ := testAgent(t)
	start := time.Now()
	r := aclGet(t, "http://"+a.HTTPAddr()+"/v1/acl/tokens?index=1&wait=5s")
	if r.status != 401 || time.Since(start) > 2*time.Second {
		t.Fatalf("ACLs off: %d after %v: %s", r.status, time.Since(start), r.body)
	}
}
