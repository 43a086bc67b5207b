package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
)

// fakeServer is a stand-in for the agent's HTTP API, answering /v1/kv and
// /v1/snapshot plausibly, so that the CLI's argument handling, output and
// file handling can be tested without a server. It is a test double for
// the HTTP peer only: what the real agent does is tested end to end
// elsewhere.
type fakeServer struct {
	*httptest.Server

	mu    sync.Mutex
	kv    map[string]*api.KVPair
	index uint64

	// Last request seen, for the tests of the HTTP flags.
	lastQuery url.Values
	lastToken string

	// snapshotGet answers GET /v1/snapshot; by default it sends archive.
	snapshotGet func(w http.ResponseWriter, r *http.Request)
	archive     []byte
	// restored is the body of the last PUT /v1/snapshot; restoreErr, when
	// set, makes that PUT fail with a 500 and this message.
	restored   []byte
	restoreErr string
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{kv: make(map[string]*api.KVPair), index: 1}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.lastQuery = r.URL.Query()
	f.lastToken = r.Header.Get("X-Consul-Token")
	f.mu.Unlock()

	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/kv/"):
		f.serveKV(w, r, strings.TrimPrefix(r.URL.Path, "/v1/kv/"))
	case r.URL.Path == "/v1/snapshot" && r.Method == http.MethodGet:
		f.mu.Lock()
		get, archive := f.snapshotGet, f.archive
		f.mu.Unlock()
		if get != nil {
			get(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("X-Consul-Index", "42")
		w.Write(archive)
	case r.URL.Path == "/v1/snapshot" && r.Method == http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.restored = body
		if f.restoreErr != "" {
			http.Error(w, f.restoreErr, http.StatusInternalServerError)
		}
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeServer) serveKV(w http.ResponseWriter, r *http.Request, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	w.Header().Set("X-Consul-Index", strconv.FormatUint(f.index, 10))

	switch r.Method {
	case http.MethodGet:
		switch {
		case q.Has("keys"):
			sep := q.Get("separator")
			seen := map[string]bool{}
			var keys []string
			for k := range f.kv {
				rest, ok := strings.CutPrefix(k, key)
				if !ok {
					continue
				}
				if i := strings.Index(rest, sep); sep != "" && i >= 0 {
					k = key + rest[:i+len(sep)]
				}
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			f.writeList(w, keys)
		case q.Has("recurse"):
			var pairs []*api.KVPair
			for k, p := range f.kv {
				if strings.HasPrefix(k, key) {
					pairs = append(pairs, p)
				}
			}
			sort.Slice(pairs, func(i, j int) bool { return pairs[i].Key < pairs[j].Key })
			f.writeList(w, pairs)
		default:
			p, ok := f.kv[key]
			if !ok {
				http.NotFound(w, r)
				return
			}
			json.NewEncoder(w).Encode([]*api.KVPair{p})
		}

	case http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		old := f.kv[key]
		ok := true
		switch {
		case q.Has("cas"):
			cas, _ := strconv.ParseUint(q.Get("cas"), 10, 64)
			ok = cas == 0 && old == nil || old != nil && old.ModifyIndex == cas
		case q.Has("acquire"):
			ok = old == nil || old.Session == "" || old.Session == q.Get("acquire")
		case q.Has("release"):
			ok = old != nil && old.Session == q.Get("release")
		}
		if ok {
			f.index++
			p := &api.KVPair{Key: key, Value: body, CreateIndex: f.index, ModifyIndex: f.index}
			if old != nil {
				p.CreateIndex, p.Session, p.LockIndex = old.CreateIndex, old.Session, old.LockIndex
			}
			p.Flags, _ = strconv.ParseUint(q.Get("flags"), 10, 64)
			if s := q.Get("acquire"); s != "" {
				p.Session = s
				p.LockIndex++
			}
			if q.Has("release") {
				p.Session = ""
			}
			f.kv[key] = p
		}
		json.NewEncoder(w).Encode(ok)

	case http.MethodDelete:
		ok := true
		switch {
		case q.Has("recurse"):
			for k := range f.kv {
				if strings.HasPrefix(k, key) {
					delete(f.kv, k)
				}
			}
		case q.Has("cas"):
			cas, _ := strconv.ParseUint(q.Get("cas"), 10, 64)
			old := f.kv[key]
			ok = old != nil && old.ModifyIndex == cas
			if ok {
				delete(f.kv, key)
			}
		default:
			delete(f.kv, key)
		}
		f.index++
		json.NewEncoder(w).Encode(ok)

	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// writeList answers a list read: 404 when empty, as Consul does.
func (f *fakeServer) writeList(w http.ResponseWriter, list interface{}) {
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(list)
	if buf.String() == "null\n" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Write(buf.Bytes())
}

// put stores a pair directly, as if written earlier.
func (f *fakeServer) put(key, value string) *api.KVPair {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.index++
	p := &api.KVPair{Key: key, Value: []byte(value), CreateIndex: f.index, ModifyIndex: f.index}
	f.kv[key] = p
	return p
}

// get returns a stored pair, or nil.
func (f *fakeServer) get(key string) *api.KVPair {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kv[key]
}

// last returns the query and token of the last request.
func (f *fakeServer) last() (url.Values, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastQuery, f.lastToken
}
