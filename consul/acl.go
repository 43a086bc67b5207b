package consul

import (
	"fmt"
	"sync"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
)

// redactedToken replaces a secret (a token's SecretID, a prepared query's
// Token) for callers who may not see it: those without acl = "write".
const redactedToken = "<hidden>"

// anonymousSecret is the secret of the anonymous token, Consul's value.
const anonymousSecret = "anonymous"

// aclCache keeps the authorizers built for secrets. It is versioned by the
// state store and its ACL index: any change to a token, policy or role, or
// a restore, empties it, so a cached answer is never stale and token
// resolution never needs a Raft write.
type aclCache struct {
	mu      sync.Mutex
	store   *state.Store
	version uint64
	authz   map[string]acl.Authorizer
}

// maxCachedTokens bounds the cache; past it, it starts afresh.
const maxCachedTokens = 10000

func (c *aclCache) get(store *state.Store, version uint64, secret string) (acl.Authorizer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store != store || c.version != version || len(c.authz) > maxCachedTokens {
		c.store, c.version, c.authz = store, version, make(map[string]acl.Authorizer)
	}
	a, ok := c.authz[secret]
	return a, ok
}

func (c *aclCache) put(store *state.Store, version uint64, secret string, a acl.Authorizer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store == store && c.version == version {
		c.authz[secret] = a
	}
}

// ResolveToken returns what the holder of secret may do. With ACLs off
// that is everything. No secret means the default token, or else the
// anonymous token. A secret no token has fails with ErrACLNotFound.
func (s *Server) ResolveToken(secret string) (acl.Authorizer, error) {
	if !s.config.ACLsEnabled {
		return acl.ManageAll(), nil
	}
	secret = s.requestSecret(secret)
	store := s.fsm.State()
	version := store.ACLIndex()
	if a, ok := s.aclCache.get(store, version, secret); ok {
		return a, nil
	}
	a, err := s.buildAuthorizer(store, secret)
	if err != nil {
		return nil, err
	}
	s.aclCache.put(store, version, secret, a)
	return a, nil
}

// requestSecret is the secret a request acts with: its own, else the
// default token's (acl.tokens.default), else the anonymous token's.
func (s *Server) requestSecret(secret string) string {
	return firstNonEmpty(secret, s.config.ACLDefaultToken, anonymousSecret)
}

// buildAuthorizer gathers the policies a token holds, directly and
// through its roles, and merges them.
func (s *Server) buildAuthorizer(store *state.Store, secret string) (acl.Authorizer, error) {
	_, token, err := store.ACLTokenBySecret(nil, secret)
	if err != nil {
		return nil, err
	}
	if token == nil {
		if secret == anonymousSecret {
			// Before the leader has created the anonymous token, it has no
			// policies: only the default applies.
			return acl.NewAuthorizer(s.config.ACLDefaultAllow), nil
		}
		return nil, structs.ErrACLNotFound
	}
	links := append([]structs.ACLTokenPolicyLink(nil), token.Policies...)
	for _, rl := range token.Roles {
		_, role, err := store.ACLRoleGet(nil, rl.ID, false)
		if err != nil {
			return nil, err
		}
		if role != nil {
			links = append(links, role.Policies...)
		}
	}
	var policies []*acl.Policy
	for _, l := range links {
		_, p, err := store.ACLPolicyGet(nil, l.ID, false)
		if err != nil {
			return nil, err
		}
		if p == nil {
			// A deleted policy grants nothing; the link stays, as in Consul.
			continue
		}
		parsed, err := acl.Parse(p.Rules)
		if err != nil {
			return nil, fmt.Errorf("acl: policy %q: %w", p.Name, err)
		}
		policies = append(policies, parsed)
	}
	return acl.NewAuthorizer(s.config.ACLDefaultAllow, policies...), nil
}

// authorize resolves secret and checks allowed on what it may do; a
// refusal is ErrPermissionDenied. With ACLs off everything is allowed.
func (s *Server) authorize(secret string, allowed func(acl.Authorizer) bool) error {
	_, err := s.authorized(secret, allowed)
	return err
}

// authorized is authorize that also returns what the token may do.
func (s *Server) authorized(secret string, allowed func(acl.Authorizer) bool) (acl.Authorizer, error) {
	authz, err := s.ResolveToken(secret)
	if err != nil {
		return nil, err
	}
	if !allowed(authz) {
		return nil, structs.ErrPermissionDenied
	}
	return authz, nil
}
