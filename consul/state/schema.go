package state

import "github.com/hashicorp/go-memdb"

// Table names.
const (
	tableKVs        = "kvs"
	tableTombstones = "tombstones"
	tableIndex      = "index"
	tableDumpSize   = "dumpsize"

	tableACLTokens   = "acl-tokens"
	tableACLPolicies = "acl-policies"
	tableACLRoles    = "acl-roles"

	tableNodes    = "nodes"
	tableServices = "services"
	tableChecks   = "checks"

	tableSessions        = "sessions"
	tablePreparedQueries = "prepared-queries"
	// tableLockDelays holds, per key, when the lock delay of an
	// invalidated session ends. It is wall-clock state local to each
	// server, as in Consul: never dumped, lost on restore.
	tableLockDelays = "lock-delays"
)

// dumpSize is a row of the dumpsize table: how many bytes the records of
// one table take in a state dump. It lives in memdb, not beside it, so a
// memdb snapshot carries the sizes of exactly the records it holds.
type dumpSize struct {
	Table string
	Bytes int64
}

func schema() *memdb.DBSchema {
	byKey := func(field string) map[string]*memdb.IndexSchema {
		return map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: field}},
		}
	}
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableKVs: {Name: tableKVs, Indexes: map[string]*memdb.IndexSchema{
			"id":      {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
			"session": {Name: "session", AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "Session"}},
		}},
		tableTombstones: {Name: tableTombstones, Indexes: byKey("Key")},
		tableIndex:      {Name: tableIndex, Indexes: byKey("Key")},
		tableDumpSize:   {Name: tableDumpSize, Indexes: byKey("Table")},
		tableACLTokens: {Name: tableACLTokens, Indexes: map[string]*memdb.IndexSchema{
			"id":     {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "AccessorID"}},
			"secret": {Name: "secret", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "SecretID"}},
		}},
		tableACLPolicies: {Name: tableACLPolicies, Indexes: idAndName()},
		tableACLRoles:    {Name: tableACLRoles, Indexes: idAndName()},
		tableNodes:       {Name: tableNodes, Indexes: byKey("Node")},
		tableServices: {Name: tableServices, Indexes: map[string]*memdb.IndexSchema{
			"id":      {Name: "id", Unique: true, Indexer: nodeAnd("ID")},
			"node":    {Name: "node", Indexer: &memdb.StringFieldIndex{Field: "Node"}},
			"service": {Name: "service", Indexer: &memdb.StringFieldIndex{Field: "Name"}},
		}},
		tableSessions: {Name: tableSessions, Indexes: map[string]*memdb.IndexSchema{
			"id":   {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
			"node": {Name: "node", Indexer: &memdb.StringFieldIndex{Field: "Node"}},
		}},
		tableLockDelays: {Name: tableLockDelays, Indexes: byKey("Key")},
		tablePreparedQueries: {Name: tablePreparedQueries, Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
			// Names are optional (a query bound to a session needs none),
			// and unique when given.
			"name":    {Name: "name", Unique: true, AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
			"session": {Name: "session", AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "Session"}},
		}},
		tableChecks: {Name: tableChecks, Indexes: map[string]*memdb.IndexSchema{
			"id":           {Name: "id", Unique: true, Indexer: nodeAnd("CheckID")},
			"node":         {Name: "node", Indexer: &memdb.StringFieldIndex{Field: "Node"}},
			"status":       {Name: "status", Indexer: &memdb.StringFieldIndex{Field: "Status"}},
			"service":      {Name: "service", AllowMissing: true, Indexer: &memdb.StringFieldIndex{Field: "ServiceName"}},
			"node_service": {Name: "node_service", AllowMissing: true, Indexer: nodeAnd("ServiceID")},
		}},
	}}
}

// idAndName indexes records with a unique ID and a unique Name.
func idAndName() map[string]*memdb.IndexSchema {
	return map[string]*memdb.IndexSchema{
		"id":   {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
		"name": {Name: "name", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}},
	}
}

// nodeAnd indexes a row by its Node and one more string field.
func nodeAnd(field string) memdb.Indexer {
	return &memdb.CompoundIndex{Indexes: []memdb.Indexer{
		&memdb.StringFieldIndex{Field: "Node"},
		&memdb.StringFieldIndex{Field: field},
	}}
}
