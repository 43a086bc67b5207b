package state

import (
	"fmt"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
)

// aclBootstrapIndex is the index-table row holding the Raft index of the
// ACL bootstrap; 0 or absent means ACLs were never bootstrapped. It is in
// the dump with the other index rows, so a restore carries it.
const aclBootstrapIndex = "acl-token-bootstrap"

// ACLBootstrapIndex returns the Raft index of the bootstrap, 0 if none.
func (s *Store) ACLBootstrapIndex() uint64 {
	tx := s.db.Txn(false)
	defer tx.Abort()
	return maxIndex(tx, aclBootstrapIndex)
}

// ACLBootstrap stores the initial management token at idx, unless ACLs
// were bootstrapped already and resetIndex does not name that bootstrap.
func (s *Store) ACLBootstrap(idx, resetIndex uint64, token *structs.ACLToken) error {
	return s.write(func(tx *memdb.Txn) error {
		if done := maxIndex(tx, aclBootstrapIndex); done != 0 && done != resetIndex {
			return fmt.Errorf("%w: ACL bootstrap no longer allowed (reset index: %d)", structs.ErrPermissionDenied, done)
		}
		if err := aclTokenSetTxn(tx, idx, token); err != nil {
			return err
		}
		return setIndex(tx, aclBootstrapIndex, idx)
	})
}

// ACLTokenSet creates or replaces a token (by AccessorID) at idx.
func (s *Store) ACLTokenSet(idx uint64, token *structs.ACLToken) error {
	return s.write(func(tx *memdb.Txn) error { return aclTokenSetTxn(tx, idx, token) })
}

func aclTokenSetTxn(tx *memdb.Txn, idx uint64, token *structs.ACLToken) error {
	if err := token.Validate(); err != nil {
		return fmt.Errorf("%w: %v", structs.ErrBadRequest, err)
	}
	if other, err := tx.First(tableACLTokens, "secret", token.SecretID); err != nil {
		return err
	} else if other != nil && other.(*structs.ACLToken).AccessorID != token.AccessorID {
		return fmt.Errorf("%w: a token with that SecretID exists already", structs.ErrBadRequest)
	}
	stored := *token
	stored.CreateIndex, stored.ModifyIndex = idx, idx
	old, err := tx.First(tableACLTokens, "id", token.AccessorID)
	if err != nil {
		return err
	}
	if old != nil {
		prev := old.(*structs.ACLToken)
		stored.CreateIndex, stored.CreateTime = prev.CreateIndex, prev.CreateTime
	}
	if err := insertRecord(tx, tableACLTokens, old, &stored); err != nil {
		return err
	}
	return setIndex(tx, tableACLTokens, idx)
}

// ACLTokenBySecret finds a token by its secret (nil if none), with the
// index of the tokens table.
func (s *Store) ACLTokenBySecret(ws memdb.WatchSet, secret string) (uint64, *structs.ACLToken, error) {
	return aclGet[structs.ACLToken](s, ws, tableACLTokens, "secret", secret)
}

// ACLTokenByAccessor finds a token by its accessor ID (nil if none), with
// the index of the tokens table.
func (s *Store) ACLTokenByAccessor(ws memdb.WatchSet, accessor string) (uint64, *structs.ACLToken, error) {
	return aclGet[structs.ACLToken](s, ws, tableACLTokens, "id", accessor)
}

// ACLTokenList lists tokens, only those linking policyID or roleID when
// given, and the index of the tokens table.
func (s *Store) ACLTokenList(ws memdb.WatchSet, policyID, roleID string) (uint64, []*structs.ACLToken, error) {
	return aclList(s, ws, tableACLTokens, func(t *structs.ACLToken) bool {
		return (policyID == "" || linksPolicy(t.Policies, policyID)) && (roleID == "" || linksRole(t.Roles, roleID))
	})
}

func linksPolicy(links []structs.ACLTokenPolicyLink, id string) bool {
	for _, l := range links {
		if l.ID == id {
			return true
		}
	}
	return false
}

func linksRole(links []structs.ACLTokenRoleLink, id string) bool {
	for _, l := range links {
		if l.ID == id {
			return true
		}
	}
	return false
}

// ACLPolicySet creates or replaces a policy (by ID) at idx; its name must
// not belong to another policy.
func (s *Store) ACLPolicySet(idx uint64, p *structs.ACLPolicy) error {
	return s.write(func(tx *memdb.Txn) error {
		return aclNamedSet(tx, idx, tableACLPolicies, p.ID, p.Name, p, &p.RaftIndex)
	})
}

// ACLRoleSet creates or replaces a role (by ID) at idx; its name must not
// belong to another role.
func (s *Store) ACLRoleSet(idx uint64, r *structs.ACLRole) error {
	return s.write(func(tx *memdb.Txn) error {
		return aclNamedSet(tx, idx, tableACLRoles, r.ID, r.Name, r, &r.RaftIndex)
	})
}

