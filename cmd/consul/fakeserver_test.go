package main

import (
	"net/http"
	"net/http/httptest"
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
