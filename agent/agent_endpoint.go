package agent

import (
	"net"
	"net/http"
	"strconv"
)

// agentSelf serves /v1/agent/self with the fields the official client
// and the CLI read (Config.Datacenter, Config.NodeName, Config.Version,
// Member); membership proper arrives with clustering.
func (a *Agent) agentSelf(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	host, port, _ := net.SplitHostPort(a.server.RPCAddr().String())
	rpcPort, _ := strconv.Atoi(port)
	return map[string]interface{}{
		"Config": map[string]interface{}{
			"Datacenter": a.cfg.Datacenter,
			"NodeName":   a.cfg.NodeName,
			"NodeID":     "",
			"Revision":   "",
			"Server":     a.cfg.Server,
			"Version":    Version,
		},
		"Member": map[string]interface{}{
			"Name": a.cfg.NodeName,
			"Addr": host,
			"Port": a.cfg.Ports.SerfLAN,
			"Tags": map[string]string{
				"role":  "consul",
				"dc":    a.cfg.Datacenter,
				"port":  strconv.Itoa(rpcPort),
				"build": Version,
			},
			// 1 is Serf's "alive".
			"Status": 1,
		},
		"Stats": map[string]interface{}{},
		"Meta":  map[string]string{},
	}, nil
}
