package consul

import (
	"sort"
	"sync"
)

// serverLookup holds the live servers of the local datacenter that Serf
// reports, by node name. The Serf event handler writes it; anyone may
// read it.
type serverLookup struct {
	mu     sync.RWMutex
	byName map[string]*serverInfo
}

func newServerLookup() *serverLookup {
	return &serverLookup{byName: make(map[string]*serverInfo)}
}

// upsert records a server that is alive.
func (l *serverLookup) upsert(info *serverInfo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byName[info.Name] = info
}

// remove forgets a server that failed, left or was reaped.
func (l *serverLookup) remove(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byName, name)
}

// rpcAddr returns a server's RPC address by node name.
func (l *serverLookup) rpcAddr(name string) (string, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	info, ok := l.byName[name]
	if !ok {
		return "", false
	}
	return info.Addr.String(), true
}

// list returns the servers sorted by name.
func (l *serverLookup) list() []*serverInfo {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]*serverInfo, 0, len(l.byName))
	for _, info := range l.byName {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
