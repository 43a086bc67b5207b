package agent

import (
	"net/http"

	"github.com/consulcompat/consul/structs"
)

// agentSelf serves /v1/agent/self with the fields the official client
// and the CLI read (Config.Datacenter, Config.NodeName, Config.Version,
// and Member, this agent's own Serf LAN member).
func (a *Agent) agentSelf(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return nil, err
	}
	if !authz.AgentRead(a.cfg.NodeName) {
		return nil, structs.ErrPermissionDenied
	}
	return map[string]interface{}{
		"Config": map[string]interface{}{
			"Datacenter": a.cfg.Datacenter,
			"NodeName":   a.cfg.NodeName,
			"NodeID":     "",
			"Revision":   "",
			"Server":     a.cfg.Server,
			"Version":    Version,
		},
		"Member": toAgentMember(a.server.LocalMember()),
		"Stats":  map[string]interface{}{},
		"Meta":   map[string]string{},
	}, nil
}
