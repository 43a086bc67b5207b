package agent

import (
	"net/http"

	"github.com/consulcompat/consul/structs"
)

// statusLeader serves /v1/status/leader: the leader's RPC address as a
// JSON string, "" during an election.
func (a *Agent) statusLeader(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args := structs.DCSpecificRequest{Datacenter: parseDC(req)}
	var out string
	if err := a.server.RPC("Status.Leader", &args, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// statusPeers serves /v1/status/peers: the Raft voters' RPC addresses.
func (a *Agent) statusPeers(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args := structs.DCSpecificRequest{Datacenter: parseDC(req)}
	var out []string
	if err := a.server.RPC("Status.Peers", &args, &out); err != nil {
		return nil, err
	}
	return out, nil
}
