package agent

import (
	"net/http"

	"github.com/hashicorp/go-bexpr"
)

// filterResult applies ?filter=, Consul's boolean expression language
// (go-bexpr), to a list answer. Selectors are the JSON field names, as in
// Consul ("ServiceTags contains \"v1\"", "Node.Meta.rack == r1").
func filterResult(req *http.Request, data interface{}) (interface{}, error) {
	expr := req.URL.Query().Get("filter")
	if expr == "" {
		return data, nil
	}
	f, err := bexpr.CreateFilter(expr)
	if err != nil {
		return nil, badRequest("Failed to create boolean expression evaluator: %v", err)
	}
	out, err := f.Execute(data)
	if err != nil {
		return nil, badRequest("Failed to apply filter: %v", err)
	}
	return out, nil
}
