package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// testArchive builds a valid snapshot archive at index holding one KV
// entry per key.
func testArchive(t *testing.T, index uint64, keys ...string) []byte {
	t.Helper()
	h := structs.SnapshotHeader{LastIndex: index}
	var entries []*structs.DirEntry
	size, err := snapshot.HeaderSize(h)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		e := &structs.DirEntry{Key: k, Value: []byte("value of " + k), RaftIndex: structs.RaftIndex{CreateIndex: uint64(i + 1), ModifyIndex: uint64(i + 1)}}
		n, err := snapshot.RecordSize(structs.KVSRequestType, e)
		if err != nil {
			t.Fatal(err)
		}
		size += n
		entries = append(entries, e)
	}
	meta := &raft.SnapshotMeta{
		Version: 1, ID: fmt.Sprintf("2-%d-1700000000000", index), Index: index, Term: 2,
		Size: size, ConfigurationIndex: 1,
	}
	var buf bytes.Buffer
	err = snapshot.Write(&buf, meta, func(w io.Writer) error {
		enc, err := snapshot.NewStateEncoder(w, h)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := enc.Record(structs.KVSRequestType, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot.Write: %v", err)
	}
	return buf.Bytes()
}

// assertFile checks that path holds want with mode perm.
func assertFile(t *testing.T, path string, want []byte, perm fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s holds %d bytes, not the %d expected", path, len(got), len(want))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), perm)
	}
}

// assertMissing checks that path does not exist.
func assertMissing(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists (err=%v), want it absent", path, err)
	}
}

// assertArchive checks that path is a snapshot archive with mode 0600
// holding the KV entries of keys and no others, and returns its index.
func assertArchive(t *testing.T, path string, keys ...string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	meta, state, err := snapshot.Read(f, fi.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer state.Close()
	var got []string
	_, err = snapshot.ReadState(state, func(typ structs.MessageType, rec interface{}) error {
		if e, ok := rec.(*structs.DirEntry); ok && typ == structs.KVSRequestType {
			got = append(got, e.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: state.bin: %v", path, err)
	}
	if !slices.Equal(got, keys) {
		t.Errorf("%s holds the keys %q, want %q", path, got, keys)
	}
	return meta.Index
}

func TestSnapshotSave(t *testing.T) {
	a := sharedAgent(t, false)
	a.put(t, "a", "1")
	a.put(t, "b", "2")
	f := a.spy(t)
	file := filepath.Join(t.TempDir(), "backup.snap")

	r := runCLI(t, "", "snapshot", "save", "-http-addr="+f.URL, file)
	index := assertArchive(t, file, "a", "b")
	r.check(t, 0, []string{fmt.Sprintf("Saved and verified snapshot to index %d\n", index)}, nil)
	assertMissing(t, file+".part")
	if q := f.last(t).query; q.Has("stale") {
		t.Errorf("stale sent without -stale: %v", q)
	}

	runCLI(t, "", "snapshot", "save", "-http-addr="+f.URL, "-stale", file).check(t, 0, nil, nil)
	if q := f.last(t).query; !q.Has("stale") {
		t.Errorf("-stale not sent: %v", q)
	}
}

func TestSnapshotSaveReplacesOnSuccess(t *testing.T) {
	a := sharedAgent(t, false)
	a.put(t, "a", "1")
	dir := t.TempDir()
	file := filepath.Join(dir, "backup.snap")
	if err := os.WriteFile(file, []byte("yesterday's snapshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A .part left by a killed save, with other permissions.
	if err := os.WriteFile(file+".part", []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, "", "snapshot", "save", "-http-addr="+a.url, file)
	index := assertArchive(t, file, "a")
	r.check(t, 0, []string{fmt.Sprintf("Saved and verified snapshot to index %d\n", index)}, nil)
	assertMissing(t, file+".part")
}

// TestSnapshotSaveFailures: whatever goes wrong, an existing FILE stays as
// it was, no FILE appears, and no .part is left.
func TestSnapshotSaveFailures(t *testing.T) {
	good := testArchive(t, 5, "a", "b", "c")
	cases := []struct {
		name string
		// fault answers the save in a standIn: a real agent cannot be
		// made to fail so at will. nil runs the save against a real
		// agent with ACLs on, with a token it refuses.
		fault  http.HandlerFunc
		errHas []string
	}{
		{
			name:   "permission denied",
			errHas: []string{"Error saving snapshot: ", "403", "Permission denied"},
		},
		{
			// A real agent says so only after waiting 7 seconds for a
			// leader to appear.
			name: "no leader",
			fault: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "No cluster leader", http.StatusInternalServerError)
			},
			errHas: []string{"Error saving snapshot: ", "500", "No cluster leader"},
		},
		{
			name: "connection cut mid-transfer",
			fault: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/zip")
				w.Write(good[:len(good)/2])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			},
			errHas: []string{"Error saving snapshot: transfer failed after"},
		},
		{
			name: "body shorter than its Content-Length",
			fault: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(good)))
				w.Write(good[:len(good)-10])
			},
			errHas: []string{"Error saving snapshot: transfer failed after"},
		},
		{
			name: "truncated archive, cleanly ended",
			fault: func(w http.ResponseWriter, r *http.Request) {
				w.Write(good[:len(good)-30])
			},
			errHas: []string{"Error verifying snapshot file: "},
		},
		{
			name: "corrupted archive",
			fault: func(w http.ResponseWriter, r *http.Request) {
				bad := bytes.Clone(good)
				bad[len(bad)/3] ^= 0xff
				w.Write(bad)
			},
			errHas: []string{"Error verifying snapshot file: "},
		},
		{
			// What a proxy in front of the agent may answer.
			name: "not an archive",
			fault: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<html>proxy error</html>")
			},
			errHas: []string{"Error verifying snapshot file: "},
		},
		{
			name:   "empty body",
			fault:  func(w http.ResponseWriter, r *http.Request) {},
			errHas: []string{"Error verifying snapshot file: "},
		},
	}
	for _, tc := range cases {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/existing=%v", tc.name, existing), func(t *testing.T) {
				var agentFlags []string
				if tc.fault == nil {
					a := sharedAgent(t, true)
					agentFlags = []string{"-http-addr=" + a.url, "-token=" + a.tokenWithRules(t, "kv-write", `key_prefix "" { policy = "write" }`)}
				} else {
					agentFlags = []string{"-http-addr=" + standIn(t, tc.fault).URL}
				}
				file := filepath.Join(t.TempDir(), "backup.snap")
				old := []byte("the last good snapshot")
				if existing {
					if err := os.WriteFile(file, old, 0o640); err != nil {
						t.Fatal(err)
					}
				}

				args := append(append([]string{"snapshot", "save"}, agentFlags...), file)
				r := runCLI(t, "", args...)
				r.check(t, 1, nil, tc.errHas)
				if r.out != "" {
					t.Errorf("stdout: %q, want nothing", r.out)
				}
				if existing {
					assertFile(t, file, old, 0o640)
				} else {
					assertMissing(t, file)
				}
				assertMissing(t, file+".part")
			})
		}
	}
}

