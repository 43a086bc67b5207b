package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// standIn starts a stand-in for an agent's HTTP API that answers every
// request with handler, and closes it when the test ends. It is only for
// what a real agent cannot be made to show, and each use says what:
// faults at a chosen moment (a body cut mid-stream, a response that is
// not what it says, a stall, an error), members in states that one agent
// cannot reach, and the ACL fields the agent does not keep yet.
// Everything else is tested against a real agent (testAgent).
func standIn(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(handler)
	t.Cleanup(s.Close)
	return s
}

// objectStub is a standIn holding one ACL object.
type objectStub struct {
	*httptest.Server

	mu   sync.Mutex
	body []byte
}

// aclObjectStub starts an objectStub that answers a GET of path with obj
// as JSON, and a PUT to path with the body it was sent, which sent then
// returns. It is for the identities of tokens and roles, which a real
// agent does not keep yet, so that the update commands can be seen to
// keep them.
func aclObjectStub(t *testing.T, path string, obj interface{}) *objectStub {
	t.Helper()
	s := &objectStub{}
	s.Server = standIn(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != path:
			http.NotFound(w, r)
		case r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(obj)
		case r.Method == http.MethodPut:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			s.mu.Lock()
			s.body = body
			s.mu.Unlock()
			w.Write(body)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
	return s
}

// sent returns the body of the last PUT.
func (s *objectStub) sent() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.body
}
