package agent

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/consulcompat/consul/structs"
)

// maxQueryBody bounds a prepared query definition.
const maxQueryBody = 1 << 20

// queryRoot serves /v1/query: POST creates, GET lists.
func (a *Agent) queryRoot(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	if req.Method == http.MethodPost {
		var q structs.PreparedQuery
		if err := decodeJSONBody(req, maxQueryBody, &q); err != nil {
			return nil, err
		}
		id, err := a.applyQuery(req, structs.PreparedQueryCreate, &q)
		if err != nil {
			return nil, err
		}
		return map[string]string{"ID": id}, nil
	}
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	var out structs.IndexedPreparedQueries
	args := structs.DCSpecificRequest{Datacenter: parseDC(req), QueryOptions: opts}
	if err := a.server.RPC("PreparedQuery.List", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Queries, nil
}

// querySpecific serves /v1/query/<id> (GET, PUT to update, DELETE) and
// /v1/query/<id or name>/execute and /explain (GET).
func (a *Agent) querySpecific(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	rest := strings.TrimPrefix(req.URL.Path, "/v1/query/")
	for suffix, run := range map[string]func(http.ResponseWriter, *http.Request, string) (interface{}, error){
		"/execute": a.queryExecute,
		"/explain": a.queryExplain,
	} {
		if name, ok := strings.CutSuffix(rest, suffix); ok {
			if req.Method != http.MethodGet {
				return nil, methodNotAllowed(w, req, http.MethodGet)
			}
			return run(w, req, name)
		}
	}
	if rest == "" {
		return nil, badRequest("Missing query ID")
	}
	switch req.Method {
	case http.MethodPut:
		var q structs.PreparedQuery
		if err := decodeJSONBody(req, maxQueryBody, &q); err != nil {
			return nil, err
		}
		q.ID = rest
		_, err := a.applyQuery(req, structs.PreparedQueryUpdate, &q)
		return nil, err
	case http.MethodDelete:
		_, err := a.applyQuery(req, structs.PreparedQueryDelete, &structs.PreparedQuery{ID: rest})
		return nil, err
	}
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	var out structs.IndexedPreparedQueries
	args := structs.PreparedQuerySpecificRequest{Datacenter: parseDC(req), QueryID: rest, QueryOptions: opts}
	if err := a.server.RPC("PreparedQuery.Get", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Queries, nil
}

// applyQuery sends a create, update or delete.
func (a *Agent) applyQuery(req *http.Request, op structs.PreparedQueryOp, q *structs.PreparedQuery) (string, error) {
	args := structs.PreparedQueryRequest{Datacenter: parseDC(req), Op: op, Query: q,
		WriteRequest: structs.WriteRequest{Token: token(req)}}
	var id string
	err := a.server.RPC("PreparedQuery.Apply", &args, &id)
	return id, err
}

// executeArgs parses an execute or explain request: ?limit, ?near, and
// this agent as the query's source.
func (a *Agent) executeArgs(req *http.Request, idOrName string) (*structs.PreparedQueryExecuteRequest, error) {
	if idOrName == "" {
		return nil, badRequest("Missing query ID or name")
	}
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	args := &structs.PreparedQueryExecuteRequest{Datacenter: parseDC(req), QueryIDOrName: idOrName, QueryOptions: opts,
		Source: structs.QuerySource{Datacenter: a.cfg.Datacenter, Node: req.URL.Query().Get("near")},
		Agent:  structs.QuerySource{Datacenter: a.cfg.Datacenter, Node: a.cfg.NodeName}}
	if v := req.URL.Query().Get("limit"); v != "" {
		if args.Limit, err = strconv.Atoi(v); err != nil || args.Limit < 0 {
			return nil, badRequest("Bad limit: %q", v)
		}
	}
	return args, nil
}

// queryExecute serves GET /v1/query/<id or name>/execute.
func (a *Agent) queryExecute(w http.ResponseWriter, req *http.Request, idOrName string) (interface{}, error) {
	args, err := a.executeArgs(req, idOrName)
	if err != nil {
		return nil, err
	}
	var out structs.PreparedQueryExecuteResponse
	if err := a.server.RPC("PreparedQuery.Execute", args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	// The reply without its QueryMeta, which travels in the headers.
	return struct {
		Service    string
		Nodes      []structs.CheckServiceNode
		DNS        structs.QueryDNSOptions
		Datacenter string
		Failovers  int
	}{out.Service, out.Nodes, out.DNS, out.Datacenter, out.Failovers}, nil
}

// queryExplain serves GET /v1/query/<id or name>/explain.
func (a *Agent) queryExplain(w http.ResponseWriter, req *http.Request, idOrName string) (interface{}, error) {
	args, err := a.executeArgs(req, idOrName)
	if err != nil {
		return nil, err
	}
	var out structs.PreparedQueryExplainResponse
	if err := a.server.RPC("PreparedQuery.Explain", args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return map[string]*structs.PreparedQuery{"Query": &out.Query}, nil
}
