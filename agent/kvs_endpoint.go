package agent

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/consulcompat/consul/structs"
)

// kvEndpoint serves /v1/kv/<key>.
func (a *Agent) kvEndpoint(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	key := strings.TrimPrefix(req.URL.Path, "/v1/kv/")
	switch req.Method {
	case "GET":
		return a.kvGet(w, req, key)
	case "PUT":
		return a.kvPut(req, key)
	default:
		return a.kvDelete(req, key)
	}
}

func (a *Agent) kvGet(w http.ResponseWriter, req *http.Request, key string) (interface{}, error) {
	opts, err := parseQueryOptions(req)
	if err != nil {
		return nil, err
	}
	dc := parseDC(req)
	if has(req, "keys") {
		args := structs.KeyListRequest{Datacenter: dc, Prefix: key, Seperator: req.URL.Query().Get("separator"), QueryOptions: opts}
		var out structs.IndexedKeyList
		if err := a.server.RPC("KVS.ListKeys", &args, &out); err != nil {
			return nil, err
		}
		setMeta(w, &out.QueryMeta)
		if len(out.Keys) == 0 {
			w.WriteHeader(http.StatusNotFound)
			return nil, nil
		}
		return out.Keys, nil
	}
	var out structs.IndexedDirEntries
	if has(req, "recurse") {
		args := structs.KeyListRequest{Datacenter: dc, Prefix: key, QueryOptions: opts}
		err = a.server.RPC("KVS.List", &args, &out)
	} else {
		if key == "" {
			return nil, badRequest("Missing key name")
		}
		args := structs.KeyRequest{Datacenter: dc, Key: key, QueryOptions: opts}
		err = a.server.RPC("KVS.Get", &args, &out)
	}
	if err != nil {
		return nil, err
	}
	setMeta(w, &out.QueryMeta)
	if len(out.Entries) == 0 {
		w.WriteHeader(http.StatusNotFound)
		return nil, nil
	}
	if has(req, "raw") {
		// The value is the user's bytes; never let a browser guess a type.
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(out.Entries[0].Value)
		return nil, nil
	}
	return out.Entries, nil
}

func (a *Agent) kvPut(req *http.Request, key string) (interface{}, error) {
	if key == "" {
		return nil, badRequest("Missing key name")
	}
	if n := countPresent(req, "cas", "acquire", "release"); n > 1 {
		return nil, badRequest("Conflicting flags: %s", req.URL.RawQuery)
	}
	args := structs.KVSRequest{
		Datacenter:   parseDC(req),
		Op:           structs.KVSet,
		DirEnt:       structs.DirEntry{Key: key},
		WriteRequest: structs.WriteRequest{Token: token(req)},
	}
	q := req.URL.Query()
	if v := q.Get("flags"); v != "" {
		flags, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, badRequest("Invalid flags: %q", v)
		}
		args.DirEnt.Flags = flags
	}
	if has(req, "cas") {
		cas, err := strconv.ParseUint(q.Get("cas"), 10, 64)
		if err != nil {
			return nil, badRequest("Invalid cas index: %q", q.Get("cas"))
		}
		args.Op, args.DirEnt.ModifyIndex = structs.KVCAS, cas
	}
	if has(req, "acquire") {
		args.Op, args.DirEnt.Session = structs.KVLock, q.Get("acquire")
	}
	if has(req, "release") {
		args.Op, args.DirEnt.Session = structs.KVUnlock, q.Get("release")
	}
	value, err := readBody(req, structs.MaxKVSize)
	if err != nil {
		return nil, err
	}
	args.DirEnt.Value = value
	var ok bool
	if err := a.server.RPC("KVS.Apply", &args, &ok); err != nil {
		return nil, err
	}
	return ok, nil
}

// countPresent counts the query parameters of names present in req.
func countPresent(req *http.Request, names ...string) int {
	n := 0
	for _, name := range names {
		if has(req, name) {
			n++
		}
	}
	return n
}

func (a *Agent) kvDelete(req *http.Request, key string) (interface{}, error) {
	args := structs.KVSRequest{
		Datacenter:   parseDC(req),
		Op:           structs.KVDelete,
		DirEnt:       structs.DirEntry{Key: key},
		WriteRequest: structs.WriteRequest{Token: token(req)},
	}
	switch {
	case has(req, "recurse"):
		args.Op = structs.KVDeleteTree
	case key == "":
		return nil, badRequest("Missing key name")
	case has(req, "cas"):
		cas, err := strconv.ParseUint(req.URL.Query().Get("cas"), 10, 64)
		if err != nil {
			return nil, badRequest("Invalid cas index: %q", req.URL.Query().Get("cas"))
		}
		args.Op, args.DirEnt.ModifyIndex = structs.KVDeleteCAS, cas
	}
	var ok bool
	if err := a.server.RPC("KVS.Apply", &args, &ok); err != nil {
		return nil, err
	}
	return ok, nil
}
