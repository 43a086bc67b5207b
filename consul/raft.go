package consul

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// raftStores are Raft's log, stable and snapshot stores, on disk under
// <data-dir>/raft or in memory in dev mode.
type raftStores struct {
	logs   raft.LogStore
	stable raft.StableStore
	snaps  raft.SnapshotStore
	bolt   *raftboltdb.BoltStore
}

// Close closes the on-disk store, if any.
func (r *raftStores) Close() error {
	if r.bolt != nil {
		return r.bolt.Close()
	}
	return nil
}

// snapshotsRetained is how many of its own snapshots Raft keeps on disk.
const snapshotsRetained = 2

// raftDir is where Raft's log and snapshots live; "" in dev mode, where
// they live in memory.
func raftDir(c *Config) string {
	if c.DevMode {
		return ""
	}
	return filepath.Join(c.DataDir, "raft")
}

func openRaftStores(c *Config, logger hclog.Logger) (*raftStores, error) {
	if c.DevMode {
		mem := raft.NewInmemStore()
		return &raftStores{logs: mem, stable: mem, snaps: raft.NewInmemSnapshotStore()}, nil
	}
	dir := raftDir(c)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("server: raft dir: %w", err)
	}
	if err := checkRaftState(dir, logger); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, "raft.db")
	bolt, err := openBoltStore(dbPath)
	if err != nil {
		return nil, raftDBError(dir, dbPath, err)
	}
	// Only now: the lock on raft.db shows that no other agent is writing
	// them.
	if err := removePartialSnapshots(filepath.Join(dir, snapshotsDirName), logger); err != nil {
		bolt.Close()
		return nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, snapshotsRetained, logger)
	if err != nil {
		bolt.Close()
		return nil, fmt.Errorf("server: raft snapshot store: %w", err)
	}
	// The cache spares bolt the reads of entries just written.
	logs, err := raft.NewLogCache(512, bolt)
	if err != nil {
		bolt.Close()
		return nil, err
	}
	return &raftStores{logs: logs, stable: bolt, snaps: snaps, bolt: bolt}, nil
}

// setupRaft opens the stores, bootstraps a cluster of one if asked and
// Raft has no state yet, and starts Raft on the shared RPC port.
func (s *Server) setupRaft() error {
	stores, err := openRaftStores(s.config, s.logger.Named("raft"))
	if err != nil {
		return err
	}
	s.raftStores = stores
	// Before Raft replays its log: the dumps of the restore entries it
	// holds must stay.
	if err := s.staging.noteLog(stores.logs); err != nil {
		return err
	}
	s.raftTrans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  s.raftLayer,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  s.logger.Named("raft.net"),
	})
	rc := *s.config.RaftConfig
	rc.LocalID = raft.ServerID(s.config.NodeName)
	rc.Logger = s.logger.Named("raft")
	// Buffered, as raft asks: it drops a change rather than block on it.
	notifyCh := make(chan bool, 10)
	rc.NotifyCh = notifyCh
	if s.config.Bootstrap {
		has, err := raft.HasExistingState(stores.logs, stores.stable, stores.snaps)
		if err != nil {
			return fmt.Errorf("server: read raft state: %w", err)
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{
				ID:      rc.LocalID,
				Address: s.raftTrans.LocalAddr(),
			}}}
			if err := raft.BootstrapCluster(&rc, stores.logs, stores.stable, stores.snaps, s.raftTrans, conf); err != nil {
				return fmt.Errorf("server: bootstrap: %w", err)
			}
		}
	}
	r, err := raft.NewRaft(&rc, s.fsm, stores.logs, stores.stable, stores.snaps, s.raftTrans)
	if err != nil {
		return fmt.Errorf("server: start raft: %w", err)
	}
	s.raft = r
	s.staging.collect(true)
	s.wg.Add(2)
	go s.monitorLeadership(notifyCh)
	go s.staging.collectLoop()
	return nil
}

// raftApplyTimeout bounds how long a write waits to be committed.
const raftApplyTimeout = 30 * time.Second

// raftApply appends one entry and waits until the FSM applied it; it
// returns the FSM's response, or the response itself when that is an error.
func (s *Server) raftApply(t structs.MessageType, msg interface{}) (interface{}, error) {
	if err := s.disk.check(); err != nil {
		return nil, err
	}
	buf, err := structs.Encode(t, msg)
	if err != nil {
		return nil, err
	}
	f := s.raft.Apply(buf, raftApplyTimeout)
	if err := s.raftWait(f, 0); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return nil, structs.ErrNoLeader
		}
		return nil, err
	}
	if err, ok := f.Response().(error); ok {
		return nil, err
	}
	return f.Response(), nil
}
