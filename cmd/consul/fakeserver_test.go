package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// faultyAgent is a stand-in for an agent's HTTP API that answers every
// request with fault, closed when the test ends. It is only for the
// faults a real agent cannot be made to show at a chosen moment: a body
// cut mid-stream, a response that is not what it says, a server that
// stalls. Everything else is tested against a real agent (testAgent), and
// each use says why a real one cannot do it.
func faultyAgent(t *testing.T, fault http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(fault)
	t.Cleanup(s.Close)
	return s
}

// objectStub is a stand-in for an agent's HTTP API holding one object.
type objectStub struct {
	*httptest.Server

	mu   sync.Mutex
	body []byte
}

// aclObjectStub starts an objectStub that answers a GET of path with obj
// as JSON, and a PUT to path with the body it was sent, which sent then
// returns; it is closed when the test ends. It is for the ACL fields that
// a real agent does not keep yet, the identities of tokens and roles, so
// that the update commands can be seen to keep them.
func aclObjectStub(t *testing.T, path string, obj interface{}) *objectStub {
	t.Helper()
	s := &objectStub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}))
	t.Cleanup(s.Close)
	return s
}

// sent returns the body of the last PUT.
func (s *objectStub) sent() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.body
}
