package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/snapshot/snapshottest"
)

// procValue reads one `key: number` line of /proc/<pid>/<file>.
func (a *agentProc) procValue(file, key string) int64 {
	a.t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", a.cmd.Process.Pid, file))
	if err != nil {
		a.t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				n, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return n
				}
			}
		}
	}
	a.t.Fatalf("no %s in /proc/<pid>/%s", key, file)
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func (a *agentProc) resetPeakRSS() {
	a.t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", a.cmd.Process.Pid), []byte("5"), 0); err != nil {
		a.t.Fatal(err)
	}
}

// TestRestoreBombsRefused: valid archives of a few megabytes whose
// state.bin would expand to gigabytes (6 GiB of distinct keys, 2 GiB of
// one key) are refused at once: as too large when meta.json declares
// that, as corrupt when it declares none or less than there is. The
// agent's memory and disk are barely touched, nothing is left in its
// data dir, its state and leadership are kept; a normal archive then
// restores.
func TestRestoreBombsRefused(t *testing.T) {
	const limit = 64 << 20
	dir := t.TempDir()
	cfg := filepath.Join(dir, "limits.hcl")
	os.WriteFile(cfg, []byte(fmt.Sprintf("limits {\n  restore_max_state_bytes = %d\n}\n", limit)), 0o600)
	a := startAgent(t, filepath.Join(dir, "data"), "-config-file", cfg)
	good, files := stateToKeep(t, a)

	bomb := snapshottest.NewBomb(t, 12288, 512<<10, false)
	// One key written over and over, which would take little memory but
	// as much disk as it expands to.
	oneKey := snapshottest.NewBomb(t, 4096, 512<<10, true)
	for _, tc := range []struct {
		name     string
		bomb     *snapshottest.Bomb
		declared int64
		status   int
		want     string
		// maxGrowth bounds the agent's RSS peak over its RSS before,
		// maxWritten what it writes to disk.
		maxGrowth, maxWritten int64
	}{
		{"declared, over the limit", bomb, bomb.Size, 413,
			fmt.Sprintf("state.bin would be %d bytes (%.1f MiB), over the limit of %d bytes (64.0 MiB), set by limits.restore_max_state_bytes; raise it to restore this archive",
				bomb.Size, float64(bomb.Size)/(1<<20), limit),
			16 << 20, 1 << 20},
		{"one key, declared, over the limit", oneKey, oneKey.Size, 413,
			fmt.Sprintf("state.bin would be %d bytes", oneKey.Size), 16 << 20, 1 << 20},
		{"declared none", bomb, 0, 400, "state.bin: longer than meta.json's Size (0 bytes)", 16 << 20, 1 << 20},
		// Held to what it declares: the state built and the copy Raft
		// wrote are of that size, and go.
		{"declared under the limit, longer", bomb, 32 << 20, 400, "state.bin: longer than meta.json's Size (33554432 bytes)", 3 * limit, 40 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			archive := tc.bomb.Archive(t, tc.declared)
			if len(archive) > 8<<20 {
				t.Fatalf("the bomb is %d bytes", len(archive))
			}
			a.resetPeakRSS()
			rss, written := a.procValue("status", "VmRSS")<<10, a.procValue("io", "write_bytes")
			start := time.Now()
			status, msg := putSnapshot(t, a, archive)
			took := time.Since(start)
			peak, wrote := max(a.procValue("status", "VmHWM")<<10, rss), a.procValue("io", "write_bytes")-written
			t.Logf("%d in %v, RSS %.1f MiB, peak +%.1f MiB, wrote %.1f MiB: %s", status, took.Round(time.Millisecond),
				float64(rss)/(1<<20), float64(peak-rss)/(1<<20), float64(wrote)/(1<<20), msg)
			if status != tc.status || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") > 1 {
				t.Fatalf("got %d %q, want %d with %q", status, msg, tc.status, tc.want)
			}
			if took > 5*time.Second {
				t.Errorf("answered after %v", took)
			}
			if peak-rss > tc.maxGrowth || wrote > tc.maxWritten {
				t.Errorf("RSS peak %d bytes over %d before it, %d bytes written; want at most %d and %d", peak-rss, rss, wrote, tc.maxGrowth, tc.maxWritten)
			}
			checkKept(t, a, files)
		})
	}

	c := a.client()
	if err := c.Snapshot().Restore(nil, bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, c)
	if p, _, _ := c.KV().Get("after/save", nil); p != nil {
		t.Fatal("the normal archive did not restore")
	}
}
