package consul

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// errBoltDamaged marks raft.db as unusable because of its content, as
// opposed to an error reading it (permissions, I/O).
var errBoltDamaged = errors.New("damaged")

// boltLogBucket is the bucket in which raft-boltdb keeps the log, keyed by
// index as 8 big-endian bytes.
const boltLogBucket = "logs"

// raftLog is what inspectRaftDB learned of the log in raft.db.
type raftLog struct {
	// last is the index of the last entry; 0 when the log is empty.
	last uint64
	// through is the highest index up to which raft.db holds every entry
	// after the index inspectRaftDB was asked about (that index itself
	// when it holds none).
	through uint64
	// resumes is the first index raft.db holds after a run of missing
	// entries that starts at through+1; 0 when nothing is missing up to
	// last.
	resumes uint64
}

// inspectRaftDB reads raft.db at path, of which info is the stat, without
// changing it: it refuses a file shorter than the pages bbolt recorded
// (cut short: bbolt would read past its end, which kills the process),
// reads every key of every bucket, so that a damaged page shows here
// rather than in one of Raft's goroutines, and reports which entries of
// the log after index after it holds.
func inspectRaftDB(path string, info fs.FileInfo, after uint64) (raftLog, error) {
	log := raftLog{through: after}
	if info.Size() == 0 {
		// bbolt would take an empty file for a new one and start afresh.
		return log, fmt.Errorf("%w: empty (0 bytes)", errBoltDamaged)
	}
	err := boltSafely(func() error {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bbolt.Tx) error {
			if need := tx.Size(); info.Size() < need {
				return fmt.Errorf("%w: cut short at %d bytes of the %d its pages take", errBoltDamaged, info.Size(), need)
			}
			return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
				if string(name) == boltLogBucket {
					return walkLog(b, after, &log)
				}
				return b.ForEach(func(k, v []byte) error { return nil })
			})
		})
	})
	return log, boltError(err)
}

// walkLog fills log from the keys of the log bucket b.
func walkLog(b *bbolt.Bucket, after uint64, log *raftLog) error {
	return b.ForEach(func(k, _ []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("%w: a log key of %d bytes", errBoltDamaged, len(k))
		}
		i := binary.BigEndian.Uint64(k)
		if i <= log.last && log.last != 0 {
			return fmt.Errorf("%w: log index %d after %d", errBoltDamaged, i, log.last)
		}
		log.last = i
		switch {
		case i <= after || log.resumes != 0:
		case i == log.through+1:
			log.through = i
		default:
			log.resumes = i
		}
		return nil
	})
}

// openBoltStore opens raft.db for Raft once inspectRaftDB has passed it;
// loading bbolt's freelist, which inspectRaftDB cannot read, may still
// panic on a damaged file. bbolt's handle on the file then stays open
// (its memory map holds the lock even if the descriptor were closed)
// until the process ends, which for the agent is at once.
func openBoltStore(path string) (*raftboltdb.BoltStore, error) {
	var store *raftboltdb.BoltStore
	err := boltSafely(func() (err error) {
		store, err = raftboltdb.New(raftboltdb.Options{Path: path})
		return err
	})
	return store, boltError(err)
}

// boltSafely runs f, which reads a raft.db that nothing else uses yet, and
// turns a panic in bbolt into an error. bbolt (v1.3.5) answers some
// damage with a panic rather than an error, or reads through a page
// number it found in the file without checking it; the fault that follows
// becomes a panic too. This is the one place where the agent recovers:
// the panic is bbolt's reaction to the input, not a bug to crash on.
func boltSafely(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errBoltDamaged, r)
		}
	}()
	return f()
}

// boltError marks bbolt's own errors for a file that is not a valid
// database as damage; errors from the file system pass unchanged.
func boltError(err error) error {
	var pathErr *fs.PathError
	if err == nil || errors.Is(err, errBoltDamaged) || errors.As(err, &pathErr) {
		return err
	}
	return fmt.Errorf("%w: %v", errBoltDamaged, err)
}
