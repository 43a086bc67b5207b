package consul

import (
	"errors"
	"fmt"

	"github.com/consulcompat/consul/snapshot"
)

// restoreMemoryShare sets the default restore limit: a restore may
// declare a state.bin of at most a twentieth of the memory this server
// may use. The state in memory is larger than state.bin. Measured against
// a real agent process, restoring into a fresh server, the peak RSS grew
// by 9.7 times state.bin for catalog nodes with a service and a check
// each (80,000 of them), 7.9 times for KV entries with 1-byte values
// (800,000), 2.0 times for 512-byte values. So the worst of these takes
// at most half of memory, leaving the rest to the state it replaces,
// which serves until the swap, and to the server itself.
const restoreMemoryShare = 20

// restoreLimit is the largest state.bin a restore may declare, with the
// words that say where it comes from and how to raise it: the configured
// limits.restore_max_state_bytes, else a twentieth of this server's
// memory. 0 when neither is known, which leaves snapshot.MaxStateSize.
func (s *Server) restoreLimit() (limit int64, source string) {
	if n := s.config.RestoreMaxStateBytes; n > 0 {
		return n, "set by limits.restore_max_state_bytes; raise it to restore this archive"
	}
	mem, cgroup := machineMemory("/")
	of := "memory"
	if cgroup {
		of = "cgroup's memory limit"
	}
	return mem / restoreMemoryShare, fmt.Sprintf("a twentieth of this server's %s (%d bytes, %.1f GiB); set limits.restore_max_state_bytes to restore this archive",
		of, mem, float64(mem)/(1<<30))
}

// explainLimit adds to a refusal for the restore limit where the limit
// comes from and how to raise it; any other error is returned as it is.
func explainLimit(err error, source string) error {
	var le *snapshot.StateLimitError
	if !errors.As(err, &le) {
		return err
	}
	return fmt.Errorf("%w, %s", err, source)
}
