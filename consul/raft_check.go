package consul

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// snapshotsDirName is where raft's FileSnapshotStore keeps its snapshots,
// under the directory it is given.
const snapshotsDirName = "snapshots"

// partialSnapshotSuffix ends the name of a snapshot directory that raft's
// FileSnapshotStore is still writing; it renames it when done.
const partialSnapshotSuffix = ".tmp"

// checkRaftState tells whether Raft can start from the state in dir
// (<data-dir>/raft) without losing any of it, before raft.NewRaft reads
// it. Raft itself panics when the log does not reach back to the snapshot
// it restores, bbolt panics or faults on a damaged raft.db, and a missing
// raft.db makes Raft start from a snapshot alone with no term or vote;
// each of these is an error here, saying what is wrong and what the
// operator can do. When Raft will skip a damaged newer snapshot and the
// log still holds everything after the one it restores, nothing is lost:
// that is logged at WARN, and Raft starts.
func checkRaftState(dir string, logger hclog.Logger) error {
	dbPath := filepath.Join(dir, "raft.db")
	info, err := os.Stat(dbPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unreadable(dbPath, err)
	}
	snaps, err := listSnapshotDirs(dir)
	if err != nil {
		return err
	}
	if info == nil {
		if len(snaps.dirs) == 0 {
			return nil // a fresh data dir
		}
		newest := snaps.dirs[0]
		return refuse(dir, "%s is missing, but %s holds snapshots (the newest at index %d): Raft's term and vote, and the log after the snapshot, were in raft.db, and starting from the snapshot alone would drop the writes after it and could let this server vote twice in a term",
			dbPath, snaps.dir, newest.index)
	}
	choice := snaps.choose()
	var after uint64
	if choice.usable != nil {
		after = choice.usable.index
	}
	log, err := inspectRaftDB(dbPath, info, after)
	if err != nil {
		return raftDBError(dir, dbPath, err)
	}

	// Everything up to the newest skipped snapshot, or the end of the log,
	// must be rebuilt from the log.
	target := log.last
	for _, s := range choice.skipped {
		target = max(target, s.index)
	}
	if log.through < target {
		end := target
		if log.resumes != 0 {
			end = log.resumes - 1
		}
		return refuse(dir, "starting would lose the writes at %s: %s, and %s does not hold those log entries",
			indexes(log.through+1, end), choice.describe(snaps.dir), dbPath)
	}
	if choice.usable == nil && choice.tried {
		// Raft refuses to start when it cannot restore any of the
		// snapshots it reads the metadata of, even from a whole log.
		return fmt.Errorf("no snapshot in %s can be used (%s), but %s holds the whole log, %s: move those snapshot directories out of %s and start again to rebuild the state from the log",
			snaps.dir, choice.problems(snaps.dir), dbPath, indexes(1, log.last), snaps.dir)
	}
	for _, s := range choice.skipped {
		logger.Warn("a snapshot cannot be used; starting without it", "snapshot", filepath.Join(snaps.dir, s.id), "index", s.index, "error", s.problem)
	}
	switch {
	case len(choice.skipped) == 0:
	case choice.usable != nil:
		logger.Warn("starting from an older snapshot: raft.db holds every log entry after it, so nothing is lost",
			"snapshot", filepath.Join(snaps.dir, choice.usable.id), "index", after, "rebuilt_from_log", indexRange(after+1, log.last))
	default:
		logger.Warn("starting from an empty state: raft.db holds the whole log, so nothing is lost",
			"rebuilt_from_log", indexRange(1, log.last))
	}
	return nil
}

// snapshotDir is one snapshot directory in raft/snapshots.
type snapshotDir struct {
	id          string
	term, index uint64
	// listed is true when raft's store lists it (it read its metadata)
	// among the snapshots it tries to restore at start-up.
	listed bool
	// problem says why Raft cannot restore it; set by choose.
	problem string
}

// snapshotDirs are the snapshot directories of a raft directory, newest
// first, in the order Raft tries them.
type snapshotDirs struct {
	dir   string
	store *raft.FileSnapshotStore
	dirs  []snapshotDir
}

// listSnapshotDirs lists the snapshots Raft's store lists and those it
// skips because it cannot read their meta.json. Partial snapshots (.tmp)
// are left out, as Raft leaves them out.
func listSnapshotDirs(raftDir string) (*snapshotDirs, error) {
	// A store of its own, silent: the reasons it would log are in the
	// check's messages.
	store, err := raft.NewFileSnapshotStoreWithLogger(raftDir, snapshotsRetained, hclog.NewNullLogger())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(raftDir, snapshotsDirName), err)
	}
	s := &snapshotDirs{dir: filepath.Join(raftDir, snapshotsDirName), store: store}
	metas, err := store.List()
	if err != nil {
		return nil, unreadable(s.dir, err)
	}
	listed := make(map[string]bool)
	for _, m := range metas {
		listed[m.ID] = true
		s.dirs = append(s.dirs, snapshotDir{id: m.ID, term: m.Term, index: m.Index, listed: true})
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, unreadable(s.dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || listed[name] || strings.HasSuffix(name, partialSnapshotSuffix) {
			continue
		}
		term, index, ok := parseSnapshotName(name)
		if !ok {
			continue // not a directory Raft made
		}
		if problem := metaProblem(filepath.Join(s.dir, name, "meta.json")); problem != "" {
			s.dirs = append(s.dirs, snapshotDir{id: name, term: term, index: index, problem: problem})
		}
	}
	// Raft's order: term, then index, then ID.
	sort.Slice(s.dirs, func(i, j int) bool {
		a, b := s.dirs[i], s.dirs[j]
		if a.term != b.term {
			return a.term > b.term
		}
		if a.index != b.index {
			return a.index > b.index
		}
		return a.id > b.id
	})
	return s, nil
}

