package consul

import (
	"fmt"
	"strings"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/preparedquery"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
	"github.com/hashicorp/go-uuid"
)

// errQueryNotFound is Consul's answer for an unknown query (HTTP 404).
var errQueryNotFound = fmt.Errorf("%w: Query not found", structs.ErrNotFound)

// PreparedQuery is the prepared query endpoint.
type PreparedQuery struct {
	srv *Server
}

// aclPrefix is the name query rules apply to: a named query or a
// template is governed by query rules on its name; an unnamed query, only
// reachable by its ID, by none.
func aclPrefix(q *structs.PreparedQuery) (string, bool) {
	return q.Name, q.Name != "" || q.IsTemplate()
}

// Apply creates, updates or deletes a query through Raft; reply is the
// query's ID. Writing needs query write on the query's name, and for an
// existing query on its current name too, so that a rename cannot take a
// query out of rules that guard it.
func (p *PreparedQuery) Apply(args *structs.PreparedQueryRequest, reply *string) error {
	if done, err := p.srv.forward("PreparedQuery.Apply", args.Datacenter, false, args, reply); done {
		return err
	}
	if args.Query == nil {
		return fmt.Errorf("%w: Missing query", structs.ErrBadRequest)
	}
	q := args.Query
	st := p.srv.fsm.State()
	switch args.Op {
	case structs.PreparedQueryCreate:
		if q.ID != "" {
			return fmt.Errorf("%w: ID must be empty when creating a new prepared query", structs.ErrBadRequest)
		}
	case structs.PreparedQueryUpdate, structs.PreparedQueryDelete:
	default:
		return fmt.Errorf("%w: Unknown prepared query operation: %s", structs.ErrBadRequest, args.Op)
	}
	authz, err := p.srv.ResolveToken(args.Token)
	if err != nil {
		return err
	}
	if args.Op != structs.PreparedQueryDelete {
		if prefix, ok := aclPrefix(q); ok && !authz.PreparedQueryWrite(prefix) {
			return structs.ErrPermissionDenied
		}
	}
	if args.Op != structs.PreparedQueryCreate {
		_, existing, err := st.PreparedQueryGet(nil, q.ID)
		if err != nil {
			return err
		}
		if existing == nil {
			return fmt.Errorf("%w: Cannot modify non-existent prepared query: '%s'", structs.ErrNotFound, q.ID)
		}
		if prefix, ok := aclPrefix(existing); ok && !authz.PreparedQueryWrite(prefix) {
			return structs.ErrPermissionDenied
		}
	}
	if args.Op != structs.PreparedQueryDelete {
		if err := validateQuery(q); err != nil {
			// Template errors already carry ErrBadRequest; say it once.
			msg := strings.TrimPrefix(err.Error(), structs.ErrBadRequest.Error()+": ")
			return fmt.Errorf("%w: Invalid prepared query: %s", structs.ErrBadRequest, msg)
		}
	}
	if args.Op == structs.PreparedQueryCreate {
		if q.ID, err = newQueryID(st); err != nil {
			return err
		}
	}
	if _, err := p.srv.raftApply(structs.PreparedQueryRequestType, args); err != nil {
		return err
	}
	*reply = q.ID
	return nil
}

// validateQuery checks a query definition before it is stored.
func validateQuery(q *structs.PreparedQuery) error {
	if q.Name == "" && !q.IsTemplate() && q.Session == "" {
		return fmt.Errorf("Must be bound to a session")
	}
	if q.Token == redactedToken {
		return fmt.Errorf("Bad Token '%s', it looks like a query definition with a redacted token was submitted", q.Token)
	}
	if q.Service.Service == "" {
		return fmt.Errorf("Must provide a Service name to query")
	}
	if q.Service.Failover.NearestN < 0 {
		return fmt.Errorf("Bad NearestN '%d', must be >= 0", q.Service.Failover.NearestN)
	}
	if q.DNS.TTL != "" {
		ttl, err := time.ParseDuration(q.DNS.TTL)
		if err != nil {
			return fmt.Errorf("Bad DNS TTL '%s': %v", q.DNS.TTL, err)
		}
		if ttl < 0 {
			return fmt.Errorf("DNS TTL '%d', must be >=0", ttl)
		}
	}
	return preparedquery.Validate(q)
}

// newQueryID picks a random ID no query has.
func newQueryID(st *state.Store) (string, error) {
	for {
		id, err := uuid.GenerateUUID()
		if err != nil {
			return "", err
		}
		if _, existing, err := st.PreparedQueryGet(nil, id); err != nil || existing == nil {
			return id, err
		}
	}
}

// visibleQuery is q as the token may see it: nil if query rules on its
// name refuse read, and with its Token hidden unless the token may manage
// ACLs. Stored queries are shared with other readers, so a redacted one
// is a copy.
func visibleQuery(z acl.Authorizer, q *structs.PreparedQuery) *structs.PreparedQuery {
	if prefix, ok := aclPrefix(q); ok && !z.PreparedQueryRead(prefix) {
		return nil
	}
	if q.Token == "" || z.ACLWrite() {
		return q
	}
	redacted := *q
	redacted.Token = redactedToken
	return &redacted
}

