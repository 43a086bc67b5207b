package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
)

// fakeMembership is a stand-in for the agent's membership endpoints
// (/v1/agent/members, /v1/agent/join/, /v1/agent/leave), for testing the
// CLI's arguments and output without agents; real agents are tested in
// agent/.
type fakeMembership struct {
	*httptest.Server

	mu      sync.Mutex
	members []*api.AgentMember
	// joinable are the addresses a join succeeds for; joined records the
	// joins asked for, and left whether a leave was.
	joinable map[string]bool
	joined   []string
	left     bool
	leaveErr string
	query    string
}

func newFakeMembership(t *testing.T, members ...*api.AgentMember) *fakeMembership {
	t.Helper()
	f := &fakeMembership{members: members, joinable: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMembership) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.query = r.URL.RawQuery
	switch {
	case r.URL.Path == "/v1/agent/members" && r.Method == http.MethodGet:
		if r.URL.Query().Has("wan") {
			http.Error(w, "WAN gossip (?wan) is not supported by this agent", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(f.members)
	case strings.HasPrefix(r.URL.Path, "/v1/agent/join/") && r.Method == http.MethodPut:
		addr := strings.TrimPrefix(r.URL.Path, "/v1/agent/join/")
		if !f.joinable[addr] {
			http.Error(w, "1 error occurred:\n\t* Failed to join "+addr+": connection refused", http.StatusInternalServerError)
			return
		}
		f.joined = append(f.joined, addr)
	case r.URL.Path == "/v1/agent/leave" && r.Method == http.MethodPut:
		if f.leaveErr != "" {
			http.Error(w, f.leaveErr, http.StatusInternalServerError)
			return
		}
		f.left = true
	default:
		http.NotFound(w, r)
	}
}

func server(name, addr string, status int, extra ...string) *api.AgentMember {
	tags := map[string]string{"role": "consul", "dc": "dc1", "vsn": "2", "build": "1.16.4:abcdef", "port": "8300", "segment": ""}
	for i := 0; i+1 < len(extra); i += 2 {
		tags[extra[i]] = extra[i+1]
	}
	return &api.AgentMember{Name: name, Addr: addr, Port: 8301, Tags: tags, Status: status, ProtocolCur: 2, DelegateCur: 4}
}

func TestMembersTable(t *testing.T) {
	f := newFakeMembership(t,
		server("s3", "10.0.0.3", 4),
		&api.AgentMember{Name: "c1", Addr: "10.0.0.9", Port: 8301, Status: 1,
			Tags: map[string]string{"role": "node", "dc": "dc1", "vsn": "2", "build": "1.16.0"}},
		server("s1", "10.0.0.1", 1),
		server("s2", "::1", 3),
		&api.AgentMember{Name: "odd", Addr: "10.0.0.7", Port: 7946, Status: 1, Tags: map[string]string{}},
	)
	r := runCLI(t, "", "members", "-http-addr="+f.URL)
	want := "" +
		"Node  Address        Status  Type     Build   Protocol  DC   Partition  Segment\n" +
		"s1    10.0.0.1:8301  alive   server   1.16.4  2         dc1  default    <all>\n" +
		"s2    [::1]:8301     left    server   1.16.4  2         dc1  default    <all>\n" +
		"s3    10.0.0.3:8301  failed  server   1.16.4  2         dc1  default    <all>\n" +
		"c1    10.0.0.9:8301  alive   client   1.16.0  2         dc1  default    <default>\n" +
		"odd   10.0.0.7:7946  alive   unknown\n"
	if r.code != 0 || r.out != want {
		t.Fatalf("exit %d\n got:\n%s\nwant:\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}
	if !strings.Contains(f.query, "segment=_all") {
		t.Errorf("query %q does not ask for all segments", f.query)
	}
}

func TestMembersDetailedAndStatus(t *testing.T) {
	f := newFakeMembership(t, server("s1", "10.0.0.1", 1), server("s2", "10.0.0.2", 3))
	addr := "-http-addr=" + f.URL

	r := runCLI(t, "", "members", addr, "-detailed", "-status=alive")
	want := "" +
		"Node  Address        Status  Tags\n" +
		"s1    10.0.0.1:8301  alive   ap=default,build=1.16.4:abcdef,dc=dc1,port=8300,role=consul,segment=<all>,vsn=2\n"
	if r.code != 0 || r.out != want {
		t.Fatalf("exit %d\n got:\n%s\nwant:\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}

	// No member matches: exit 2, nothing printed.
	runCLI(t, "", "members", addr, "-status=failed").check(t, 2, nil, nil)
	runCLI(t, "", "members", addr, "-status=(").check(t, 1, nil, []string{"Failed to compile status regexp"})
	runCLI(t, "", "members", addr, "extra").check(t, 1, nil, []string{"Too many arguments"})
	runCLI(t, "", "members", addr, "-wan").check(t, 1, nil, []string{"Error retrieving members:", "WAN"})
}

func TestJoin(t *testing.T) {
	f := newFakeMembership(t)
	f.joinable["10.0.0.2"] = true
	f.joinable["10.0.0.3:8301"] = true
	addr := "-http-addr=" + f.URL

	runCLI(t, "", "join", addr, "10.0.0.2", "10.0.0.3:8301").
		check(t, 0, []string{"Successfully joined cluster by contacting 2 nodes.\n"}, nil)
	// One of two answers: still a success, with the failure reported.
	runCLI(t, "", "join", addr, "10.0.0.9", "10.0.0.2").
		check(t, 0, []string{"Successfully joined cluster by contacting 1 nodes.\n"}, []string{"Error joining address '10.0.0.9': ", "connection refused"})
	runCLI(t, "", "join", addr, "10.0.0.9").
		check(t, 1, nil, []string{"Error joining address '10.0.0.9'", "Failed to join any nodes.\n"})
	runCLI(t, "", "join", addr).
		check(t, 1, nil, []string{"At least one address to join must be specified.", "Usage: consul join"})
	if got := strings.Join(f.joined, " "); got != "10.0.0.2 10.0.0.3:8301 10.0.0.2" {
		t.Fatalf("joins asked for: %s", got)
	}
}

func TestLeave(t *testing.T) {
	f := newFakeMembership(t)
	addr := "-http-addr=" + f.URL
	runCLI(t, "", "leave", addr, "now").check(t, 1, nil, []string{"Error found unexpected args: [now]"})
	if f.left {
		t.Fatal("left despite the bad arguments")
	}
	runCLI(t, "", "leave", addr).check(t, 0, []string{"Graceful leave complete\n"}, nil)
	if !f.left {
		t.Fatal("no leave asked for")
	}
	f.leaveErr = "leave: serf: Leave called after Shutdown"
	runCLI(t, "", "leave", addr).check(t, 1, nil, []string{"Error leaving: ", "Leave called after Shutdown"})
}

func TestMembershipCommandsUnreachable(t *testing.T) {
	nowhere := "-http-addr=127.0.0.1:1"
	for _, args := range [][]string{
		{"members", nowhere},
		{"join", nowhere, "10.0.0.1"},
		{"leave", nowhere},
	} {
		runCLI(t, "", args...).check(t, 1, nil, []string{"connection refused"})
	}
}
