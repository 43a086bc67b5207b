package structs

import "errors"

// Health check states, Consul's values.
const (
	HealthAny      = "any"
	HealthPassing  = "passing"
	HealthWarning  = "warning"
	HealthCritical = "critical"
)

// SerfCheckID is the check every server node carries for its Serf health.
const SerfCheckID = "serfHealth"

// Node is a node of the catalog.
type Node struct {
	ID              string
	Node            string
	Address         string
	Datacenter      string
	TaggedAddresses map[string]string
	Meta            map[string]string
	RaftIndex
}

// Weights are a service's DNS weights by health.
type Weights struct {
	Passing int
	Warning int
}

// NodeService is a service instance on a node.
type NodeService struct {
	ID                string
	Service           string
	Tags              []string
	Address           string
	Meta              map[string]string
	Port              int
	Weights           *Weights
	EnableTagOverride bool
	RaftIndex
}

// HealthCheck is a check on a node, or on a service of the node.
type HealthCheck struct {
	Node        string
	CheckID     string
	Name        string
	Status      string
	Notes       string
	Output      string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Type        string
	RaftIndex
}

// HealthChecks is a list of checks.
type HealthChecks []*HealthCheck

// RegisterRequest registers a node and optionally a service and checks;
// it is the Raft entry of a registration and, with exactly one of Service
// or Check set (or neither, for the node), the state dump's catalog record.
type RegisterRequest struct {
	Datacenter      string
	ID              string
	Node            string
	Address         string
	TaggedAddresses map[string]string
	NodeMeta        map[string]string
	Service         *NodeService
	Check           *HealthCheck
	Checks          HealthChecks
	SkipNodeUpdate  bool
	// RaftIndex is the node's, in a state dump; the service and check
	// carry their own.
	RaftIndex
	WriteRequest
}

// Validate says whether a catalog record from a state dump can be stored:
// it needs a node, and a service or check needs its ID.
func (r *RegisterRequest) Validate() error {
	switch {
	case r.Node == "":
		return errors.New("catalog record without a node")
	case r.Service != nil && (r.Service.ID == "" || r.Service.Service == ""):
		return errors.New("service record without an ID or name")
	case r.Check != nil && (r.Check.CheckID == "" || r.Check.Status == ""):
		return errors.New("check record without a CheckID or status")
	}
	return nil
}

// DeregisterRequest removes a node, or one service or check of it.
type DeregisterRequest struct {
	Datacenter string
	Node       string
	ServiceID  string
	CheckID    string
	WriteRequest
}

// ServiceNode is one instance of a service with its node, as
// /v1/catalog/service/<name> returns it (api.CatalogService).
type ServiceNode struct {
	ID                       string
	Node                     string
	Address                  string
	Datacenter               string
	TaggedAddresses          map[string]string
	NodeMeta                 map[string]string
	ServiceID                string
	ServiceName              string
	ServiceTags              []string
	ServiceAddress           string
	ServiceMeta              map[string]string
	ServicePort              int
	ServiceWeights           Weights
	ServiceEnableTagOverride bool
	CreateIndex              uint64
	ModifyIndex              uint64
}

// CheckServiceNode is a service instance with its node and all checks
// that bear on it (node checks and its own), as /v1/health/service shows.
type CheckServiceNode struct {
	Node    *Node
	Service *NodeService
	Checks  HealthChecks
}

// NodeServices is a node and its services, as /v1/catalog/node shows.
type NodeServices struct {
	Node     *Node
	Services map[string]*NodeService
}

// ServiceSpecificRequest asks about one service, optionally by tags and
// node metadata.
type ServiceSpecificRequest struct {
	Datacenter  string
	ServiceName string
	ServiceTags []string
	NodeMeta    map[string]string
	// OnlyPassing keeps instances whose every check passes.
	OnlyPassing bool
	QueryOptions
}

// NodeSpecificRequest asks about one node.
type NodeSpecificRequest struct {
	Datacenter string
	Node       string
	QueryOptions
}

// ChecksInStateRequest asks for the checks in a state ("any" for all).
type ChecksInStateRequest struct {
	Datacenter string
	State      string
	NodeMeta   map[string]string
	QueryOptions
}

// IndexedNodes is a list of nodes with the index to block on.
type IndexedNodes struct {
	Nodes []*Node
	QueryMeta
}

// IndexedServices maps service names to the union of their tags.
type IndexedServices struct {
	Services map[string][]string
	QueryMeta
}

// IndexedServiceNodes is a list of service instances.
type IndexedServiceNodes struct {
	ServiceNodes []*ServiceNode
	QueryMeta
}

// IndexedNodeServices is one node with its services (nil if unknown).
type IndexedNodeServices struct {
	NodeServices *NodeServices
	QueryMeta
}

// IndexedNodeServiceList is one node with its services as a list, as
// /v1/catalog/node-services shows.
type IndexedNodeServiceList struct {
	Node     *Node
	Services []*NodeService
	QueryMeta
}

// IndexedHealthChecks is a list of checks.
type IndexedHealthChecks struct {
	HealthChecks HealthChecks
	QueryMeta
}

// IndexedCheckServiceNodes is a list of service instances with health.
type IndexedCheckServiceNodes struct {
	Nodes []CheckServiceNode
	QueryMeta
}
