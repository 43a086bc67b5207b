package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// Staged gives the FSM the state dumps that restore entries name. The
// server implements it over its staging directory and its peers.
type Staged interface {
	// OpenStaged returns the dump staged under its SHA-256, of size bytes,
	// fetching it from a peer first when this server lacks it. It keeps
	// trying until it has it; it fails only with ErrStopping, once the
	// server is shutting down. Reading the dump to its end checks its
	// SHA-256 again.
	OpenStaged(sum []byte, size int64) (io.ReadCloser, error)
	// DropStaged forgets a dump that turned out damaged, so that the next
	// OpenStaged fetches it afresh.
	DropStaged(sum []byte)
	// Applied tells that the restore entry at Raft index index, naming
	// the dump sum, has been applied: the dump is kept while the log
	// holds that entry.
	Applied(sum []byte, index uint64)
}

// ErrStopping is OpenStaged's answer once the server shuts down.
var ErrStopping = errors.New("fsm: the server is shutting down")

// restoreRetry is the wait before trying again a dump that failed to
// decode (damaged on disk, or cut short by a peer).
const restoreRetry = time.Second

// restoreOffer is a store a leader built from a restore's upload as it
// arrived, and the header of its dump.
type restoreOffer struct {
	sum    []byte
	b      *state.Builder
	header structs.SnapshotHeader
}

// OfferRestore hands the FSM the store b built from the whole dump with
// SHA-256 sum, whose header is h, so that applying the restore entry of
// that dump adopts it instead of decoding the dump again. The leader
// offers it before it proposes the entry and withdraws it afterwards; a
// new offer replaces an old one, whose store is discarded.
func (f *FSM) OfferRestore(sum []byte, b *state.Builder, h structs.SnapshotHeader) {
	f.offerMu.Lock()
	defer f.offerMu.Unlock()
	if f.offer != nil {
		f.offer.b.Discard()
	}
	f.offer = &restoreOffer{sum: sum, b: b, header: h}
}

// WithdrawRestore ends the offer of the dump sum, if it stands, and
// discards its store.
func (f *FSM) WithdrawRestore(sum []byte) {
	f.offerMu.Lock()
	defer f.offerMu.Unlock()
	if f.offer != nil && bytes.Equal(f.offer.sum, sum) {
		f.offer.b.Discard()
		f.offer = nil
	}
}

// takeOffer returns the offered store of dump sum, if there is one, and
// ends the offer.
func (f *FSM) takeOffer(sum []byte) *restoreOffer {
	f.offerMu.Lock()
	defer f.offerMu.Unlock()
	o := f.offer
	if o == nil || !bytes.Equal(o.sum, sum) {
		return nil
	}
	f.offer = nil
	return o
}

// applyRestore applies a restore entry: it builds the store of the dump
// the entry names (or adopts the leader's), lifts the index offset above
// the dump's indexes, and swaps the store in. Readers go on with the old
// store while the new one is built, since only the swap takes the lock.
//
// It cannot fail and go on: a server that did not switch would fork from
// the others. It retries a dump that does not decode (damaged, or cut
// short) by fetching it again, and stops only when the server does; the
// state is then behind the log (behind), and the next start applies the
// entry again.
func (f *FSM) applyRestore(l *raft.Log) interface{} {
	var req structs.RestoreRequest
	if err := structs.Decode(l.Data[1:], &req); err != nil {
		// Every server decodes the same bytes: all of them refuse alike.
		return fmt.Errorf("fsm: restore: decode: %w", err)
	}
	s, h, err := f.restoredStore(&req)
	if err != nil {
		f.behind.Store(true)
		f.logger.Error("restore: not applied: the server is stopping; the next start applies it", "index", l.Index, "sha256", fmt.Sprintf("%x", req.SHA256))
		return err
	}
	f.mu.RLock()
	offset := f.offset
	f.mu.RUnlock()
	// Every write after the switch must carry an index above the
	// restored state's, or blocking queries and CAS would see indexes
	// run backwards.
	if l.Index+offset <= h.LastIndex {
		offset = h.LastIndex + 1 - l.Index
	}
	f.mu.Lock()
	f.lastTerm = l.Term
	f.mu.Unlock()
	f.swap(s, l.Index, offset)
	f.staged.Applied(req.SHA256, l.Index)
	f.logger.Info("restore: applied", "id", req.ID, "index", l.Index, "state_index", h.LastIndex, "index_offset", offset,
		"sha256", fmt.Sprintf("%x", req.SHA256))
	return nil
}

// restoredStore is the store of the dump req names: the leader's offer if
// it stands, else decoded from the staged dump, retried until it decodes
// or the server stops.
func (f *FSM) restoredStore(req *structs.RestoreRequest) (*state.Store, structs.SnapshotHeader, error) {
	if o := f.takeOffer(req.SHA256); o != nil {
		s, err := o.b.Store()
		if err == nil {
			return s, o.header, nil
		}
		f.logger.Warn("restore: the upload's store cannot be used; decoding the staged dump", "error", err)
	}
	for {
		rc, err := f.staged.OpenStaged(req.SHA256, req.Size)
		if err != nil {
			return nil, structs.SnapshotHeader{}, err
		}
		// Fetching the dump from a peer may have built its store too.
		if o := f.takeOffer(req.SHA256); o != nil {
			if s, err := o.b.Store(); err == nil {
				rc.Close()
				return s, o.header, nil
			}
		}
		s, h, err := state.Restore(rc)
		rc.Close()
		if err == nil {
			return s, h, nil
		}
		f.logger.Error("restore: the staged dump does not decode; fetching it again", "sha256", fmt.Sprintf("%x", req.SHA256), "error", err)
		f.staged.DropStaged(req.SHA256)
		time.Sleep(restoreRetry)
	}
}
