package agent

import (
	"strings"
	"testing"

	"github.com/consulcompat/consul/agent/config"
	"github.com/hashicorp/consul/api"
)

// TestACLTokenCreateAndUpdateIDs: as in Consul, a create (PUT
// /v1/acl/token) takes the caller's AccessorID and SecretID when they are
// UUIDs no token uses, and an update (PUT /v1/acl/token/<accessor>) must
// name a token that exists; neither turns into the other.
func TestACLTokenCreateAndUpdateIDs(t *testing.T) {
	_, root := testAgent(t, withACLs())
	acl := root.ACL()
	const accessor = "aaaaaaaa-1111-4222-8333-444444444444"

	made, _, err := acl.TokenCreate(&api.ACLToken{AccessorID: accessor, Description: "seeded"}, nil)
	if err != nil {
		t.Fatalf("create with the caller's AccessorID alone: %v", err)
	}
	if made.AccessorID != accessor || made.SecretID == "" {
		t.Fatalf("created %s with secret %q", made.AccessorID, made.SecretID)
	}

	refused := []struct {
		name string
		call func() error
		want string
	}{
		{"create with an AccessorID in use", func() error {
			_, _, err := acl.TokenCreate(&api.ACLToken{AccessorID: accessor, Description: "again"}, nil)
			return err
		}, "Invalid Token: AccessorID is already in use"},
		{"create with a SecretID in use", func() error {
			_, _, err := acl.TokenCreate(&api.ACLToken{SecretID: made.SecretID}, nil)
			return err
		}, "Invalid Token: SecretID is already in use"},
		{"create with an AccessorID that is no UUID", func() error {
			_, _, err := acl.TokenCreate(&api.ACLToken{AccessorID: "mine"}, nil)
			return err
		}, "Invalid Token: AccessorID - not a valid UUID"},
		{"create with a reserved SecretID", func() error {
			_, _, err := acl.TokenCreate(&api.ACLToken{SecretID: "00000000-0000-0000-0000-000000000099"}, nil)
			return err
		}, "are reserved"},
		{"update of a token that does not exist", func() error {
			_, _, err := acl.TokenUpdate(&api.ACLToken{AccessorID: "bbbbbbbb-1111-4222-8333-444444444444",
				SecretID: "cccccccc-1111-4222-8333-444444444444"}, nil)
			return err
		}, "Cannot find token"},
		{"update that changes the SecretID", func() error {
			_, _, err := acl.TokenUpdate(&api.ACLToken{AccessorID: accessor, SecretID: "dddddddd-1111-4222-8333-444444444444"}, nil)
			return err
		}, "Changing a token's SecretID is not permitted"},
	}
	for _, r := range refused {
		if err := r.call(); err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: %v, want 400 %q", r.name, err, r.want)
		}
	}

	got, _, err := acl.TokenRead(accessor, nil)
	if err != nil || got.Description != "seeded" || got.SecretID != made.SecretID {
		t.Fatalf("the seeded token after the refusals: %+v %v", got, err)
	}
	list, _, err := acl.TokenList(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if strings.HasPrefix(tok.AccessorID, "bbbbbbbb") {
			t.Errorf("an update created token %s", tok.AccessorID)
		}
	}
	if _, _, err := acl.TokenUpdate(&api.ACLToken{AccessorID: accessor, Description: "renamed"}, nil); err != nil {
		t.Fatalf("update of the seeded token: %v", err)
	}
}

// TestACLTokenSelfWithoutATokenIsTheDefaultToken: a request without a
// token acts as acl.tokens.default, so reading "self" without one shows
// that token, as in Consul, not the anonymous token.
func TestACLTokenSelfWithoutATokenIsTheDefaultToken(t *testing.T) {
	const defaultSecret = "eeeeeeee-1111-4222-8333-444444444444"
	a, root := testAgent(t, withACLs(), withConfig(func(c *config.Config) { c.ACL.Tokens.Default = defaultSecret }))
	if _, _, err := root.ACL().TokenCreate(&api.ACLToken{SecretID: defaultSecret, Description: "the default"}, nil); err != nil {
		t.Fatal(err)
	}
	res := doHTTP(t, "GET", "http://"+a.HTTPAddr()+"/v1/acl/token/self", "", nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"Description":"the default"`) {
		t.Fatalf("token/self without a token: %d %s", res.status, res.body)
	}
}
