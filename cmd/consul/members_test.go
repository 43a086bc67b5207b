package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// server is a member as a Consul server shows itself in the pool.
func server(name, addr string, status int) *api.AgentMember {
	tags := map[string]string{"role": "consul", "dc": "dc1", "vsn": "2", "build": "1.16.4:abcdef", "port": "8300", "segment": ""}
	return &api.AgentMember{Name: name, Addr: addr, Port: 8301, Tags: tags, Status: status, ProtocolCur: 2, DelegateCur: 4}
}

// TestMembersTable lists the shared agent, alone in its pool, then, from
// a stand-in, members in the states one agent cannot show: left and
// failed servers (which take a cluster, and memberlist's failure
// detection), a client (this binary runs servers only), a member without
// tags, an IPv6 address.
func TestMembersTable(t *testing.T) {
	a := sharedAgent(t, false)
	f := a.spy(t)
	self := a.member(t)
	addr := self.Addr + ":" + strconv.Itoa(int(self.Port))
	pad := strings.Repeat(" ", len(addr)-len("Address"))
	wantOut(t, runCLI(t, "", "members", "-http-addr="+f.URL), ""+
		"Node      Address"+pad+"  Status  Type    Build   Protocol  DC   Partition  Segment\n"+
		"cli-test  "+addr+"  alive   server  1.16.4  2         dc1  default    <all>\n")
	if q := f.last(t).query; q.Get("segment") != "_all" {
		t.Errorf("query %v does not ask for all segments", q)
	}

	members := []*api.AgentMember{
		server("s3", "10.0.0.3", 4),
		{Name: "c1", Addr: "10.0.0.9", Port: 8301, Status: 1,
			Tags: map[string]string{"role": "node", "dc": "dc1", "vsn": "2", "build": "1.16.0"}},
		server("s1", "10.0.0.1", 1),
		server("s2", "::1", 3),
		{Name: "odd", Addr: "10.0.0.7", Port: 7946, Status: 1, Tags: map[string]string{}},
	}
	stub := standIn(t, func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(members) })
	wantOut(t, runCLI(t, "", "members", "-http-addr="+stub.URL), ""+
		"Node  Address        Status  Type     Build   Protocol  DC   Partition  Segment\n"+
		"s1    10.0.0.1:8301  alive   server   1.16.4  2         dc1  default    <all>\n"+
		"s2    [::1]:8301     left    server   1.16.4  2         dc1  default    <all>\n"+
		"s3    10.0.0.3:8301  failed  server   1.16.4  2         dc1  default    <all>\n"+
		"c1    10.0.0.9:8301  alive   client   1.16.0  2         dc1  default    <default>\n"+
		"odd   10.0.0.7:7946  alive   unknown\n")
}

func TestMembersDetailedAndStatus(t *testing.T) {
	a := sharedAgent(t, false)
	addr := "-http-addr=" + a.url
	self := a.member(t)
	address := self.Addr + ":" + strconv.Itoa(int(self.Port))
	pad := strings.Repeat(" ", len(address)-len("Address"))

	wantOut(t, runCLI(t, "", "members", addr, "-detailed", "-status=alive"), ""+
		"Node      Address"+pad+"  Status  Tags\n"+
		"cli-test  "+address+"  alive   ap=default,bootstrap=1,build=1.16.4,dc=dc1,id=cli-test,port="+self.Tags["port"]+
		",raft_vsn=3,role=consul,segment=<all>,vsn=2,vsn_max=3,vsn_min=2\n")

	// No member matches: exit 2, nothing printed.
	r := runCLI(t, "", "members", addr, "-status=failed")
	r.check(t, 2, nil, nil)
	if r.out != "" {
		t.Errorf("stdout: %q, want nothing", r.out)
	}
	runCLI(t, "", "members", addr, "-status=(").check(t, 1, nil, []string{"Failed to compile status regexp"})
	runCLI(t, "", "members", addr, "extra").check(t, 1, nil, []string{"Too many arguments"})
	runCLI(t, "", "members", addr, "-wan").check(t, 1, nil, []string{"Error retrieving members:", "WAN gossip (?wan) is not supported"})
}

// TestJoin has the shared agent join itself, which succeeds as a join of
// another agent would, and an address where nothing listens.
func TestJoin(t *testing.T) {
	a := sharedAgent(t, false)
	f := a.spy(t)
	addr := "-http-addr=" + f.URL
	m := a.member(t)
	self := m.Addr + ":" + strconv.Itoa(int(m.Port))
	const nowhere = "127.0.0.1:1"

	runCLI(t, "", "join", addr, self, self).
		check(t, 0, []string{"Successfully joined cluster by contacting 2 nodes.\n"}, nil)
	// One of two answers: still a success, with the failure reported.
	runCLI(t, "", "join", addr, nowhere, self).
		check(t, 0, []string{"Successfully joined cluster by contacting 1 nodes.\n"}, []string{"Error joining address '" + nowhere + "': ", "connection refused"})
	runCLI(t, "", "join", addr, nowhere).
		check(t, 1, nil, []string{"Error joining address '" + nowhere + "'", "Failed to join any nodes.\n"})
	runCLI(t, "", "join", addr).
		check(t, 1, nil, []string{"At least one address to join must be specified.", "Usage: consul join"})
	var joins []string
	for _, req := range f.all() {
		joins = append(joins, req.method+" "+req.path)
	}
	want := []string{"PUT /v1/agent/join/" + self, "PUT /v1/agent/join/" + self, "PUT /v1/agent/join/" + nowhere,
		"PUT /v1/agent/join/" + self, "PUT /v1/agent/join/" + nowhere}
	eqList(t, "requests", joins, want)
}

// TestLeave has an agent of its own leave: it stops.
func TestLeave(t *testing.T) {
	a := newTestAgent(t, nil)
	addr := "-http-addr=" + a.url
	runCLI(t, "", "leave", addr, "now").check(t, 1, nil, []string{"Error found unexpected args: [now]"})
	select {
	case <-a.StopCh():
		t.Fatal("left despite the bad arguments")
	default:
	}
	runCLI(t, "", "leave", addr).check(t, 0, []string{"Graceful leave complete\n"}, nil)
	select {
	case err := <-a.StopCh():
		if err != nil {
			t.Fatalf("the agent stopped with %v, want a graceful leave", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop after the leave")
	}

	// A failing leave: an agent answers every leave after the first with
	// the first one's result, so only a stand-in can fail one.
	stub := standIn(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "leave: serf: Leave called after Shutdown", http.StatusInternalServerError)
	})
	runCLI(t, "", "leave", "-http-addr="+stub.URL).check(t, 1, nil, []string{"Error leaving: ", "Leave called after Shutdown"})
}

// member returns the agent's own member of its LAN pool.
func (a *testAgent) member(t *testing.T) *api.AgentMember {
	t.Helper()
	members, err := a.client.Agent().Members(false)
	if err != nil || len(members) != 1 {
		t.Fatalf("members %v (%v), want the agent alone", members, err)
	}
	return members[0]
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
