package consul

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-memdb"
	"github.com/hashicorp/go-uuid"
)

// ACL serves tokens, policies and roles.
type ACL struct {
	srv *Server
}

// aclBootstrapResetFile, in the data dir, holds the reset index that
// allows one more bootstrap, as in Consul.
const aclBootstrapResetFile = "acl-bootstrap-reset"

// authorize checks the request's token and returns what it may do; it
// answers ErrACLDisabled while ACLs are off, as Consul's ACL endpoints do.
func (a *ACL) authorize(secret string, allowed func(acl.Authorizer) bool) (acl.Authorizer, error) {
	if !a.srv.config.ACLsEnabled {
		return nil, structs.ErrACLDisabled
	}
	return a.srv.authorized(secret, allowed)
}

func canRead(z acl.Authorizer) bool  { return z.ACLRead() }
func canWrite(z acl.Authorizer) bool { return z.ACLWrite() }

// anyToken lets every valid token through: what reading oneself needs.
func anyToken(acl.Authorizer) bool { return true }

// read is readQuery for the ACL endpoints: they answer ErrACLDisabled
// while ACLs are off, as Consul's do, and ErrPermissionDenied unless the
// token's authorizer passes allowed; fn then runs as a blocking query.
func (a *ACL) read(method, dc string, opts *structs.QueryOptions, args, reply interface{}, meta *structs.QueryMeta,
	allowed func(acl.Authorizer) bool, fn func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error) error {
	if !a.srv.config.ACLsEnabled {
		return structs.ErrACLDisabled
	}
	return a.srv.readQuery(method, dc, opts, args, reply, meta, func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
		if !allowed(z) {
			return structs.ErrPermissionDenied
		}
		return fn(ws, st, z)
	})
}

// forwardWrite sends a write to the leader, or here on the leader checks
// that the token has acl = "write". done reports that the call is
// answered: forwarded, or refused with err.
func (a *ACL) forwardWrite(method, dc, token string, args, reply interface{}) (done bool, err error) {
	if done, err := a.srv.forward(method, dc, false, args, reply); done {
		return true, err
	}
	if _, err := a.authorize(token, canWrite); err != nil {
		return true, err
	}
	return false, nil
}

// applyDelete is TokenDelete, PolicyDelete and RoleDelete: it writes the
// delete of type t once check (when not nil) has nothing against it.
func (a *ACL) applyDelete(method string, t structs.MessageType, args *structs.ACLDeleteRequest, reply *bool, check func() error) error {
	if done, err := a.forwardWrite(method, args.Datacenter, args.Token, args, reply); done {
		return err
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if _, err := a.srv.raftApply(t, args); err != nil {
		return err
	}
	*reply = true
	return nil
}

// Bootstrap creates the first management token, once; a reset file in
// the data dir holding the bootstrap's index allows it once more.
func (a *ACL) Bootstrap(args *structs.DCSpecificRequest, reply *structs.ACLToken) error {
	if done, err := a.srv.forward("ACL.Bootstrap", args.Datacenter, false, args, reply); done {
		return err
	}
	if !a.srv.config.ACLsEnabled {
		return structs.ErrACLDisabled
	}
	req := structs.ACLTokenBootstrapRequest{ResetIndex: a.readResetIndex()}
	token, err := managementToken("", "Bootstrap Token (Global Management)")
	if err != nil {
		return err
	}
	req.Token = *token
	if _, err := a.srv.raftApply(structs.ACLBootstrapRequestType, &req); err != nil {
		return err
	}
	if req.ResetIndex != 0 {
		os.Remove(filepath.Join(a.srv.config.DataDir, aclBootstrapResetFile))
	}
	_, stored, err := a.srv.fsm.State().ACLTokenByAccessor(nil, token.AccessorID)
	if err != nil || stored == nil {
		return fmt.Errorf("acl: bootstrap token not found after writing it: %v", err)
	}
	*reply = *stored
	return nil
}

// readResetIndex reads the reset file; 0 when there is none.
func (a *ACL) readResetIndex() uint64 {
	if a.srv.config.DevMode {
		return 0
	}
	raw, err := os.ReadFile(filepath.Join(a.srv.config.DataDir, aclBootstrapResetFile))
	if err != nil {
		return 0
	}
	idx, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		a.srv.logger.Warn("ignoring an unreadable ACL bootstrap reset file", "error", err)
		return 0
	}
	return idx
}

