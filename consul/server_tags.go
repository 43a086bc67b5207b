package consul

import (
	"net"
	"strconv"

	"github.com/hashicorp/serf/serf"
)

// Serf tags a server sets on its LAN member, with Consul's names and
// values: other servers (and Consul's tools) read them.
const (
	tagRole      = "role"      // "consul" on a server
	tagDC        = "dc"        // its datacenter
	tagSegment   = "segment"   // "" for the default network segment
	tagID        = "id"        // its Raft server ID
	tagPort      = "port"      // its RPC (and Raft) port
	tagBootstrap = "bootstrap" // "1" when started with -bootstrap
	tagExpect    = "expect"    // N when started with -bootstrap-expect=N
	tagBuild     = "build"     // its version
	tagVsn       = "vsn"       // Consul protocol spoken
	tagVsnMin    = "vsn_min"   // oldest Consul protocol understood
	tagVsnMax    = "vsn_max"   // newest Consul protocol understood
	tagRaftVsn   = "raft_vsn"  // Raft protocol spoken

	roleServer = "consul"
)

// Consul's protocol versions (vsn 2, understanding 2 through 3) and Raft
// protocol 3, under which server IDs, not addresses, name Raft servers.
const (
	protocolVersion    = 2
	protocolVersionMin = 2
	protocolVersionMax = 3
	raftProtocol       = 3
)

// serverTags are the Serf tags of this server. rpcPort is the port the
// RPC listener is bound to.
func (c *Config) serverTags(rpcPort int) map[string]string {
	tags := map[string]string{
		tagRole:    roleServer,
		tagDC:      c.Datacenter,
		tagSegment: "",
		// Consul puts its node ID (a UUID) here; this server's Raft ID is
		// its node name, so that is what others need to name it in Raft.
		tagID:      c.NodeName,
		tagPort:    strconv.Itoa(rpcPort),
		tagBuild:   c.Build,
		tagVsn:     strconv.Itoa(protocolVersion),
		tagVsnMin:  strconv.Itoa(protocolVersionMin),
		tagVsnMax:  strconv.Itoa(protocolVersionMax),
		tagRaftVsn: strconv.Itoa(raftProtocol),
	}
	if c.Bootstrap {
		tags[tagBootstrap] = "1"
	}
	if c.BootstrapExpect > 0 {
		tags[tagExpect] = strconv.Itoa(c.BootstrapExpect)
	}
	return tags
}

// serverInfo is what a server member's tags say about it.
type serverInfo struct {
	// Name is its Serf member name (its node name).
	Name string
	// ID is its Raft server ID.
	ID string
	// Datacenter is its datacenter.
	Datacenter string
	// Addr is its RPC (and Raft) address: the member's address with the
	// port of its "port" tag.
	Addr *net.TCPAddr
	// Bootstrap and Expect are its bootstrap settings.
	Bootstrap bool
	Expect    int
	// Status is its Serf status when the info was read.
	Status serf.MemberStatus
}

// parseServer reads a member's tags; ok is false when the member is not a
// server or its tags are unusable.
func parseServer(m serf.Member) (info *serverInfo, ok bool) {
	if m.Tags[tagRole] != roleServer {
		return nil, false
	}
	port, err := strconv.Atoi(m.Tags[tagPort])
	if err != nil || port <= 0 || port > 65535 {
		return nil, false
	}
	info = &serverInfo{
		Name:       m.Name,
		ID:         m.Tags[tagID],
		Datacenter: m.Tags[tagDC],
		Addr:       &net.TCPAddr{IP: m.Addr, Port: port},
		Bootstrap:  m.Tags[tagBootstrap] == "1",
		Status:     m.Status,
	}
	if info.ID == "" {
		info.ID = m.Name
	}
	if v, ok := m.Tags[tagExpect]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, false
		}
		info.Expect = n
	}
	return info, true
}
