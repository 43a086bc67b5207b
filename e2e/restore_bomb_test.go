package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/agentproc"
	"github.com/consulcompat/consul/snapshot/snapshottest"
)

// rss reads the agent's resident set size.
func (a *agentProc) rss() agentproc.RSS {
	a.t.Helper()
	r, err := a.RSS()
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// diskWritten reads what the agent has written to storage.
func (a *agentProc) diskWritten() int64 {
	a.t.Helper()
	n, err := a.DiskWritten()
	if err != nil {
		a.t.Fatal(err)
	}
	return n
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
			if err := a.ResetPeakRSS(); err != nil {
				t.Fatal(err)
			}
			rss, written := a.rss().Total<<10, a.diskWritten()
			start := time.Now()
			status, msg := putSnapshot(t, a, archive)
			took := time.Since(start)
			peak, wrote := max(a.rss().Peak<<10, rss), a.diskWritten()-written
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