// TokenSet creates a token (args.Create, or no AccessorID) or updates
// one, as Consul does: a new token takes the caller's AccessorID and
// SecretID if given, when they are UUIDs no token uses; an update must
// name a token that exists, and cannot change its SecretID.
func (a *ACL) TokenSet(args *structs.ACLTokenSetRequest, reply *structs.ACLToken) error {
	if done, err := a.forwardWrite("ACL.TokenSet", args.Datacenter, args.Token, args, reply); done {
		return err
	}
	store := a.srv.fsm.State()
	t := args.ACLToken
	if t.AccessorID == "" || args.Create {
		if err := newTokenIDs(store, &t); err != nil {
			return err
		}
		t.CreateTime = time.Now()
	} else {
		_, old, err := store.ACLTokenByAccessor(nil, t.AccessorID)
		if err != nil {
			return err
		}
		if old == nil {
			return fmt.Errorf("%w: Cannot find token %q", structs.ErrBadRequest, t.AccessorID)
		}
		if t.SecretID != "" && t.SecretID != old.SecretID {
			return fmt.Errorf("%w: Changing a token's SecretID is not permitted", structs.ErrBadRequest)
		}
		t.SecretID, t.CreateTime = old.SecretID, old.CreateTime
	}
	if err := resolveLinks(store, t.Policies, t.Roles); err != nil {
		return err
	}
	if _, err := a.srv.raftApply(structs.ACLTokenSetRequestType, &structs.ACLTokenSetRequest{ACLToken: t}); err != nil {
		return err
	}
	_, stored, err := a.srv.fsm.State().ACLTokenByAccessor(nil, t.AccessorID)
	if err != nil || stored == nil {
		return fmt.Errorf("acl: token not found after writing it: %v", err)
	}
	*reply = *withLinkNames(a.srv.fsm.State(), stored)
	return nil
}

// newTokenIDs fills in a new token's AccessorID and SecretID: each the
// caller's if given, once checked, or a fresh UUID.
func newTokenIDs(store *state.Store, t *structs.ACLToken) error {
	err := newTokenID("AccessorID", &t.AccessorID, func(id string) (bool, error) {
		_, tok, err := store.ACLTokenByAccessor(nil, id)
		return tok != nil, err
	})
	if err != nil {
		return err
	}
	return newTokenID("SecretID", &t.SecretID, func(id string) (bool, error) {
		_, tok, err := store.ACLTokenBySecret(nil, id)
		return tok != nil, err
	})
}

// newTokenID sets *id to a fresh UUID when it is empty, and otherwise
// checks the caller's, as Consul does: a UUID, outside the prefix
// reserved for built-in tokens, that no token uses.
func newTokenID(name string, id *string, inUse func(string) (bool, error)) error {
	if *id == "" {
		v, err := uuid.GenerateUUID()
		*id = v
		return err
	}
	if strings.HasPrefix(*id, acl.ReservedIDPrefix) {
		return fmt.Errorf("%w: Invalid Token: %s - UUIDs with the prefix %q are reserved", structs.ErrBadRequest, name, acl.ReservedIDPrefix)
	}
	if _, err := uuid.ParseUUID(*id); err != nil {
		return fmt.Errorf("%w: Invalid Token: %s - not a valid UUID", structs.ErrBadRequest, name)
	}
	used, err := inUse(*id)
	if err != nil {
		return err
	}
	if used {
		return fmt.Errorf("%w: Invalid Token: %s is already in use", structs.ErrBadRequest, name)
	}
	return nil
}

