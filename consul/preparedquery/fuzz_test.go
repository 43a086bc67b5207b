package preparedquery

import (
	"strings"
	"testing"

	"github.com/consulcompat/consul/structs"
)

// FuzzRender compiles arbitrary template strings and renders what
// compiles: neither may panic, and a string without "$" renders as
// itself.
func FuzzRender(f *testing.F) {
	f.Add("${name.full}", "hello-a-b")
	f.Add("x ${match(1)} ${match(-7)} $$ $${name.suffix} $", "hello-a-b")
	f.Add("${ agent.segment }${name.prefix", "")
	f.Add("${match(9223372036854775807)}", "hello-")
	f.Fuzz(func(t *testing.T, s, name string) {
		q := template("hello-", `^hello-(.*?)-(.*)$`, s)
		q.Template.RemoveEmptyTags = true
		q.Service.Tags = []string{s, "", s}
		q.Service.NodeMeta = map[string]string{s: s}
		tmpl, err := Compile(q)
		if err != nil {
			return
		}
		got, err := tmpl.Render(name, structs.QuerySource{Segment: "seg"})
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if !strings.Contains(s, "$") && got.Service.Service != s {
			t.Fatalf("literal %q rendered as %q", s, got.Service.Service)
		}
		for _, tag := range got.Service.Tags {
			if tag == "" {
				t.Fatalf("empty tag kept: %q", got.Service.Tags)
			}
		}
	})
}
