package agent

import (
	"github.com/consulcompat/consul/structs"
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/serf/serf"
)

// agentMember is a Serf member as /v1/agent/members shows it: the fields
// and types of Consul's api.AgentMember. Status is Serf's: 1 alive,
// 2 leaving, 3 left, 4 failed.
type agentMember struct {
	Name        string
	Addr        string
	Port        uint16
	Tags        map[string]string
	Status      int
	ProtocolMin uint8
	ProtocolMax uint8
	ProtocolCur uint8
	DelegateMin uint8
	DelegateMax uint8
	DelegateCur uint8
}

func toAgentMember(m serf.Member) agentMember {
	return agentMember{
		Name:        m.Name,
		Addr:        m.Addr.String(),
		Port:        m.Port,
		Tags:        m.Tags,
		Status:      int(m.Status),
		ProtocolMin: m.ProtocolMin,
		ProtocolMax: m.ProtocolMax,
		ProtocolCur: m.ProtocolCur,
		DelegateMin: m.DelegateMin,
		DelegateMax: m.DelegateMax,
		DelegateCur: m.DelegateCur,
	}
}

// allSegments is the ?segment value that asks for every network segment;
// the official client sends it.
const allSegments = "_all"

// checkPool rejects the options of the gossip pools this agent does not
// have: the WAN pool and network segments.
func checkPool(req *http.Request) error {
	if has(req, "wan") {
		return badRequest("WAN gossip (?wan) is not supported by this agent: it has a LAN pool only")
	}
	if seg := req.URL.Query().Get("segment"); seg != "" && seg != allSegments {
		return badRequest("Network segments are not supported by this agent")
	}
	return nil
}

// agentMembers serves GET /v1/agent/members: every member of the LAN
// pool this agent knows, in any state, sorted by name.
func (a *Agent) agentMembers(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	if err := checkPool(req); err != nil {
		return nil, err
	}
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return nil, err
	}
	members := a.server.LANMembers()
	out := make([]agentMember, 0, len(members))
	for _, m := range members {
		if !authz.NodeRead(m.Name) {
			w.Header().Set("X-Consul-Results-Filtered-By-ACLs", "true")
			continue
		}
		out = append(out, toAgentMember(m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// agentJoin serves PUT /v1/agent/join/<address>: this agent contacts the
// agent at address ("host" or "host:port", the Serf LAN port) and joins
// its cluster. The answer is an empty 200, or 500 with the reason.
func (a *Agent) agentJoin(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	if err := checkPool(req); err != nil {
		return nil, err
	}
	if err := a.agentWriteAllowed(req); err != nil {
		return nil, err
	}
	addr := strings.TrimPrefix(req.URL.Path, "/v1/agent/join/")
	if addr == "" {
		return nil, badRequest("Missing address to join")
	}
	if _, err := a.server.JoinLAN([]string{addr}); err != nil {
		return nil, err
	}
	return nil, nil
}

// agentLeave serves PUT /v1/agent/leave: the agent leaves the cluster
// gracefully and stops; the process exits once the answer is sent.
func (a *Agent) agentLeave(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	if err := a.agentWriteAllowed(req); err != nil {
		return nil, err
	}
	if err := a.Leave(); err != nil {
		return nil, err
	}
	return nil, nil
}

// agentWriteAllowed checks agent:write on this agent's node for the
// request's token.
func (a *Agent) agentWriteAllowed(req *http.Request) error {
	authz, err := a.server.ResolveToken(token(req))
	if err != nil {
		return err
	}
	if !authz.AgentWrite(a.cfg.NodeName) {
		return structs.ErrPermissionDenied
	}
	return nil
}
