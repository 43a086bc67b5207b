package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/consulcompat/consul/snapshot"
	"github.com/hashicorp/consul/api"
)

const snapshotSaveHelp = `
Usage: consul snapshot save [options] FILE

  Saves an atomic, point-in-time snapshot of the servers' state to FILE,
  verified before FILE is written. FILE is replaced only by a complete,
  verified snapshot: on any failure an existing FILE is left as it was.

      $ consul snapshot save backup.snap

  With -stale, any server may answer, which works with no leader:

      $ consul snapshot save -stale backup.snap

  With FILE "-" the archive goes to standard output as it arrives, for a
  pipeline; it cannot be verified before it leaves, but a transfer that
  fails midway exits 1:

      $ consul snapshot save - | gpg -e -r ops > backup.snap.gpg

  On a terminal, the bytes saved and the rate are shown on standard error.
`

// partSuffix names the file a snapshot is written to until it is verified.
const partSuffix = ".part"

// runSnapshotSave is `consul snapshot save`.
func runSnapshotSave(u *ui, args []string) int {
	return runWithFile(u, args, "snapshot save", snapshotSaveHelp, true, func(client *api.Client, q *api.QueryOptions, file string) int {
		// An interrupted save must still remove its partial file, so the
		// signals that would kill the process cancel the transfer instead.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()

		if file == "-" {
			index, err := streamSnapshot(ctx, client, q, u)
			if err != nil {
				u.error("%v", err)
				return 1
			}
			u.error("Saved snapshot to index %d", index)
			return 0
		}
		index, err := saveSnapshot(ctx, client, q, file, newProgress(u.err, "saved"))
		if err != nil {
			u.error("%v", err)
			return 1
		}
		u.info("Saved and verified snapshot to index %d", index)
		return 0
	})
}

// runWithFile runs snapshot save or restore, the commands that take the
// HTTP flags (-stale when reads) and one FILE argument: it parses them,
// builds the client, and returns what do returns with them.
func runWithFile(u *ui, args []string, name, help string, reads bool, do func(client *api.Client, q *api.QueryOptions, file string) int) int {
	c := newHTTPCommand(name, help, reads)
	if code, done := c.parse(u, args); done {
		return code
	}
	file, ok := oneArg(u, c.fs.Args(), "FILE")
	if !ok {
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	return do(client, c.http.queryOptions(), file)
}

// openSnapshotFile opens a snapshot file to read, or reports why it
// cannot.
func openSnapshotFile(u *ui, file string) (*os.File, bool) {
	f, err := os.Open(file)
	if err != nil {
		u.error("Error opening snapshot file: %v", err)
		return nil, false
	}
	return f, true
}

// saveSnapshot downloads a snapshot into file and returns its Raft index.
// The archive goes to file+".part" (mode 0600: it holds every secret in
// the state, ACL tokens included), is synced and verified there, and only
// then renamed over file, so that file is either left as it was or
// replaced by a whole, verified snapshot. On failure the .part file is
// removed. The error is phrased for the user.
func saveSnapshot(ctx context.Context, client *api.Client, q *api.QueryOptions, file string, prog *progress) (index uint64, err error) {
	part := file + partSuffix
	// The .part name belongs to this command: one that exists was left by
	// a save that crashed or was killed, and holds nothing worth keeping.
	if err := os.Remove(part); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("Error removing stale %s: %v", part, err)
	}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("Error creating snapshot file: %v", err)
	}
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			f.Close()
		}
		os.Remove(part)
	}()

	n, _, err := downloadSnapshot(ctx, client, q, io.MultiWriter(f, prog))
	prog.done()
	if err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("Error writing snapshot file: %v", err)
	}

	meta, err := snapshot.Verify(f, n)
	if err != nil {
		return 0, fmt.Errorf("Error verifying snapshot file: %v", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("Error writing snapshot file: %v", err)
	}

	if err := os.Rename(part, file); err != nil {
		return 0, fmt.Errorf("Error renaming %q to %q: %v", part, file, err)
	}
	// Without this, a crash soon after could lose the rename and leave the
	// old file, or none, although the save reported success.
	if err := syncDir(filepath.Dir(file)); err != nil {
		return 0, fmt.Errorf("Error syncing directory of %s: %v (the verified snapshot is in place, but may not survive a crash)", file, err)
	}
	return meta.Index, nil
}

// streamSnapshot writes a snapshot to standard output as it arrives and
// returns its Raft index.
func streamSnapshot(ctx context.Context, client *api.Client, q *api.QueryOptions, u *ui) (uint64, error) {
	prog := newProgress(u.err, "saved")
	_, index, err := downloadSnapshot(ctx, client, q, io.MultiWriter(u.out, prog))
	prog.done()
	return index, err
}

// downloadSnapshot copies a snapshot from the agent into w and returns
// its size and Raft index. The error is phrased for the user.
func downloadSnapshot(ctx context.Context, client *api.Client, q *api.QueryOptions, w io.Writer) (int64, uint64, error) {
	body, meta, err := client.Snapshot().Save(q.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("Error saving snapshot: interrupted (%v)", context.Cause(ctx))
		}
		return 0, 0, fmt.Errorf("Error saving snapshot: %v", err)
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		if ctx.Err() != nil {
			return n, 0, fmt.Errorf("Error saving snapshot: interrupted (%v) after %d bytes", context.Cause(ctx), n)
		}
		return n, 0, fmt.Errorf("Error saving snapshot: transfer failed after %d bytes: %v", n, err)
	}
	return n, meta.LastIndex, nil
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
