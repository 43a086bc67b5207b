package main

import (
	"io"

	"github.com/hashicorp/consul/api"
)

const snapshotRestoreHelp = `
Usage: consul snapshot restore [options] FILE

  Restores the servers' state from a snapshot file: everything in it
  replaces what the servers hold. This is a low-level operation meant for
  disaster recovery, usually into a fresh cluster. The servers verify the
  whole file before anything changes.

      $ consul snapshot restore backup.snap

  With FILE "-" the snapshot is read from standard input:

      $ gpg -d backup.snap.gpg | consul snapshot restore -

  On a terminal, the bytes sent and the rate are shown on standard error.
`

// runSnapshotRestore is `consul snapshot restore`.
func runSnapshotRestore(u *ui, args []string) int {
	return runWithFile(u, args, "snapshot restore", snapshotRestoreHelp, false, func(client *api.Client, _ *api.QueryOptions, file string) int {
		// The file is sent as it is, not checked here first: the server
		// checks it anyway, and the server is to accept Consul's own archive
		// format (gzipped tar), which snapshot.Verify rejects.
		var in io.Reader = u.in
		if file != "-" {
			f, ok := openSnapshotFile(u, file)
			if !ok {
				return 1
			}
			defer f.Close()
			in = f
		}
		prog := newProgress(u.err, "sent")
		err := client.Snapshot().Restore(nil, io.TeeReader(in, prog))
		prog.done()
		if err != nil {
			u.error("Error restoring snapshot: %v", err)
			return 1
		}
		u.info("Restored snapshot")
		return 0
	})
}
