package main

import (
	"slices"
	"strings"
	"testing"
)

func TestExpected(t *testing.T) {
	// Writes of one key in the order sent; index 0 is a write whose
	// acknowledgement never came.
	h := []write{{seq: 0, index: 10}, {seq: 1000}, {seq: 2000, index: 30}, {seq: 3000}, {seq: 4000}}
	for _, tc := range []struct {
		upTo      uint64
		want      int64 // seq, or -1 for none
		maybeSeqs []uint64
	}{
		{upTo: 5, want: -1, maybeSeqs: nil},
		{upTo: 10, want: 0, maybeSeqs: []uint64{1000}},
		{upTo: 29, want: 0, maybeSeqs: []uint64{1000}},
		{upTo: 30, want: 2000, maybeSeqs: []uint64{3000, 4000}},
		{upTo: ^uint64(0), want: 2000, maybeSeqs: []uint64{3000, 4000}},
	} {
		want, maybe := expected(h, tc.upTo)
		got := int64(-1)
		if want != nil {
			got = int64(want.seq)
		}
		var seqs []uint64
		for _, m := range maybe {
			seqs = append(seqs, m.seq)
		}
		if got != tc.want || !slices.Equal(seqs, tc.maybeSeqs) {
			t.Errorf("expected(h, %d) = %d, %v; want %d, %v", tc.upTo, got, seqs, tc.want, tc.maybeSeqs)
		}
	}
}

func TestCompare(t *testing.T) {
	const size = 32
	w := &writer{id: 3}
	w.history[7] = []write{{seq: 7, index: 10}, {seq: 1007, index: 20}, {seq: 2007}}
	w.history[8] = []write{{seq: 8, index: 11}}
	ws := []*writer{w}
	for _, tc := range []struct {
		name    string
		got     map[string]entry
		upTo    uint64
		problem string // a substring of the only problem, or "" for none
		unknown int
	}{
		{name: "exact", upTo: ^uint64(0), got: map[string]entry{
			"soak/3/7": {value(3, 1007, size), 20}, "soak/3/8": {value(3, 8, size), 11}}},
		{name: "unacknowledged write applied", upTo: ^uint64(0), unknown: 1, got: map[string]entry{
			"soak/3/7": {value(3, 2007, size), 25}, "soak/3/8": {value(3, 8, size), 11}}},
		{name: "lost write", upTo: ^uint64(0), problem: `soak/3/7 holds "writer=3 seq=7" at index 10, want "writer=3 seq=1007", acknowledged at index 20`, got: map[string]entry{
			"soak/3/7": {value(3, 7, size), 10}, "soak/3/8": {value(3, 8, size), 11}}},
		{name: "wrong index", upTo: ^uint64(0), problem: "soak/3/8 holds", got: map[string]entry{
			"soak/3/7": {value(3, 1007, size), 20}, "soak/3/8": {value(3, 8, size), 12}}},
		{name: "missing", upTo: ^uint64(0), problem: "soak/3/8 holds nothing", got: map[string]entry{
			"soak/3/7": {value(3, 1007, size), 20}}},
		{name: "stranger", upTo: ^uint64(0), problem: "soak/9/9 holds", got: map[string]entry{
			"soak/3/7": {value(3, 1007, size), 20}, "soak/3/8": {value(3, 8, size), 11}, "soak/9/9": {"x", 5}}},
		{name: "archive before a write", upTo: 10, got: map[string]entry{
			"soak/3/7": {value(3, 7, size), 10}}},
		{name: "archive with a write after its index", upTo: 10, problem: "soak/3/8 holds", got: map[string]entry{
			"soak/3/7": {value(3, 7, size), 10}, "soak/3/8": {value(3, 8, size), 11}}},
		{name: "archive missing a write at its index", upTo: 11, problem: "soak/3/8 holds nothing", got: map[string]entry{
			"soak/3/7": {value(3, 7, size), 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := compare(tc.got, ws, size, tc.upTo)
			switch {
			case tc.problem == "" && len(c.problems) > 0:
				t.Errorf("problems %q, want none", c.problems)
			case tc.problem != "" && (len(c.problems) != 1 || !strings.Contains(c.problems[0], tc.problem)):
				t.Errorf("problems %q, want one with %q", c.problems, tc.problem)
			}
			if c.keys != 2 || c.unknown != tc.unknown {
				t.Errorf("%d keys, %d unknown; want 2, %d", c.keys, c.unknown, tc.unknown)
			}
		})
	}
}
