package agent

import (
	"net/http"
	"sort"

	"github.com/consulcompat/consul/structs"
)

// maxCatalogBody bounds a registration body.
const maxCatalogBody = 1 << 20

// catalogRegister serves PUT /v1/catalog/register.
func (a *Agent) catalogRegister(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var args structs.RegisterRequest
	return a.catalogWrite(req, "Catalog.Register", &args, &args.Datacenter, &args.Token)
}

// catalogDeregister serves PUT /v1/catalog/deregister.
func (a *Agent) catalogDeregister(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var args structs.DeregisterRequest
	return a.catalogWrite(req, "Catalog.Deregister", &args, &args.Datacenter, &args.Token)
}

// catalogWrite decodes the body into args, fills its datacenter (from ?dc
// when the body has none) and token, calls method, and answers true.
func (a *Agent) catalogWrite(req *http.Request, method string, args interface{}, dc, tok *string) (interface{}, error) {
	if err := decodeJSONBody(req, maxCatalogBody, args); err != nil {
		return nil, err
	}
	if *dc == "" {
		*dc = parseDC(req)
	}
	*tok = token(req)
	var out struct{}
	if err := a.server.RPC(method, args, &out); err != nil {
		return nil, err
	}
	return true, nil
}

// catalogDatacenters serves GET /v1/catalog/datacenters.
func (a *Agent) catalogDatacenters(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	var out []string
	err := a.server.RPC("Catalog.ListDatacenters", &structs.DCSpecificRequest{}, &out)
	return out, err
}

// catalogNodes serves GET /v1/catalog/nodes.
func (a *Agent) catalogNodes(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	opts, meta, err := readArgs(req)
	if err != nil {
		return nil, err
	}
	args := structs.DCSpecificRequest{Datacenter: parseDC(req), NodeMeta: meta, QueryOptions: opts}
	var out structs.IndexedNodes
	if err := a.server.RPC("Catalog.ListNodes", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return filterResult(req, out.Nodes)
}

// catalogServices serves GET /v1/catalog/services.
func (a *Agent) catalogServices(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	opts, meta, err := readArgs(req)
	if err != nil {
		return nil, err
	}
	args := structs.DCSpecificRequest{Datacenter: parseDC(req), NodeMeta: meta, QueryOptions: opts}
	var out structs.IndexedServices
	if err := a.server.RPC("Catalog.ListServices", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return out.Services, nil
}

// catalogService serves GET /v1/catalog/service/<name>.
func (a *Agent) catalogService(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	args, err := serviceArgs(req, "/v1/catalog/service/")
	if err != nil {
		return nil, err
	}
	var out structs.IndexedServiceNodes
	if err := a.server.RPC("Catalog.ServiceNodes", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	return filterResult(req, out.ServiceNodes)
}

// catalogNode serves GET /v1/catalog/node/<node>: null for an unknown
// node, as Consul answers.
func (a *Agent) catalogNode(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.nodeServices(w, req, "/v1/catalog/node/", func(ns *structs.NodeServices) interface{} { return ns })
}

// catalogNodeServices serves GET /v1/catalog/node-services/<node>: the
// same, with the services as a list sorted by ID.
func (a *Agent) catalogNodeServices(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	return a.nodeServices(w, req, "/v1/catalog/node-services/", func(ns *structs.NodeServices) interface{} {
		list := []*structs.NodeService{}
		for _, s := range ns.Services {
			list = append(list, s)
		}
		sortServices(list)
		return map[string]interface{}{"Node": ns.Node, "Services": list}
	})
}

// nodeServices reads a node and its services and answers shape(them), or
// null for an unknown node.
func (a *Agent) nodeServices(w http.ResponseWriter, req *http.Request, prefix string, shape func(*structs.NodeServices) interface{}) (interface{}, error) {
	args, err := nodeArgs(req, prefix)
	if err != nil {
		return nil, err
	}
	var out structs.IndexedNodeServices
	if err := a.server.RPC("Catalog.NodeServices", &args, &out); err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	if out.NodeServices == nil {
		writeJSON(w, http.StatusOK, nil)
		return nil, nil
	}
	return shape(out.NodeServices), nil
}

// sortServices orders services by ID.
func sortServices(list []*structs.NodeService) {
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
}