// Get reads one query by ID. A query the token may not read is refused
// rather than hidden: the caller named it.
func (p *PreparedQuery) Get(args *structs.PreparedQuerySpecificRequest, reply *structs.IndexedPreparedQueries) error {
	return p.srv.readQuery("PreparedQuery.Get", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			idx, q, err := s.PreparedQueryGet(ws, args.QueryID)
			if err != nil {
				return err
			}
			if q == nil {
				return errQueryNotFound
			}
			visible := visibleQuery(z, q)
			if visible == nil {
				return structs.ErrPermissionDenied
			}
			reply.Index, reply.Queries = idx, structs.PreparedQueries{visible}
			return nil
		})
}

// List reads every query the token may read.
func (p *PreparedQuery) List(args *structs.DCSpecificRequest, reply *structs.IndexedPreparedQueries) error {
	return p.srv.readQuery("PreparedQuery.List", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta,
		func(ws memdb.WatchSet, s *state.Store, z acl.Authorizer) error {
			idx, all, err := s.PreparedQueryList(ws)
			reply.Index, reply.Queries = idx, structs.PreparedQueries{}
			for _, q := range all {
				if visible := visibleQuery(z, q); visible != nil {
					reply.Queries = append(reply.Queries, visible)
				} else {
					reply.ResultsFilteredByACLs = true
				}
			}
			return err
		})
}

// resolveQuery is the start Explain and Execute share: forward (or serve
// a stale read here), confirm leadership for a consistent read, and find
// the query for the ID or name, rendered for that name if it is a
// template. done reports that a forwarded call already answered.
func (s *Server) resolveQuery(method string, args *structs.PreparedQueryExecuteRequest, reply interface{}) (q *structs.PreparedQuery, done bool, err error) {
	if done, err := s.forward(method, args.Datacenter, args.AllowStale, args, reply); done {
		return nil, true, err
	}
	if err := s.consistentRead(&args.QueryOptions); err != nil {
		return nil, false, err
	}
	_, q, err = s.fsm.State().PreparedQueryResolve(args.QueryIDOrName)
	if err != nil {
		return nil, false, err
	}
	if q == nil {
		return nil, false, errQueryNotFound
	}
	if !q.IsTemplate() {
		return q, false, nil
	}
	t, err := preparedquery.Compile(q)
	if err != nil {
		return nil, false, err
	}
	q, err = t.Render(args.QueryIDOrName, args.Agent)
	return q, false, err
}

// Explain shows the query that would run for an ID or name: a template
// rendered for the name.
func (p *PreparedQuery) Explain(args *structs.PreparedQueryExecuteRequest, reply *structs.PreparedQueryExplainResponse) error {
	q, done, err := p.srv.resolveQuery("PreparedQuery.Explain", args, reply)
	if done || err != nil {
		return err
	}
	authz, err := p.srv.ResolveToken(args.Token)
	if err != nil {
		return err
	}
	visible := visibleQuery(authz, q)
	if visible == nil {
		return structs.ErrPermissionDenied
	}
	reply.Query = *visible
	p.srv.setQueryMeta(&reply.QueryMeta)
	return nil
}

// Execute runs a query: the healthy instances of its service that match
// its filters and that its token (or the caller's, if it has none) may
// read, shuffled, the one nearest first, at most Limit of them.
func (p *PreparedQuery) Execute(args *structs.PreparedQueryExecuteRequest, reply *structs.PreparedQueryExecuteResponse) error {
	q, done, err := p.srv.resolveQuery("PreparedQuery.Execute", args, reply)
	if done || err != nil {
		return err
	}
	token := args.Token
	if q.Token != "" {
		token = q.Token
	}
	authz, err := p.srv.ResolveToken(token)
	if err != nil {
		return err
	}
	idx, all, err := p.srv.fsm.State().CheckServiceNodes(nil, q.Service.Service)
	if err != nil {
		return err
	}
	reply.Index = idx
	reply.Nodes = selectInstances(authz, &q.Service, all, &reply.QueryMeta)
	near := args.Source.Node
	if near == "" {
		near = q.Service.Near
	}
	if near == "_agent" {
		near = args.Agent.Node
	}
	orderInstances(reply.Nodes, near)
	if args.Limit > 0 && len(reply.Nodes) > args.Limit {
		reply.Nodes = reply.Nodes[:args.Limit]
	}
	if len(reply.Nodes) == 0 {
		// One datacenter exists: every failover target is unknown, as
		// Consul treats a datacenter it has no route to.
		for _, dc := range q.Service.Failover.Datacenters {
			if dc != p.srv.config.Datacenter {
				p.srv.logger.Warn("skipping unknown datacenter in prepared query", "datacenter", dc, "query", q.ID)
			}
		}
	}
	reply.Service, reply.DNS, reply.Datacenter = q.Service.Service, q.DNS, p.srv.config.Datacenter
	p.srv.setQueryMeta(&reply.QueryMeta)
	return nil
}
