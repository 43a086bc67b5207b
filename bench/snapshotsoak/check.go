package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
)

// readTimeout bounds the final consistent read of every key.
const readTimeout = time.Minute

// entry is a key's value and ModifyIndex as the server or an archive
// holds it.
type entry struct {
	value string
	index uint64
}

// comparison is how a set of entries matched the writes.
type comparison struct {
	keys int // keys compared
	// unknown counts keys holding a write whose acknowledgement never
	// came; that is allowed, as it may have been applied.
	unknown  int
	problems []string
}

func (c *comparison) problemf(format string, args ...interface{}) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// expected is what a key may hold at index upTo, given its writes in the
// order they were sent: the acknowledged write with the highest index
// at or below upTo (nil if none), or one of the unacknowledged writes
// sent after it and before the next acknowledged one.
func expected(h []write, upTo uint64) (want *write, maybe []write) {
	p := -1
	for i := range h {
		if h[i].index != 0 && h[i].index <= upTo && (p < 0 || h[i].index > h[p].index) {
			p = i
		}
	}
	for j := p + 1; j < len(h) && h[j].index == 0; j++ {
		maybe = append(maybe, h[j])
	}
	if p >= 0 {
		want = &h[p]
	}
	return want, maybe
}

// compare checks got, the entries under soak/ of a read or an archive,
// against the writes acknowledged at or below index upTo. It consumes got.
func compare(got map[string]entry, ws []*writer, valueSize int, upTo uint64) comparison {
	var c comparison
	for _, w := range ws {
		for k, h := range w.history {
			if len(h) == 0 {
				continue
			}
			key := keyName(w.id, uint64(k))
			e, present := got[key]
			delete(got, key)
			c.keys++
			want, maybe := expected(h, upTo)
			if want != nil && present && e.value == value(w.id, want.seq, valueSize) && e.index == want.index {
				continue
			}
			if want == nil && !present {
				continue
			}
			if present && holdsOneOf(e, w.id, maybe, valueSize) {
				c.unknown++
				continue
			}
			has := "nothing"
			if present {
				has = fmt.Sprintf("%q at index %d", shortValue(e.value), e.index)
			}
			wanted := fmt.Sprintf("nothing (no write acknowledged at or below index %d)", upTo)
			if want != nil {
				wanted = fmt.Sprintf("%q, acknowledged at index %d", shortValue(value(w.id, want.seq, valueSize)), want.index)
			}
			c.problemf("%s holds %s, want %s", key, has, wanted)
		}
	}
	for key, e := range got {
		c.problemf("%s holds %q at index %d, which no writer sent", key, shortValue(e.value), e.index)
	}
	return c
}

func holdsOneOf(e entry, writer int, writes []write, valueSize int) bool {
	for _, w := range writes {
		if e.value == value(writer, w.seq, valueSize) {
			return true
		}
	}
	return false
}

// shortValue drops a value's padding.
func shortValue(v string) string {
	return strings.TrimRight(v, ". ")
}

// checkReadBack reads every key under soak/ with one consistent read and
// compares each with its acknowledged write of the highest index.
func checkReadBack(c *http.Client, base string, ws []*writer, valueSize int) (comparison, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/kv/soak/?recurse&consistent", nil)
	if err != nil {
		return comparison{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return comparison{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return comparison{}, err
	}
	var entries []struct {
		Key         string
		Value       []byte
		ModifyIndex uint64
	}
	switch resp.StatusCode {
	case 200:
		if err := json.Unmarshal(body, &entries); err != nil {
			return comparison{}, fmt.Errorf("GET /v1/kv/soak/?recurse&consistent: %v", err)
		}
	case 404:
		// No key at all: compare reports every acknowledged one missing.
	default:
		return comparison{}, fmt.Errorf("GET /v1/kv/soak/?recurse&consistent: status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	got := make(map[string]entry, len(entries))
	for _, e := range entries {
		got[e.Key] = entry{string(e.Value), e.ModifyIndex}
	}
	return compare(got, ws, valueSize, ^uint64(0)), nil
}

// archiveCheck is how the last archive matched the writes.
type archiveCheck struct {
	comparison
	// before and after count the acknowledged writes at or below the
	// archive's index and above it.
	before, after int
}

// checkArchive decodes the last archive and checks that it holds, for
// each key, exactly the last write acknowledged at or below its index,
// and that every write acknowledged before the save was sent is at or
// below that index.
func checkArchive(s *save, ws []*writer, valueSize int) (archiveCheck, error) {
	meta, state, err := snapshot.Read(bytes.NewReader(s.archive), int64(len(s.archive)))
	if err != nil {
		return archiveCheck{}, err
	}
	defer state.Close()
	got := map[string]entry{}
	var tombstones []string
	_, err = snapshot.ReadState(state, func(t structs.MessageType, rec interface{}) error {
		e, ok := rec.(*structs.DirEntry)
		switch {
		case ok && t == structs.KVSRequestType:
			got[e.Key] = entry{string(e.Value), e.ModifyIndex}
		case ok && t == structs.TombstoneRequestType:
			tombstones = append(tombstones, e.Key)
		}
		return nil
	})
	if err != nil {
		return archiveCheck{}, err
	}
	c := archiveCheck{comparison: compare(got, ws, valueSize, meta.Index)}
	for _, key := range tombstones {
		c.problemf("%s has a tombstone, but nothing was deleted", key)
	}
	for _, w := range ws {
		for k, h := range w.history {
			for _, wr := range h {
				switch {
				case wr.index == 0:
				case wr.index <= meta.Index:
					c.before++
				default:
					c.after++
					if wr.ackedAt < s.sent {
						c.problemf("%s: write seq %d was acknowledged at +%s, before the save was sent at +%s, but has index %d, above the archive's %d",
							keyName(w.id, uint64(k)), wr.seq, wr.ackedAt.Round(time.Millisecond), s.sent.Round(time.Millisecond), wr.index, meta.Index)
					}
				}
			}
		}
	}
	return c, nil
}
