package structs

// RaftServer is one server in the Raft configuration, as
// /v1/operator/raft/configuration shows it.
type RaftServer struct {
	ID              string
	Node            string
	Address         string
	Leader          bool
	ProtocolVersion string
	Voter           bool
}

// RaftConfigurationResponse is the Raft configuration and the index it
// was read at.
type RaftConfigurationResponse struct {
	Servers []*RaftServer
	Index   uint64
}

// RaftRemovePeerRequest names a Raft peer to remove, by ID or address.
type RaftRemovePeerRequest struct {
	Datacenter string
	ID         string
	Address    string
	WriteRequest
}
