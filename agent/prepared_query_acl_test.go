package agent

import (
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestACLPreparedQueryRules: query rules on a query's name guard writing
// and reading it; its stored Token runs it, and only a token that may
// manage ACLs sees that Token.
func TestACLPreparedQueryRules(t *testing.T) {
	a, root := testAgent(t, withACLs())
	registerInstance(t, root, "n1", "web", "web-1", nil, api.HealthPassing)
	seeWeb := tokenWithRules(t, root, "see-web", `service "web" { policy = "read" }
node_prefix "" { policy = "read" }`)
	ops := clientWithToken(t, a, tokenWithRules(t, root, "ops-queries", `query_prefix "ops-" { policy = "write" }`))
	reader := clientWithToken(t, a, tokenWithRules(t, root, "ops-read", `query_prefix "ops-" { policy = "read" }`))
	anonymous := clientWithToken(t, a, "")

	withToken, _, err := ops.PreparedQuery().Create(&api.PreparedQueryDefinition{Name: "ops-web", Token: seeWeb,
		Service: api.ServiceQuery{Service: "web"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ops.PreparedQuery().Create(&api.PreparedQueryDefinition{Name: "ops-own",
		Service: api.ServiceQuery{Service: "web"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ops.PreparedQuery().Create(&api.PreparedQueryDefinition{Name: "dev-web",
		Service: api.ServiceQuery{Service: "web"}}, nil); !is403(err) {
		t.Fatalf("create outside the token's prefix: %v", err)
	}

	list, meta, err := reader.PreparedQuery().List(nil)
	if err != nil || len(list) != 2 {
		t.Fatalf("reader's list = %+v, %v", list, err)
	}
	for _, q := range list {
		if q.Name == "ops-web" && q.Token != "<hidden>" {
			t.Fatalf("the reader sees the stored token %q", q.Token)
		}
	}
	if meta.ResultsFilteredByACLs {
		t.Fatal("nothing was filtered from the reader")
	}
	if got, _, _ := root.PreparedQuery().Get(withToken, nil); len(got) != 1 || got[0].Token != seeWeb {
		t.Fatalf("management sees %+v", got)
	}
	if list, meta, err := anonymous.PreparedQuery().List(nil); err != nil || len(list) != 0 || !meta.ResultsFilteredByACLs {
		t.Fatalf("anonymous list = %+v (filtered %v), %v", list, meta.ResultsFilteredByACLs, err)
	}
	if _, _, err := anonymous.PreparedQuery().Get(withToken, nil); !is403(err) {
		t.Fatalf("anonymous get: %v", err)
	}

	// The stored token runs the query: the reader, who may not read the
	// service, gets its instance; without a stored token the caller's
	// own token decides, and the instance is filtered out.
	if ids := executedIDs(t, reader, "ops-web"); len(ids) != 1 {
		t.Fatalf("execute with the stored token = %v", ids)
	}
	if ids := executedIDs(t, reader, "ops-own"); len(ids) != 0 {
		t.Fatalf("execute with the caller's token = %v", ids)
	}
	if _, err := reader.PreparedQuery().Update(&api.PreparedQueryDefinition{ID: withToken, Name: "ops-web",
		Service: api.ServiceQuery{Service: "web"}}, nil); !is403(err) {
		t.Fatalf("update with query read: %v", err)
	}
	// A rename out of the writer's prefix is refused too.
	if _, err := ops.PreparedQuery().Update(&api.PreparedQueryDefinition{ID: withToken, Name: "dev-web",
		Service: api.ServiceQuery{Service: "web"}}, nil); !is403(err) {
		t.Fatalf("rename out of the prefix: %v", err)
	}
	if _, err := ops.PreparedQuery().Delete(withToken, nil); err != nil {
		t.Fatal(err)
	}
}