// aclNamedSet stores a policy or role: rec, whose RaftIndex is ri, is
// inserted with its indexes set; its CreateIndex survives an update.
func aclNamedSet(tx *memdb.Txn, idx uint64, table string, id, name string, rec interface{}, ri *structs.RaftIndex) error {
	if id == "" || name == "" {
		return fmt.Errorf("%w: an ID and a Name are required", structs.ErrBadRequest)
	}
	if other, err := tx.First(table, "name", name); err != nil {
		return err
	} else if other != nil && (dumpedTableOf(table).id(other) != id) {
		return fmt.Errorf("%w: the name %q is taken", structs.ErrBadRequest, name)
	}
	old, err := tx.First(table, "id", id)
	if err != nil {
		return err
	}
	ri.CreateIndex, ri.ModifyIndex = idx, idx
	if old != nil {
		ri.CreateIndex = recordCreateIndex(old)
	}
	if err := insertRecord(tx, table, old, rec); err != nil {
		return err
	}
	return setIndex(tx, table, idx)
}

func recordCreateIndex(rec interface{}) uint64 {
	switch r := rec.(type) {
	case *structs.ACLPolicy:
		return r.CreateIndex
	case *structs.ACLRole:
		return r.CreateIndex
	}
	return 0
}

// ACLPolicyGet finds a policy by ID, or by name when byName (nil if none),
// with the index of the policies table.
func (s *Store) ACLPolicyGet(ws memdb.WatchSet, key string, byName bool) (uint64, *structs.ACLPolicy, error) {
	return aclGet[structs.ACLPolicy](s, ws, tableACLPolicies, indexFor(byName), key)
}

// ACLRoleGet finds a role by ID, or by name when byName (nil if none),
// with the index of the roles table.
func (s *Store) ACLRoleGet(ws memdb.WatchSet, key string, byName bool) (uint64, *structs.ACLRole, error) {
	return aclGet[structs.ACLRole](s, ws, tableACLRoles, indexFor(byName), key)
}

func indexFor(byName bool) string {
	if byName {
		return "name"
	}
	return "id"
}

// ACLPolicyList lists the policies, and the index of their table.
func (s *Store) ACLPolicyList(ws memdb.WatchSet) (uint64, []*structs.ACLPolicy, error) {
	return aclList(s, ws, tableACLPolicies, func(*structs.ACLPolicy) bool { return true })
}

// ACLRoleList lists the roles, only those granting policyID when given,
// and the index of their table.
func (s *Store) ACLRoleList(ws memdb.WatchSet, policyID string) (uint64, []*structs.ACLRole, error) {
	return aclList(s, ws, tableACLRoles, func(r *structs.ACLRole) bool {
		return policyID == "" || linksPolicy(r.Policies, policyID)
	})
}

// ACLDelete deletes the token, policy or role with id at idx, if any.
func (s *Store) ACLDelete(idx uint64, t structs.MessageType, id string) error {
	var d dumpedTable
	switch t {
	case structs.ACLTokenDeleteRequestType:
		d = dumpedTableOf(tableACLTokens)
	case structs.ACLPolicyDeleteRequestType:
		d = dumpedTableOf(tableACLPolicies)
	case structs.ACLRoleDeleteRequestType:
		d = dumpedTableOf(tableACLRoles)
	default:
		return fmt.Errorf("state: %s is not an ACL delete", t)
	}
	return s.write(func(tx *memdb.Txn) error { return deleteRows(tx, idx, d.table, "id", id) })
}

// ACLIndex is the highest index of the ACL tables: it changes whenever a
// token, policy or role does, so it can version a cache of them.
func (s *Store) ACLIndex() uint64 {
	tx := s.db.Txn(false)
	defer tx.Abort()
	return maxIndex(tx, tableACLTokens, tableACLPolicies, tableACLRoles)
}

// aclGet finds the row of table whose index holds key, and the table's
// index: the X-Consul-Index of a read, as in Consul. ws gets the channel
// that a change to that row closes, or its creation when there is none.
func aclGet[T any](s *Store, ws memdb.WatchSet, table, index, key string) (uint64, *T, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	ch, row, err := tx.FirstWatch(table, index, key)
	if err != nil {
		return 0, nil, fmt.Errorf("state: %s: %w", table, err)
	}
	ws.Add(ch)
	idx := maxIndex(tx, table)
	if row == nil {
		return idx, nil, nil
	}
	return idx, row.(*T), nil
}

// aclList lists the rows of table that keep accepts, and the table's
// index; ws gets the channel that any change to the table closes.
func aclList[T any](s *Store, ws memdb.WatchSet, table string, keep func(*T) bool) (uint64, []*T, error) {
	tx := s.db.Txn(false)
	defer tx.Abort()
	it, err := tx.Get(table, "id")
	if err != nil {
		return 0, nil, fmt.Errorf("state: %s: %w", table, err)
	}
	ws.Add(it.WatchCh())
	out := []*T{}
	for row := it.Next(); row != nil; row = it.Next() {
		if r := row.(*T); keep(r) {
			out = append(out, r)
		}
	}
	return maxIndex(tx, table), out, nil
}
