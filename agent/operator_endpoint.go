package agent

import (
	"net/http"

	"github.com/consulcompat/consul/structs"
)

// raftConfiguration serves GET /v1/operator/raft/configuration.
func (a *Agent) raftConfiguration(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	args := structs.DCSpecificRequest{Datacenter: parseDC(req), QueryOptions: opts}
	var out structs.RaftConfigurationResponse
	if err := a.server.RPC("Operator.RaftGetConfiguration", &args, &out); err != nil {
		return nil, err
	}
	if out.Servers == nil {
		out.Servers = []*structs.RaftServer{}
	}
	return out, nil
}

// raftRemovePeer serves DELETE /v1/operator/raft/peer?id=|address=.
func (a *Agent) raftRemovePeer(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	q := req.URL.Query()
	args := structs.RaftRemovePeerRequest{
		Datacenter:   parseDC(req),
		ID:           q.Get("id"),
		Address:      q.Get("address"),
		WriteRequest: structs.WriteRequest{Token: token(req)},
	}
	var out struct{}
	if err := a.server.RPC("Operator.RaftRemovePeer", &args, &out); err != nil {
		return nil, err
	}
	return nil, nil
}
