package state

import (
	"strings"
	"testing"

	"github.com/consulcompat/consul/structs"
)

func setQuery(t *testing.T, s *Store, idx uint64, q *structs.PreparedQuery) {
	t.Helper()
	if err := s.PreparedQuerySet(idx, q); err != nil {
		t.Fatal(err)
	}
}

func TestPreparedQueryNamesAndResolve(t *testing.T) {
	s := testStore(t)
	tmpl := structs.QueryTemplateOptions{Type: structs.QueryTemplateTypeNamePrefixMatch}
	setQuery(t, s, 1, &structs.PreparedQuery{ID: "q1", Name: "web"})
	setQuery(t, s, 2, &structs.PreparedQuery{ID: "q2", Name: "geo-", Template: tmpl})
	setQuery(t, s, 3, &structs.PreparedQuery{ID: "q3", Name: "geo-db-", Template: tmpl})
	setQuery(t, s, 4, &structs.PreparedQuery{ID: "q4", Name: "", Template: tmpl})

	for _, tc := range []struct {
		q    structs.PreparedQuery
		want string
	}{
		{structs.PreparedQuery{ID: "q5", Name: "web"}, "Name 'web' aliases an existing query name"},
		{structs.PreparedQuery{ID: "q5", Name: "q1"}, "Name 'q1' aliases an existing query ID"},
		{structs.PreparedQuery{ID: "q5", Template: tmpl}, "A query template with an empty name already exists"},
		{structs.PreparedQuery{ID: "q5", Name: "x", Session: "nope"}, `Invalid session "nope"`},
		{structs.PreparedQuery{Name: "x"}, "Missing query ID"},
	} {
		if err := s.PreparedQuerySet(9, &tc.q); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.q, err, tc.want)
		}
	}
	// Updating a query under its own name is fine and keeps CreateIndex.
	setQuery(t, s, 10, &structs.PreparedQuery{ID: "q1", Name: "web", Token: "t"})
	_, q1, _ := s.PreparedQueryGet(nil, "q1")
	if q1.CreateIndex != 1 || q1.ModifyIndex != 10 || q1.Token != "t" {
		t.Fatalf("updated q1 = %+v", q1)
	}

	for name, want := range map[string]string{
		"q1": "q1", "web": "q1", "geo-db-east": "q3", "geo-cache": "q2", "anything": "q4", "": "",
	} {
		_, q, err := s.PreparedQueryResolve(name)
		got := ""
		if q != nil {
			got = q.ID
		}
		if err != nil || got != want {
			t.Errorf("resolve %q = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestPreparedQueryGoesWithItsSession(t *testing.T) {
	s := testStore(t)
	register(t, s, 1, &structs.RegisterRequest{Node: "n1", Address: "10.0.0.1"})
	if err := s.SessionCreate(2, &structs.Session{ID: "s1", Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	setQuery(t, s, 3, &structs.PreparedQuery{ID: "bound", Session: "s1"})
	setQuery(t, s, 4, &structs.PreparedQuery{ID: "free", Name: "free"})
	if err := s.Deregister(5, &structs.DeregisterRequest{Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	idx, list, _ := s.PreparedQueryList(nil)
	if len(list) != 1 || list[0].ID != "free" || idx != 5 {
		t.Fatalf("after the session ended: index %d, %+v", idx, list)
	}
}
