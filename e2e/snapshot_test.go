package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consulcompat/consul/snapshot"
	"github.com/hashicorp/consul/api"
)

const e2eKeys = 1000

func keyName(i int) string { return fmt.Sprintf("e2e/%04d", i) }

func value(i int) []byte { return []byte(fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%97))) }

func writeKeys(t *testing.T, c *api.Client) {
	t.Helper()
	for i := 0; i < e2eKeys; i++ {
		if _, err := c.KV().Put(&api.KVPair{Key: keyName(i), Value: value(i), Flags: uint64(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func checkKeys(t *testing.T, c *api.Client) {
	t.Helper()
	pairs, _, err := c.KV().List("e2e/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != e2eKeys {
		t.Fatalf("%d keys, want %d", len(pairs), e2eKeys)
	}
	for i, p := range pairs {
		if p.Key != keyName(i) || !bytes.Equal(p.Value, value(i)) || p.Flags != uint64(i) {
			t.Fatalf("key %d: got %s=%q flags %d", i, p.Key, p.Value, p.Flags)
		}
	}
}

// TestSnapshotCLIRoundTrip is the headline: save with the CLI, delete
// everything, restore with the CLI, and find every key; then restore the
// same file into a fresh agent.
func TestSnapshotCLIRoundTrip(t *testing.T) {
	a := startAgent(t, t.TempDir())
	c := a.client()
	writeKeys(t, c)

	file := filepath.Join(t.TempDir(), "backup.snap")
	out, code := a.runCLI("snapshot", "save", file)
	if code != 0 || !strings.Contains(out, "Saved and verified snapshot to index") {
		t.Fatalf("save: exit %d: %s", code, out)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v %v", info, err)
	}
	if _, err := os.Stat(file + ".part"); !os.IsNotExist(err) {
		t.Fatal("save left its .part file")
	}
	out, code = a.runCLI("snapshot", "inspect", file)
	if code != 0 || !strings.Contains(out, "KVS") || !strings.Contains(out, "1000") {
		t.Fatalf("inspect: exit %d: %s", code, out)
	}

	if _, err := c.KV().DeleteTree("e2e/", nil); err != nil {
		t.Fatal(err)
	}
	if pairs, _, _ := c.KV().List("e2e/", nil); len(pairs) != 0 {
		t.Fatal("delete-tree left keys")
	}
	out, code = a.runCLI("snapshot", "restore", file)
	if code != 0 || !strings.Contains(out, "Restored snapshot") {
		t.Fatalf("restore: exit %d: %s", code, out)
	}
	checkKeys(t, c)

	fresh := startAgent(t, t.TempDir())
	out, code = fresh.runCLI("snapshot", "restore", file)
	if code != 0 {
		t.Fatalf("restore into a fresh agent: exit %d: %s", code, out)
	}
	checkKeys(t, fresh.client())

	// The restored state is durable: it survives a clean restart.
	if code := fresh.Stop(); code != 0 {
		t.Fatalf("agent exit code %d on SIGTERM:\n%s", code, fresh.Output())
	}
	again := startAgent(t, fresh.DataDir)
	checkKeys(t, again.client())
}

// TestSnapshotArchiveWithCurlTools checks the archive as the README shows
// it: exactly three entries, and SHA256SUMS agreeing with the files.
func TestSnapshotArchiveLayout(t *testing.T) {
	a := startAgent(t, t.TempDir())
	writeKeys(t, a.client())
	resp, err := http.Get(a.URL("/v1/snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %d %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("Content-Type %q", ct)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sums := map[string]string{}
	var sumsFile []byte
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "SHA256SUMS" {
			sumsFile = data
			continue
		}
		h := sha256.Sum256(data)
		sums[f.Name] = hex.EncodeToString(h[:])
	}
	if strings.Join(names, ",") != "meta.json,state.bin,SHA256SUMS" {
		t.Fatalf("entries %v", names)
	}
	listed := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(sumsFile))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		listed[f[1]] = f[0]
	}
	if len(listed) != 2 || listed["meta.json"] != sums["meta.json"] || listed["state.bin"] != sums["state.bin"] {
		t.Fatalf("SHA256SUMS %v, computed %v", listed, sums)
	}
}

// stateToKeep writes the e2e keys, saves an archive of them, then
// writes after/save: the state a refused restore must leave as it is.
// It returns the archive and the files in a's data dir.
func stateToKeep(t *testing.T, a *agentProc) (archive []byte, files []string) {
	t.Helper()
	c := a.client()
	writeKeys(t, c)
	body, _, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, err = io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.KV().Put(&api.KVPair{Key: "after/save", Value: []byte("kept")}, nil); err != nil {
		t.Fatal(err)
	}
	return archive, dirFiles(t, a.DataDir)
}

// checkKept fails unless a still leads, with the state and the files
// stateToKeep left.
func checkKept(t *testing.T, a *agentProc, files []string) {
	t.Helper()
	c := a.client()
	checkKeys(t, c)
	if p, _, err := c.KV().Get("after/save", nil); err != nil || p == nil {
		t.Fatalf("a refused restore lost a later write: %v %v", p, err)
	}
	if leader, err := c.Status().Leader(); err != nil || leader == "" {
		t.Fatalf("no leader after a refused restore: %q %v", leader, err)
	}
	if after := dirFiles(t, a.DataDir); strings.Join(after, "\n") != strings.Join(files, "\n") {
		t.Fatalf("files in the data dir changed:\nbefore %v\nafter  %v", files, after)
	}
}

// putSnapshot restores archive over HTTP and returns the answer.
func putSnapshot(t *testing.T, a *agentProc, archive []byte) (status int, msg string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", a.URL("/v1/snapshot"), bytes.NewReader(archive))
	status, body := send(t, req)
	return status, string(body)
}

// TestCorruptArchiveChangesNothing: a damaged upload is answered 400, the
// CLI exits 1, the data is as it was and no file is left in the data dir.
func TestCorruptArchiveChangesNothing(t *testing.T) {
	a := startAgent(t, t.TempDir())
	archive, files := stateToKeep(t, a)

	if status, msg := putSnapshot(t, a, archive[:len(archive)-100]); status != 400 || msg == "" {
		t.Fatalf("truncated archive: %d %q", status, msg)
	}
	bad := filepath.Join(t.TempDir(), "bad.snap")
	os.WriteFile(bad, []byte("PK\x03\x04 definitely not a snapshot"), 0o600)
	if out, code := a.runCLI("snapshot", "restore", bad); code != 1 {
		t.Fatalf("CLI restore of garbage: exit %d: %s", code, out)
	}
	checkKept(t, a, files)
}

// TestDevModeRoundTrip: -dev keeps Raft in memory and still serves
// snapshots both ways.
func TestDevModeRoundTrip(t *testing.T) {
	a := startAgent(t, "")
	c := a.client()
	writeKeys(t, c)
	body, meta, err := c.Snapshot().Save(nil)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := io.ReadAll(body)
	body.Close()
	if meta.LastIndex == 0 {
		t.Fatal("no X-Consul-Index on save")
	}
	if _, err := c.KV().DeleteTree("e2e/", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Snapshot().Restore(nil, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, c)
}

// TestSnapshotCLIPipes: `snapshot save -` writes the archive to standard
// output and `snapshot restore -` reads it from standard input, as in
// `consul snapshot save - | gpg ...`; messages go to standard error.
func TestSnapshotCLIPipes(t *testing.T) {
	a := startAgent(t, t.TempDir())
	writeKeys(t, a.client())

	save := a.cli("snapshot", "save", "-")
	var archive, saveErr bytes.Buffer
	save.Stdout, save.Stderr = &archive, &saveErr
	if err := save.Run(); err != nil {
		t.Fatalf("save -: %v: %s", err, saveErr.String())
	}
	if !strings.Contains(saveErr.String(), "Saved snapshot to index") {
		t.Fatalf("save - said %q on stderr", saveErr.String())
	}
	if _, err := snapshot.Verify(bytes.NewReader(archive.Bytes()), int64(archive.Len())); err != nil {
		t.Fatalf("the archive on stdout does not verify: %v", err)
	}

	fresh := startAgent(t, t.TempDir())
	restore := fresh.cli("snapshot", "restore", "-")
	restore.Stdin = bytes.NewReader(archive.Bytes())
	out, err := restore.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Restored snapshot") {
		t.Fatalf("restore -: %v: %s", err, out)
	}
	checkKeys(t, fresh.client())

	// A truncated archive on stdin is refused and changes nothing.
	restore = fresh.cli("snapshot", "restore", "-")
	restore.Stdin = bytes.NewReader(archive.Bytes()[:archive.Len()/2])
	if out, err := restore.CombinedOutput(); err == nil {
		t.Fatalf("restore - of half an archive succeeded: %s", out)
	}
	checkKeys(t, fresh.client())
}
