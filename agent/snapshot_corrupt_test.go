package agent

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/consulcompat/consul/agent/config"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/snapshot/snapshottest"
	"github.com/hashicorp/consul/api"
)

// withSize returns meta.json with its Size replaced.
func withSize(t *testing.T, meta []byte, size int64) []byte {
	t.Helper()
	var m map[string]interface{}
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatal(err)
	}
	m["Size"] = size
	out, _ := json.Marshal(m)
	return out
}

// TestRestoreCorruptionMatrix sends the server every kind of bad archive:
// each truncation of a small one, hundreds of bit flips, and crafted
// ones. Each is answered 400 (413 when too large) with a one-line reason;
// the state is unchanged, no file is left in the data dir or the temp
// dir, and the server is still the leader.
func TestRestoreCorruptionMatrix(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dataDir := ""
	a, c := testAgent(t, withConfig(func(cfg *config.Config) { dataDir = cfg.DataDir }))
	for i := 0; i < 5; i++ {
		if _, err := c.KV().Put(&api.KVPair{Key: fmt.Sprintf("keep/%d", i), Value: []byte("v")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	good := saveSnapshot(t, c)
	// A write after the save: a restore that went through would undo it.
	if _, err := c.KV().Put(&api.KVPair{Key: "after", Value: []byte("save")}, nil); err != nil {
		t.Fatal(err)
	}
	before, _, _ := c.KV().List("", nil)
	filesBefore := dirNames(t, dataDir)

	parts := snapshottest.Unpack(t, good)
	meta, state := parts[snapshot.MetaName], parts[snapshot.StateName]
	deflated := func(name string, data []byte) snapshottest.Entry {
		return snapshottest.Entry{Name: name, Data: data, Method: zip.Deflate}
	}
	// valid is a good archive of meta.json and state.bin, sums made to match.
	valid := func(meta, state []byte) []byte {
		return snapshottest.Zip(t, snapshottest.ValidEntries(meta, state, zip.Deflate)...)
	}
	m, s, sm := deflated(snapshot.MetaName, meta), deflated(snapshot.StateName, state), deflated(snapshot.SumsName, parts[snapshot.SumsName])
	garbage := append(bytes.Clone(state[:len(state)/3]), bytes.Repeat([]byte{0xc1}, 64)...)
	unknown := append(bytes.Clone(state), 77, 0x80)

	// status 0 accepts 400 or 413: a flipped bit may make a size too
	// large rather than wrong.
	type archiveCase struct {
		name   string
		data   []byte
		status int
	}
	cases := []archiveCase{
		{"missing meta.json", snapshottest.Zip(t, s, sm), 400},
		{"missing state.bin", snapshottest.Zip(t, m, sm), 400},
		{"missing SHA256SUMS", snapshottest.Zip(t, m, s), 400},
		{"extra entry", snapshottest.Zip(t, m, s, sm, deflated("README", []byte("hi"))), 400},
		{"duplicate entry", snapshottest.Zip(t, m, m, s, sm), 400},
		{"renamed entry", snapshottest.Zip(t, deflated("META.json", meta), s, sm), 400},
		{"entry with a path", snapshottest.Zip(t, deflated("../meta.json", meta), s, sm), 400},
		{"wrong meta Size", valid(withSize(t, meta, int64(len(state))+1), state), 400},
		{"declared size far larger than the data", valid(withSize(t, meta, 1<<40), state), 413},
		{"100 MB meta.json", snapshottest.Zip(t, deflated(snapshot.MetaName, bytes.Repeat([]byte(" "), 100<<20)), s, sm), 413},
		{"unknown record type, hash correct", valid(withSize(t, meta, int64(len(unknown))), unknown), 400},
		{"msgpack garbage, hash correct", valid(withSize(t, meta, int64(len(garbage))), garbage), 400},
		{"local header disagrees with the central directory", func() []byte {
			b := bytes.Clone(good)
			b[30] = 'M' // the first local header's name: meta.json
			return b
		}(), 400},
		{"deflate bomb", bombArchive(t, meta), 400},
	}
	for n := 0; n < len(good); n++ {
		cases = append(cases, archiveCase{fmt.Sprintf("truncated to %d bytes", n), good[:n], 0})
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for i := 0; i < 300; i++ {
		flipped := bytes.Clone(good)
		bit := rng.IntN(len(flipped) * 8)
		flipped[bit/8] ^= 1 << (bit % 8)
		// A flip in a timestamp or other unchecked field leaves a good
		// archive of the same state; it may be restored.
		if _, err := snapshot.Verify(bytes.NewReader(flipped), int64(len(flipped))); err == nil {
			continue
		}
		cases = append(cases, archiveCase{fmt.Sprintf("bit %d flipped", bit), flipped, 0})
	}

	url := "http://" + a.HTTPAddr() + "/v1/snapshot"
	t.Logf("%d cases, archive of %d bytes", len(cases), len(good))
	for _, tc := range cases {
		r := doHTTP(t, "PUT", url, "", tc.data)
		reason := strings.TrimSuffix(string(r.body), "\n")
		statusOK := r.status == tc.status || (tc.status == 0 && (r.status == 400 || r.status == 413))
		if !statusOK || reason == "" || strings.Contains(reason, "\n") {
			t.Errorf("%s: %d %q, want %d with a one-line reason", tc.name, r.status, r.body, tc.status)
		}
	}

	after, _, err := c.KV().List("", nil)
	if err != nil || !sameEntries(before, after) {
		t.Fatalf("the state changed: %d entries before, %d after (%v)", len(before), len(after), err)
	}
	if got := dirNames(t, dataDir); strings.Join(got, ",") != strings.Join(filesBefore, ",") {
		t.Fatalf("files in the data dir changed:\nbefore %v\nafter  %v", filesBefore, got)
	}
	if left := dirNames(t, tmp); len(left) != 0 {
		t.Fatalf("files left in the temp dir: %v", left)
	}
	if !a.server.IsLeader() {
		t.Fatal("the server lost its leadership")
	}
	if _, err := c.KV().Put(&api.KVPair{Key: "still", Value: []byte("writable")}, nil); err != nil {
		t.Fatal(err)
	}
}

// bombArchive is an archive whose state.bin inflates to 64 MiB of zeros
// from about 64 KiB, with meta.json and SHA256SUMS telling the truth
// about it: only decoding finds that it is no state dump.
func bombArchive(t *testing.T, meta []byte) []byte {
	t.Helper()
	zeros := make([]byte, 64<<20)
	return snapshottest.Zip(t, snapshottest.ValidEntries(withSize(t, meta, int64(len(zeros))), zeros, zip.Deflate)...)
}

// dirNames lists the files under dir, for "nothing left behind" checks.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	return names
}

// sameEntries compares two KV listings by key, value and index.
func sameEntries(a, b api.KVPairs) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) || a[i].ModifyIndex != b[i].ModifyIndex {
			return false
		}
	}
	return true
}
