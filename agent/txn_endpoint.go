package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/consulcompat/consul/structs"
)

// maxTxnBody is Consul's default txn_max_req_len: 512 KiB.
const maxTxnBody = 512 * 1024

// txnOpJSON is one operation as /v1/txn receives it (the official
// client's api.TxnOp). Only KV operations exist so far.
type txnOpJSON struct {
	KV *struct {
		Verb    structs.KVSOp
		Key     string
		Value   []byte
		Flags   uint64
		Index   uint64
		Session string
	}
	Node    json.RawMessage
	Service json.RawMessage
	Check   json.RawMessage
}

// txnEndpoint serves PUT /v1/txn: writes go through Raft atomically; a
// transaction of reads only is served without a Raft write.
func (a *Agent) txnEndpoint(w http.ResponseWriter, req *http.Request) (interface{}, error) {
	body, err := readBody(req, maxTxnBody)
	if err != nil {
		return nil, err
	}
	ops, writes, err := decodeTxnOps(body)
	if err != nil {
		return nil, err
	}
	var resp structs.TxnResponse
	if writes {
		args := structs.TxnRequest{Datacenter: parseDC(req), Ops: ops, WriteRequest: structs.WriteRequest{Token: token(req)}}
		if err := a.server.RPC("Txn.Apply", &args, &resp); err != nil {
			return nil, err
		}
	} else {
		opts, err := parseQueryOptions(req)
		if err != nil {
			return nil, err
		}
		args := structs.TxnReadRequest{Datacenter: parseDC(req), Ops: ops, QueryOptions: opts}
		var out structs.TxnReadResponse
		if err := a.server.RPC("Txn.Read", &args, &out); err != nil {
			return nil, err
		}
		setMeta(w, &out.QueryMeta)
		resp = out.TxnResponse
	}
	if len(resp.Errors) > 0 {
		// A check or CAS that failed rolls everything back: 409, as Consul.
		writeJSON(w, http.StatusConflict, resp)
		return nil, nil
	}
	return resp, nil
}

// decodeTxnOps parses the body and reports whether any operation writes.
func decodeTxnOps(body []byte) (structs.TxnOps, bool, error) {
	var in []txnOpJSON
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
		return nil, false, badRequest("Failed to parse body: %v", err)
	}
	if len(in) > structs.MaxTxnOps {
		return nil, false, fmt.Errorf("%w: Transaction contains too many operations (%d > %d)", structs.ErrTooLarge, len(in), structs.MaxTxnOps)
	}
	ops := make(structs.TxnOps, 0, len(in))
	writes := false
	for i, op := range in {
		if op.KV == nil {
			if op.Node != nil || op.Service != nil || op.Check != nil {
				return nil, false, badRequest("operation %d: only KV operations are supported yet", i)
			}
			return nil, false, badRequest("operation %d: no KV operation given", i)
		}
		kv := &structs.TxnKVOp{Verb: op.KV.Verb, DirEnt: structs.DirEntry{
			Key: op.KV.Key, Value: op.KV.Value, Flags: op.KV.Flags, Session: op.KV.Session,
		}}
		kv.DirEnt.ModifyIndex = op.KV.Index
		writes = writes || kv.Verb.IsWrite()
		ops = append(ops, &structs.TxnOp{KV: kv})
	}
	return ops, writes, nil
}
