package consul

import (
	"fmt"
	"syscall"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
)

// diskReserve is the free space, on the file system holding Raft's data,
// below which writes are refused: room for Raft's largest batch of
// entries (64 of up to 512 KiB each) with bolt's own pages around them.
// A write refused here costs nothing; one that reaches Raft and fails to
// append makes the leader step down, and with the disk still full the
// election that follows cannot store its term, so reads stop too.
const diskReserve = 64 << 20

// diskFullLogEvery spaces the log lines about refused writes: a disk that
// stays full must not fill the log with one line per write.
const diskFullLogEvery = time.Minute

// diskGuard refuses writes while the disk holding Raft's data is nearly
// full. It is safe for concurrent use.
type diskGuard struct {
	dir    string
	logger hclog.Logger
	log    logThrottle
}

// newDiskGuard guards the file system holding dir, Raft's directory; an
// empty dir (-dev, Raft in memory) guards nothing.
func newDiskGuard(dir string, logger hclog.Logger) *diskGuard {
	return &diskGuard{dir: dir, logger: logger, log: logThrottle{every: diskFullLogEvery}}
}

// check answers ErrDiskFull while less than diskReserve is free.
func (g *diskGuard) check() error {
	if g.dir == "" {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(g.dir, &st); err != nil {
		// Not knowing is no reason to refuse: Raft reports a real failure.
		return nil
	}
	free := st.Bavail * uint64(st.Bsize)
	if free >= diskReserve {
		return nil
	}
	g.log.event(func(refused int) {
		g.logger.Error("refusing writes: the disk holding Raft's data is full; reads go on",
			"dir", g.dir, "free_bytes", free, "needed_bytes", diskReserve, "refused_since_last_report", refused)
	})
	return fmt.Errorf("%w: %s has %d bytes free, and writes need %d", structs.ErrDiskFull, g.dir, free, diskReserve)
}
