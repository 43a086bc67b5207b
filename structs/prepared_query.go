package structs

import "errors"

// PreparedQuery is a stored service query that clients run by ID or name.
// Field names are Consul's: they are the JSON of /v1/query and the
// msgpack of log entries and state dumps.
type PreparedQuery struct {
	ID   string
	Name string
	// Session, if set, ties the query's life to a session: the query is
	// deleted when the session is invalidated.
	Session string
	// Token is the ACL token the query runs with; empty means the token
	// of whoever executes it.
	Token    string
	Template QueryTemplateOptions
	Service  ServiceQuery
	DNS      QueryDNSOptions

	RaftIndex
}

// PreparedQueries is a list of prepared queries.
type PreparedQueries []*PreparedQuery

// QueryTemplateTypeNamePrefixMatch is the one template type: the query
// with the longest name that prefixes the executed name serves it.
const QueryTemplateTypeNamePrefixMatch = "name_prefix_match"

// QueryTemplateOptions makes a query a template.
type QueryTemplateOptions struct {
	// Type is "" (not a template) or QueryTemplateTypeNamePrefixMatch.
	Type string
	// Regexp is matched against the executed name; its groups are
	// ${match(N)}.
	Regexp string
	// RemoveEmptyTags drops tags that render to "".
	RemoveEmptyTags bool
}

// IsTemplate tells whether the query is a template.
func (q *PreparedQuery) IsTemplate() bool {
	return q.Template.Type != ""
}

// ServiceQuery says which service instances a query returns.
type ServiceQuery struct {
	Service  string
	Failover QueryFailoverOptions
	// OnlyPassing drops instances with a warning check; critical ones are
	// always dropped.
	OnlyPassing bool
	// IgnoreCheckIDs are checks whose status does not count.
	IgnoreCheckIDs []string
	// Near sorts by distance to a node; "_agent" is the agent itself.
	Near string
	// Tags an instance must have; "!tag" means must not have.
	Tags        []string
	NodeMeta    map[string]string
	ServiceMeta map[string]string
}

// QueryFailoverOptions says where to look when no instance is healthy
// here.
type QueryFailoverOptions struct {
	NearestN    int
	Datacenters []string
}

// QueryDNSOptions are the DNS answer's options.
type QueryDNSOptions struct {
	TTL string
}

// Validate says whether a query from a state dump can be stored: it
// needs an ID.
func (q *PreparedQuery) Validate() error {
	if q.ID == "" {
		return errors.New("prepared query has an empty ID")
	}
	return nil
}

// PreparedQueryOp is what a prepared query log entry does.
type PreparedQueryOp string

// The prepared query operations.
const (
	PreparedQueryCreate PreparedQueryOp = "create"
	PreparedQueryUpdate PreparedQueryOp = "update"
	PreparedQueryDelete PreparedQueryOp = "delete"
)

// PreparedQueryRequest is the Raft log entry (type 7) and RPC argument
// that creates, updates or deletes a prepared query.
type PreparedQueryRequest struct {
	Datacenter string
	Op         PreparedQueryOp
	Query      *PreparedQuery
	WriteRequest
}

// PreparedQuerySpecificRequest asks for one query by ID.
type PreparedQuerySpecificRequest struct {
	Datacenter string
	QueryID    string
	QueryOptions
}

// QuerySource is where a query runs from: the agent's node and segment,
// for ${agent.segment} and Near "_agent".
type QuerySource struct {
	Datacenter string
	Segment    string
	Node       string
	Ip         string
}

// PreparedQueryExecuteRequest runs a query by ID or name.
type PreparedQueryExecuteRequest struct {
	Datacenter    string
	QueryIDOrName string
	// Limit caps the number of instances returned; 0 means all.
	Limit  int
	Source QuerySource
	Agent  QuerySource
	QueryOptions
}

// PreparedQueryExecuteResponse is what a query returns.
type PreparedQueryExecuteResponse struct {
	Service    string
	Nodes      []CheckServiceNode
	DNS        QueryDNSOptions
	Datacenter string
	// Failovers counts the other datacenters tried.
	Failovers int
	QueryMeta
}

// PreparedQueryExplainResponse is a query as it would run for a name:
// a template rendered for it.
type PreparedQueryExplainResponse struct {
	Query PreparedQuery
	QueryMeta
}

// IndexedPreparedQueries is the reply to a query read.
type IndexedPreparedQueries struct {
	Queries PreparedQueries
	QueryMeta
}
