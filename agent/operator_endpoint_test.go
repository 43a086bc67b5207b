package agent

import (
	"strings"
	"testing"
)

func TestOperatorRaftWithAPIClient(t *testing.T) {
	a, c := testAgent(t)
	conf, err := c.Operator().RaftGetConfiguration(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conf.Servers) != 1 || !conf.Servers[0].Leader || !conf.Servers[0].Voter || conf.Servers[0].Node != "agent-test" {
		t.Fatalf("configuration %+v", conf.Servers[0])
	}
	if conf.Servers[0].Address != a.server.RPCAddr().String() {
		t.Fatalf("address %s, want %s", conf.Servers[0].Address, a.server.RPCAddr())
	}
	err = c.Operator().RaftRemovePeerByID("no-such-server", nil)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("removing an unknown peer: %v", err)
	}
}
