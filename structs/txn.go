package structs

// MaxTxnOps is the most operations one transaction may hold (Consul's
// default txn_max_req_len companion limit).
const MaxTxnOps = 64

// TxnKVOp is one KV operation in a transaction.
type TxnKVOp struct {
	Verb   KVSOp
	DirEnt DirEntry
}

// TxnOp is one operation in a transaction; only KV exists so far.
type TxnOp struct {
	KV *TxnKVOp
}

// TxnOps is the list of operations of a transaction.
type TxnOps []*TxnOp

// TxnRequest is the Raft log entry and RPC argument of a transaction.
type TxnRequest struct {
	Datacenter string
	Ops        TxnOps
	WriteRequest
}

// TxnReadRequest is a transaction of reads only, which needs no Raft write.
type TxnReadRequest struct {
	Datacenter string
	Ops        TxnOps
	QueryOptions
}

// TxnError names the operation that failed and why.
type TxnError struct {
	OpIndex int
	What    string
}

// Error makes TxnError an error.
func (e TxnError) Error() string {
	return e.What
}

// TxnErrors is the list of failures of a rolled-back transaction.
type TxnErrors []*TxnError

// TxnResult is the result of one operation.
type TxnResult struct {
	KV *DirEntry `json:",omitempty"`
}

// TxnResults are the results of a committed transaction.
type TxnResults []*TxnResult

// TxnResponse is the reply to a transaction: results if it committed,
// errors if it rolled back.
type TxnResponse struct {
	Results TxnResults
	Errors  TxnErrors
}

// TxnReadResponse is the reply to a read-only transaction.
type TxnReadResponse struct {
	TxnResponse
	QueryMeta
}