// resolveLinks checks that every linked policy and role exists, filling
// the ID of a link given by name and the name of one given by ID.
func resolveLinks(store *state.Store, policies []structs.ACLTokenPolicyLink, roles []structs.ACLTokenRoleLink) error {
	for i := range policies {
		l := &policies[i]
		_, p, err := store.ACLPolicyGet(nil, firstNonEmpty(l.ID, l.Name), l.ID == "")
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("%w: No such ACL policy with ID %q or name %q", structs.ErrBadRequest, l.ID, l.Name)
		}
		l.ID, l.Name = p.ID, p.Name
	}
	for i := range roles {
		l := &roles[i]
		_, r, err := store.ACLRoleGet(nil, firstNonEmpty(l.ID, l.Name), l.ID == "")
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("%w: No such ACL role with ID %q or name %q", structs.ErrBadRequest, l.ID, l.Name)
		}
		l.ID, l.Name = r.ID, r.Name
	}
	return nil
}

// firstNonEmpty is the first of its strings that is not empty, or "".
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// withLinkNames returns a copy of t whose links carry the current names
// of their policies and roles; links to deleted ones are left out.
func withLinkNames(store *state.Store, t *structs.ACLToken) *structs.ACLToken {
	out := *t
	out.Policies, out.Roles = nil, nil
	for _, l := range t.Policies {
		if _, p, _ := store.ACLPolicyGet(nil, l.ID, false); p != nil {
			out.Policies = append(out.Policies, structs.ACLTokenPolicyLink{ID: p.ID, Name: p.Name})
		}
	}
	for _, l := range t.Roles {
		if _, r, _ := store.ACLRoleGet(nil, l.ID, false); r != nil {
			out.Roles = append(out.Roles, structs.ACLTokenRoleLink{ID: r.ID, Name: r.Name})
		}
	}
	return &out
}

// visibleToken is t as a reader sees it: with the current names of its
// links, and its SecretID shown only when mayReveal (a token with
// acl = "write", or the token reading itself); others get "<hidden>",
// as in Consul. A secret is a credential: acl = "read" must not turn into
// whatever the tokens it can list may do.
func visibleToken(store *state.Store, t *structs.ACLToken, mayReveal bool) *structs.ACLToken {
	out := withLinkNames(store, t)
	if !mayReveal {
		out.SecretID = redactedToken
	}
	return out
}

// TokenRead reads a token by accessor, or the caller's own (Self).
func (a *ACL) TokenRead(args *structs.ACLGetRequest, reply *structs.ACLTokenResponse) error {
	// Any valid token may read itself.
	allowed := canRead
	if args.Self {
		allowed = anyToken
	}
	return a.read("ACL.TokenRead", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta, allowed,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			var idx uint64
			var t *structs.ACLToken
			var err error
			if args.Self {
				idx, t, err = st.ACLTokenBySecret(ws, a.srv.requestSecret(args.Token))
			} else {
				idx, t, err = st.ACLTokenByAccessor(ws, args.ID)
			}
			if err != nil {
				return err
			}
			if t == nil {
				return structs.ErrACLNotFound
			}
			// The caller knows its own secret: reading itself shows it.
			reply.Index, reply.Token = idx, visibleToken(st, t, args.Self || z.ACLWrite())
			return nil
		})
}

// TokenDelete deletes a token; the anonymous token and the caller's own
// cannot be deleted.
func (a *ACL) TokenDelete(args *structs.ACLDeleteRequest, reply *bool) error {
	return a.applyDelete("ACL.TokenDelete", structs.ACLTokenDeleteRequestType, args, reply, func() error {
		if args.ID == acl.AnonymousTokenID {
			return fmt.Errorf("%w: Delete operation not permitted on the anonymous token", structs.ErrBadRequest)
		}
		_, t, err := a.srv.fsm.State().ACLTokenByAccessor(nil, args.ID)
		if err == nil && t != nil && t.SecretID == args.Token {
			return fmt.Errorf("%w: Deletion of the request's authorization token is not permitted", structs.ErrBadRequest)
		}
		return err
	})
}

