package agent

import (
	"net/http"
	"net/http/pprof"

	"github.com/gorilla/mux"
)

// handleDebug registers Go's profiler under /debug/pprof/ (heap,
// goroutine, profile, trace, ...), guarded by pprofGuard.
func (a *Agent) handleDebug(r *mux.Router) {
	r.Handle("/debug/pprof/cmdline", a.pprofGuard(pprof.Cmdline))
	r.Handle("/debug/pprof/profile", a.pprofGuard(pprof.Profile))
	r.Handle("/debug/pprof/symbol", a.pprofGuard(pprof.Symbol))
	r.Handle("/debug/pprof/trace", a.pprofGuard(pprof.Trace))
	// Index serves the named profiles (/debug/pprof/heap) as well.
	r.PathPrefix("/debug/pprof/").Handler(a.pprofGuard(pprof.Index))
}

// pprofGuard lets a request through to a profiler handler as Consul 1.16
// does: with ACLs off, only if enable_debug is set (else 404); with ACLs
// on, to a token with operator:read whatever enable_debug says (else
// 403). Both refusals have no body, as in Consul.
func (a *Agent) pprofGuard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !a.cfg.EnableDebug && !a.cfg.ACL.Enabled {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		authz, err := a.server.ResolveToken(token(req))
		if err != nil || !authz.OperatorRead() {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h(w, req)
	})
}
