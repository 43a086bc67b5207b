package consul

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// removePartialSnapshots deletes the snapshot directories in dir
// (raft/snapshots) that Raft's store was still writing when the process
// died: a periodic snapshot, or a restore streaming in (which can be
// gigabytes). Raft renames a snapshot when it is complete, never reads a
// partial one and never removes it either. Nothing in one was ever in
// use. The caller holds the lock on raft.db, so no other agent is
// writing them.
func removePartialSnapshots(dir string, logger hclog.Logger) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return unreadable(dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), partialSnapshotSuffix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		size := treeSize(path)
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("cannot remove %s, a partial snapshot left by a crash (%s): remove it by hand", path, pathCause(err))
		}
		logger.Warn("removed a partial snapshot left by a crash; nothing in it was in use", "path", path, "bytes", size)
	}
	return nil
}

// treeSize is the size of the files under dir, as far as it can be read.
func treeSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