// TokenList lists tokens, optionally those holding a policy or role.
func (a *ACL) TokenList(args *structs.ACLListRequest, reply *structs.ACLTokensResponse) error {
	return a.read("ACL.TokenList", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta, canRead,
		func(ws memdb.WatchSet, st *state.Store, z acl.Authorizer) error {
			idx, tokens, err := st.ACLTokenList(ws, args.Policy, args.Role)
			if err != nil {
				return err
			}
			reply.Index, reply.Tokens = idx, make([]*structs.ACLToken, 0, len(tokens))
			for _, t := range tokens {
				reply.Tokens = append(reply.Tokens, visibleToken(st, t, z.ACLWrite()))
			}
			return nil
		})
}

// namedGet reads one policy or role by ID, or by name when byName: it is
// (*state.Store).ACLPolicyGet or (*state.Store).ACLRoleGet, so that the
// code policies and roles share is written once.
type namedGet[T any] func(st *state.Store, ws memdb.WatchSet, key string, byName bool) (uint64, *T, error)

// newOrStored gives a policy or role without an ID (*id is "") a new one,
// and returns nil. For one with an ID it returns the stored record, or a
// 400 naming kind when there is none: an update does not create.
func newOrStored[T any](st *state.Store, kind string, id *string, get namedGet[T]) (*T, error) {
	if *id == "" {
		var err error
		*id, err = uuid.GenerateUUID()
		return nil, err
	}
	_, old, err := get(st, nil, *id, false)
	if err == nil && old == nil {
		err = fmt.Errorf("%w: Cannot find %s %q to update", structs.ErrBadRequest, kind, *id)
	}
	return old, err
}

// applyNamed writes req, the Raft entry of type t that stores the policy
// or role id, and answers with the record as stored.
func applyNamed[T any](a *ACL, t structs.MessageType, req interface{}, kind, id string, get namedGet[T], reply *T) error {
	if _, err := a.srv.raftApply(t, req); err != nil {
		return err
	}
	_, stored, err := get(a.srv.fsm.State(), nil, id, false)
	if err != nil || stored == nil {
		return fmt.Errorf("acl: %s not found after writing it: %v", kind, err)
	}
	*reply = *stored
	return nil
}

// readNamed is PolicyRead and RoleRead: the record args name, by ID or by
// name, into *out. A missing one is an empty answer (HTTP 404), as in
// Consul; a blocking read of it wakes when it is created.
func readNamed[T any](a *ACL, method string, args *structs.ACLGetRequest, reply interface{}, meta *structs.QueryMeta, out **T, get namedGet[T]) error {
	return a.read(method, args.Datacenter, &args.QueryOptions, args, reply, meta, canRead,
		func(ws memdb.WatchSet, st *state.Store, _ acl.Authorizer) (err error) {
			meta.Index, *out, err = get(st, ws, firstNonEmpty(args.ID, args.Name), args.ID == "")
			return err
		})
}

// PolicySet creates a policy (no ID) or updates one. Rules must parse; the
// global-management policy's rules cannot change.
func (a *ACL) PolicySet(args *structs.ACLPolicySetRequest, reply *structs.ACLPolicy) error {
	if done, err := a.forwardWrite("ACL.PolicySet", args.Datacenter, args.Token, args, reply); done {
		return err
	}
	p := args.Policy
	if p.Name == "" {
		return fmt.Errorf("%w: Invalid Policy: no Name is set", structs.ErrBadRequest)
	}
	if _, err := acl.Parse(p.Rules); err != nil {
		return fmt.Errorf("%w: Invalid Policy: %v", structs.ErrBadRequest, err)
	}
	old, err := newOrStored(a.srv.fsm.State(), "policy", &p.ID, (*state.Store).ACLPolicyGet)
	if err != nil {
		return err
	}
	if old != nil && p.ID == acl.GlobalManagementPolicyID && p.Rules != old.Rules {
		return fmt.Errorf("%w: Changing the Rules for the builtin global-management policy is not permitted", structs.ErrBadRequest)
	}
	return applyNamed(a, structs.ACLPolicySetRequestType, &structs.ACLPolicySetRequest{Policy: p}, "policy", p.ID, (*state.Store).ACLPolicyGet, reply)
}