func TestSnapshotSaveBadPath(t *testing.T) {
	a := sharedAgent(t, false)
	dir := t.TempDir()

	file := filepath.Join(dir, "no", "such", "dir", "backup.snap")
	runCLI(t, "", "snapshot", "save", "-http-addr="+a.url, file).
		check(t, 1, nil, []string{"Error creating snapshot file"})
	assertMissing(t, filepath.Join(dir, "no"))

	// FILE is a directory: the rename fails, and the directory stays.
	sub := filepath.Join(dir, "adir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "inside"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "", "snapshot", "save", "-http-addr="+a.url, sub).
		check(t, 1, nil, []string{"Error renaming"})
	assertMissing(t, sub+".part")
	if _, err := os.Stat(filepath.Join(sub, "inside")); err != nil {
		t.Errorf("directory in FILE's place was touched: %v", err)
	}
}

// TestSnapshotSaveInterrupted: SIGINT during the transfer stops the save
// and removes its .part file instead of killing the process. A real
// agent sends a small snapshot at once: a standIn holds the transfer
// open halfway, until the save gives up.
func TestSnapshotSaveInterrupted(t *testing.T) {
	good := testArchive(t, 5, "a")
	started := make(chan struct{})
	f := standIn(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(good[:len(good)/2])
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	file := filepath.Join(t.TempDir(), "backup.snap")

	done := make(chan result, 1)
	clearConsulEnv(t)
	go func() { done <- runInEnv("", "snapshot", "save", "-http-addr="+f.URL, file) }()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the save never reached the server")
	}
	// The part file exists while the transfer runs.
	if _, err := os.Stat(file + ".part"); err != nil {
		t.Fatalf("no .part during the transfer: %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the save did not stop on SIGINT")
	}
	r.check(t, 1, nil, []string{"Error saving snapshot: interrupted"})
	assertMissing(t, file)
	assertMissing(t, file+".part")
}

// TestSnapshotRestore restores, into an agent of its own with ACLs on, a
// snapshot the agent gave earlier.
func TestSnapshotRestore(t *testing.T) {
	a := newTestAgent(t, aclOn)
	a.put(t, "x", "before")
	file := filepath.Join(t.TempDir(), "backup.snap")
	runCLI(t, "", "snapshot", "save", "-http-addr="+a.url, "-token="+rootSecret, file).check(t, 0, nil, nil)
	a.put(t, "x", "after")

	// wantX checks that the agent holds value at x.
	wantX := func(value string) {
		t.Helper()
		if got := string(a.get(t, "x").Value); got != value {
			t.Fatalf("x holds %q, want %q", got, value)
		}
	}
	runCLI(t, "", "snapshot", "restore", "-http-addr="+a.url, file).
		check(t, 1, nil, []string{"Error restoring snapshot: Unexpected response code: 403 (Permission denied)"})
	wantX("after")
	runCLI(t, "", "snapshot", "restore", "-http-addr="+a.url, "-token="+rootSecret, file).
		check(t, 0, []string{"Restored snapshot\n"}, nil)
	wantX("before")

	// The agent's reason for refusing a file reaches the user.
	if err := os.WriteFile(file, []byte("not a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.put(t, "x", "after")
	runCLI(t, "", "snapshot", "restore", "-http-addr="+a.url, "-token="+rootSecret, file).
		check(t, 1, nil, []string{"Error restoring snapshot: ", "400", "snapshot: not a zip archive"})
	wantX("after")
}

func TestSnapshotInspect(t *testing.T) {
	file := filepath.Join(t.TempDir(), "backup.snap")
	if err := os.WriteFile(file, testArchive(t, 7, "a", "b", "c"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, "", "snapshot", "inspect", file)
	r.check(t, 0, []string{
		" ID           2-7-1700000000000\n",
		" Index        7\n",
		" Term         2\n",
		" Version      1\n\n",
		" Type       Count      Size",
		" KVS        3          ",
		" Total                 ",
	}, nil)

	r = runCLI(t, "", "snapshot", "inspect", "-format=json", file)
	r.check(t, 0, nil, nil)
	var out inspectOutput
	if err := json.Unmarshal([]byte(r.out), &out); err != nil {
		t.Fatalf("-format=json: %v\n%s", err, r.out)
	}
	if out.Meta.ID != "2-7-1700000000000" || out.Meta.Index != 7 || out.Meta.Term != 2 || out.Meta.Version != 1 || out.Meta.Size == 0 {
		t.Errorf("Meta = %+v", out.Meta)
	}
	if len(out.Stats) != 1 || out.Stats[0].Name != "KVS" || out.Stats[0].Count != 3 || out.Stats[0].Sum != out.TotalSize {
		t.Errorf("Stats = %+v, TotalSize %d", out.Stats, out.TotalSize)
	}
}

func TestSnapshotInspectCorrupt(t *testing.T) {
	file := filepath.Join(t.TempDir(), "backup.snap")
	archive := testArchive(t, 7, "a")
	if err := os.WriteFile(file, archive[:len(archive)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "snapshot", "inspect", file)
	r.check(t, 1, nil, []string{"Error reading snapshot: "})
	if r.out != "" {
		t.Errorf("stdout: %q, want nothing", r.out)
	}
}

// TestInspectLayout checks the layout against Consul's own for the same
// data (one type, "msg", 2 records of 1 byte in all).
func TestInspectLayout(t *testing.T) {
	out := &inspectOutput{
		Meta:      inspectMeta{ID: "one", Size: 2, Index: 3, Term: 4, Version: 1},
		Stats:     []inspectStat{{Name: "msg", Sum: 1, Count: 2}},
		TotalSize: 1,
	}
	var b strings.Builder
	writeInspectPretty(&b, out)
	want := "" +
		" ID           one\n" +
		" Size         2\n" +
		" Index        3\n" +
		" Term         4\n" +
		" Version      1\n" +
		"\n" +
		" Type       Count      Size      \n" +
		" ----       ----       ----      \n" +
		" msg        2          1B        \n" +
		" ----       ----       ----      \n" +
		" Total                 1B        \n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}

	js, err := json.MarshalIndent(out, "", "   ")
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{
   "Meta": {
      "ID": "one",
      "Size": 2,
      "Index": 3,
      "Term": 4,
      "Version": 1
   },
   "Stats": [
      {
         "Name": "msg",
         "Sum": 1,
         "Count": 2
      }
   ],
   "TotalSize": 1
}`
	if string(js) != wantJSON {
		t.Errorf("JSON got:\n%s\nwant:\n%s", js, wantJSON)
	}
}

func TestInspectOrder(t *testing.T) {
	out := newInspectOutput(&snapshot.Info{
		Records: []snapshot.RecordStat{
			{Type: structs.RegisterRequestType, Name: "Register", Count: 1, Size: 10},
			{Type: structs.KVSRequestType, Name: "KVS", Count: 5, Size: 500},
			{Type: structs.TombstoneRequestType, Count: 2, Size: 10},
		},
	})
	var names []string
	for _, s := range out.Stats {
		names = append(names, s.Name)
	}
	// Largest first; equal sizes by name; a missing name from the type.
	if got := strings.Join(names, ","); got != "KVS,Register,Tombstone" {
		t.Errorf("order %s", got)
	}
	if out.TotalSize != 520 {
		t.Errorf("TotalSize %d, want 520", out.TotalSize)
	}
}

func TestHumanBytes(t *testing.T) {
	cases := map[int64]string{
		0:             "0",
		1:             "1B",
		1023:          "1023B",
		1024:          "1KB",
		1536:          "1.5KB",
		1740:          "1.7KB",
		1 << 20:       "1MB",
		5 << 30:       "5GB",
		3 << 40:       "3TB",
		2048 << 40:    "2048TB",
		1<<20 + 1<<19: "1.5MB",
	}
	for n, want := range cases {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