// snapshotChoice is the snapshot Raft will restore at start-up and the
// newer ones it will skip.
type snapshotChoice struct {
	// usable is the snapshot Raft restores; nil when it starts from an
	// empty state.
	usable *snapshotDir
	// skipped are the snapshots newer than usable, newest first.
	skipped []snapshotDir
	// tried is true when Raft lists snapshots and so tries to restore
	// them.
	tried bool
}

// choose opens the snapshots as Raft will, newest first, and stops at the
// first that opens; opening one reads its state.bin whole to check its
// CRC.
func (s *snapshotDirs) choose() snapshotChoice {
	var c snapshotChoice
	for i := range s.dirs {
		d := s.dirs[i]
		if d.listed {
			c.tried = true
			_, rc, err := s.store.Open(d.id)
			if err == nil {
				rc.Close()
				c.usable = &d
				return c
			}
			d.problem = openProblem(err)
		}
		c.skipped = append(c.skipped, d)
	}
	return c
}

// describe says which snapshot Raft would start from and why not a newer
// one, for an error message.
func (c snapshotChoice) describe(dir string) string {
	var parts []string
	for _, s := range c.skipped {
		parts = append(parts, fmt.Sprintf("snapshot %s (index %d) cannot be used (%s)", filepath.Join(dir, s.id), s.index, s.problem))
	}
	switch {
	case c.usable != nil:
		parts = append(parts, fmt.Sprintf("the newest usable snapshot, %s, ends at index %d", filepath.Join(dir, c.usable.id), c.usable.index))
	case len(c.skipped) == 0:
		parts = append(parts, "there is no snapshot")
	default:
		parts = append(parts, "no snapshot can be used")
	}
	return strings.Join(parts, ", ")
}

// problems lists why each skipped snapshot cannot be used.
func (c snapshotChoice) problems(dir string) string {
	var parts []string
	for _, s := range c.skipped {
		parts = append(parts, fmt.Sprintf("%s: %s", filepath.Join(dir, s.id), s.problem))
	}
	return strings.Join(parts, "; ")
}

// parseSnapshotName reads the term and index from the name raft gives a
// snapshot directory, <term>-<index>-<milliseconds>.
func parseSnapshotName(name string) (term, index uint64, ok bool) {
	parts := strings.Split(name, "-")
	if len(parts) != 3 {
		return 0, 0, false
	}
	var n [3]uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		n[i] = v
	}
	return n[0], n[1], true
}

// metaProblem says why raft cannot read the meta.json at path, as its
// store reads it; "" when it can.
func metaProblem(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "meta.json: " + pathCause(err)
	}
	var m raft.SnapshotMeta
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		return "meta.json: " + err.Error()
	}
	if m.Version < raft.SnapshotVersionMin || m.Version > raft.SnapshotVersionMax {
		return fmt.Sprintf("meta.json: snapshot version %d is not supported", m.Version)
	}
	return ""
}

// openProblem says why raft's store could not open a snapshot: a file
// missing or unreadable, or a state.bin that does not match the CRC in
// meta.json.
func openProblem(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return filepath.Base(pathErr.Path) + ": " + pathErr.Err.Error()
	}
	return "state.bin: " + err.Error()
}

// pathCause is the cause of a file system error, without the path, which
// the message says already.
func pathCause(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}

// indexRange renders the Raft indexes from a to b.
func indexRange(a, b uint64) string {
	if a == b {
		return strconv.FormatUint(a, 10)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// indexes names the Raft indexes from a to b in a sentence.
func indexes(a, b uint64) string {
	if a == b {
		return "index " + indexRange(a, b)
	}
	return "indexes " + indexRange(a, b)
}

// unreadable is the error for a file or directory of the raft state that
// cannot be read.
func unreadable(path string, err error) error {
	msg := fmt.Sprintf("%s cannot be read (%s)", path, pathCause(err))
	if errors.Is(err, fs.ErrPermission) {
		msg += ": the agent's user needs to read and write it"
	}
	return errors.New(msg)
}

// raftDBError is the error for a raft.db at path, in the raft directory
// dir, that bbolt cannot open or read.
func raftDBError(dir, path string, err error) error {
	if errors.Is(err, errBoltDamaged) {
		return refuse(dir, "%s is %v", path, err)
	}
	return unreadable(path, err)
}

// refuse is the error for a raft state the agent will not start from,
// with what the operator can do about it.
func refuse(dir, format string, args ...interface{}) error {
	return fmt.Errorf(format+"; restore the data dir from a backup; or, on a server of a cluster, move %s aside and start again to get the state from the leader; or start on an empty data dir and restore a saved snapshot (consul snapshot restore)",
		append(args, dir)...)
}