// PolicyRead reads a policy by ID or by name.
func (a *ACL) PolicyRead(args *structs.ACLGetRequest, reply *structs.ACLPolicyResponse) error {
	return readNamed(a, "ACL.PolicyRead", args, reply, &reply.QueryMeta, &reply.Policy, (*state.Store).ACLPolicyGet)
}

// PolicyDelete deletes a policy; the global-management policy stays.
func (a *ACL) PolicyDelete(args *structs.ACLDeleteRequest, reply *bool) error {
	return a.applyDelete("ACL.PolicyDelete", structs.ACLPolicyDeleteRequestType, args, reply, func() error {
		if args.ID == acl.GlobalManagementPolicyID {
			return fmt.Errorf("%w: Delete operation not permitted on the builtin global-management policy", structs.ErrBadRequest)
		}
		return nil
	})
}

// PolicyList lists the policies.
func (a *ACL) PolicyList(args *structs.ACLListRequest, reply *structs.ACLPoliciesResponse) error {
	return a.read("ACL.PolicyList", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta, canRead,
		func(ws memdb.WatchSet, st *state.Store, _ acl.Authorizer) (err error) {
			reply.Index, reply.Policies, err = st.ACLPolicyList(ws)
			return err
		})
}

// RoleSet creates a role (no ID) or updates one.
func (a *ACL) RoleSet(args *structs.ACLRoleSetRequest, reply *structs.ACLRole) error {
	if done, err := a.forwardWrite("ACL.RoleSet", args.Datacenter, args.Token, args, reply); done {
		return err
	}
	r := args.Role
	if r.Name == "" {
		return fmt.Errorf("%w: Invalid Role: no Name is set", structs.ErrBadRequest)
	}
	store := a.srv.fsm.State()
	if err := resolveLinks(store, r.Policies, nil); err != nil {
		return err
	}
	if _, err := newOrStored(store, "role", &r.ID, (*state.Store).ACLRoleGet); err != nil {
		return err
	}
	return applyNamed(a, structs.ACLRoleSetRequestType, &structs.ACLRoleSetRequest{Role: r}, "role", r.ID, (*state.Store).ACLRoleGet, reply)
}

// RoleRead reads a role by ID or by name.
func (a *ACL) RoleRead(args *structs.ACLGetRequest, reply *structs.ACLRoleResponse) error {
	return readNamed(a, "ACL.RoleRead", args, reply, &reply.QueryMeta, &reply.Role, (*state.Store).ACLRoleGet)
}

// RoleDelete deletes a role.
func (a *ACL) RoleDelete(args *structs.ACLDeleteRequest, reply *bool) error {
	return a.applyDelete("ACL.RoleDelete", structs.ACLRoleDeleteRequestType, args, reply, nil)
}

// RoleList lists roles, optionally those granting a policy.
func (a *ACL) RoleList(args *structs.ACLListRequest, reply *structs.ACLRolesResponse) error {
	return a.read("ACL.RoleList", args.Datacenter, &args.QueryOptions, args, reply, &reply.QueryMeta, canRead,
		func(ws memdb.WatchSet, st *state.Store, _ acl.Authorizer) (err error) {
			reply.Index, reply.Roles, err = st.ACLRoleList(ws, args.Policy)
			return err
		})
}
