package agent

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/consulcompat/consul/acl"
)

// TestACLPolicyAndRoleCRUD drives the policy and role endpoints over HTTP
// through create, read by ID and by name, update, delete, and the writes
// they refuse, with Consul's status codes and messages.
func TestACLPolicyAndRoleCRUD(t *testing.T) {
	a, _ := testAgent(t, withACLs())
	base := "http://" + a.HTTPAddr()
	call := func(method, path, body string) httpResult {
		t.Helper()
		return doHTTP(t, method, base+path, rootSecret, []byte(body))
	}
	idOf := func(r httpResult) string {
		t.Helper()
		var rec struct{ ID, Name string }
		if r.status != 200 || json.Unmarshal(r.body, &rec) != nil || rec.ID == "" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return rec.ID
	}
	policy := idOf(call("PUT", "/v1/acl/policy", `{"Name":"p1","Rules":"key_prefix \"\" { policy = \"read\" }"}`))
	role := idOf(call("PUT", "/v1/acl/role", `{"Name":"r1","Policies":[{"Name":"p1"}]}`))
	self := doHTTP(t, "GET", base+"/v1/acl/token/self", rootSecret, nil)
	var me struct{ AccessorID string }
	if err := json.Unmarshal(self.body, &me); err != nil || me.AccessorID == "" {
		t.Fatalf("token/self: %d %s", self.status, self.body)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/v1/acl/policy/" + policy, "", 200, `"Name":"p1"`},
		{"GET", "/v1/acl/policy/name/p1", "", 200, policy},
		{"GET", "/v1/acl/role/" + role, "", 200, `"Name":"p1"`},
		{"GET", "/v1/acl/role/name/r1", "", 200, role},
		{"GET", "/v1/acl/roles?policy=" + policy, "", 200, role},
		{"PUT", "/v1/acl/policy/" + policy, `{"Name":"p1","Description":"d"}`, 200, `"Description":"d"`},
		{"PUT", "/v1/acl/role/" + role, `{"Name":"r2"}`, 200, `"Name":"r2"`},

		{"PUT", "/v1/acl/policy", `{"Rules":""}`, 400, "Invalid Policy: no Name is set"},
		{"PUT", "/v1/acl/policy", `{"Name":"bad","Rules":"key {"}`, 400, "Invalid Policy"},
		{"PUT", "/v1/acl/policy", `{"Name":"p1"}`, 400, "taken"},
		{"PUT", "/v1/acl/policy/no-such-id", `{"Name":"x"}`, 400, `Cannot find policy "no-such-id" to update`},
		{"PUT", "/v1/acl/policy/" + policy, `{"ID":"other","Name":"p1"}`, 400, "Policy ID in URL and payload do not match"},
		{"PUT", "/v1/acl/policy/" + acl.GlobalManagementPolicyID, `{"Name":"global-management","Rules":""}`, 400,
			"Changing the Rules for the builtin global-management policy is not permitted"},
		{"DELETE", "/v1/acl/policy/" + acl.GlobalManagementPolicyID, "", 400, "Delete operation not permitted on the builtin global-management policy"},
		{"PUT", "/v1/acl/policy/name/p1", `{"Name":"p1"}`, 405, ""},
		{"PUT", "/v1/acl/role", `{}`, 400, "Invalid Role: no Name is set"},
		{"PUT", "/v1/acl/role", `{"Name":"r3","Policies":[{"Name":"no-such-policy"}]}`, 400, "No such ACL policy"},
		{"PUT", "/v1/acl/role/no-such-id", `{"Name":"x"}`, 400, `Cannot find role "no-such-id" to update`},
		{"PUT", "/v1/acl/role/" + role, `{"ID":"other","Name":"r2"}`, 400, "Role ID in URL and payload do not match"},
		{"DELETE", "/v1/acl/token/" + acl.AnonymousTokenID, "", 400, "Delete operation not permitted on the anonymous token"},
		{"DELETE", "/v1/acl/token/" + me.AccessorID, "", 400, "Deletion of the request's authorization token is not permitted"},

		{"DELETE", "/v1/acl/role/" + role, "", 200, "true"},
		{"GET", "/v1/acl/role/" + role, "", 404, "ACL role not found"},
		{"DELETE", "/v1/acl/policy/" + policy, "", 200, "true"},
		{"GET", "/v1/acl/policy/" + policy, "", 404, "ACL policy not found"},
		{"GET", "/v1/acl/policy/name/p1", "", 404, "ACL policy not found"},
	} {
		r := call(tc.method, tc.path, tc.body)
		if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", tc.method, tc.path, tc.body, r.status, r.body, tc.status, tc.want)
		}
	}

	// acl = "read" reads but does not write, and sees no other secret.
	reader := tokenWithRules(t, clientWithToken(t, a, rootSecret), "acl-read", `acl = "read"`)
	if r := doHTTP(t, "GET", base+"/v1/acl/policies", reader, nil); r.status != 200 || !strings.Contains(string(r.body), "acl-read") {
		t.Errorf("policy list with acl = read: %d %s", r.status, r.body)
	}
	if r := doHTTP(t, "GET", base+"/v1/acl/tokens", reader, nil); r.status != 200 || strings.Contains(string(r.body), rootSecret) {
		t.Errorf("token list with acl = read: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/v1/acl/policy", "/v1/acl/role"} {
		if r := doHTTP(t, "PUT", base+path, reader, []byte(`{"Name":"nope"}`)); r.status != 403 {
			t.Errorf("PUT %s with acl = read: %d %s", path, r.status, r.body)
		}
	}
	if r := doHTTP(t, "GET", base+"/v1/acl/roles", "", nil); r.status != 403 {
		t.Errorf("role list as anonymous: %d %s", r.status, r.body)
	}
}
