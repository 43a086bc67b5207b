package fsm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"sync"

	"github.com/consulcompat/consul/consul/state"
	"github.com/consulcompat/consul/snapshot"
	"github.com/consulcompat/consul/structs"
)

// RestoreUpload lets a user restore hand the FSM the store that b builds
// from the records of st, the state dump of an archive being uploaded, so
// that Raft's Restore takes that store instead of decoding the same dump
// a second time.
//
// The snapshot endpoint calls it from the goroutine serving the upload,
// one restore at a time (the caller serialises them), once st is open.
// RestoreUpload calls restore once, on the same goroutine, with the dump
// to pass to raft.Restore: st's bytes, which end with io.EOF only at a
// clean end of the stream (the whole archive checked out and every record
// is in b). st must be read only through it. raft.Restore copies the dump
// into its snapshot store, has its FSM goroutine call Restore with that
// copy, and returns once Restore did.
//
// While restore runs, that Restore adopts b's store if the stream ended
// cleanly and the copy's SHA-256 is st's; a copy that differs fails
// Restore (and Raft panics, see Restore) and discards b. Any other Restore meanwhile (a snapshot
// installed by a new leader before Raft took up the user restore) finds
// the stream unfinished, decodes its own dump and leaves b alone. Once
// RestoreUpload returns, every Restore decodes its own dump.
//
// It returns restore's error as it is. b and st stay the caller's to
// close and discard afterwards; discarding b after the FSM adopted its
// store does nothing.
func (f *FSM) RestoreUpload(b *state.Builder, st *snapshot.StateStream, restore func(dump io.Reader) error) error {
	u := &upload{b: b, stream: st, done: make(chan struct{})}
	f.setPending(u)
	defer f.setPending(nil)
	return restore(u)
}

// setPending offers u to Restore; nil withdraws the offer.
func (f *FSM) setPending(u *upload) {
	f.pendingMu.Lock()
	defer f.pendingMu.Unlock()
	f.pending = u
}

// upload is a user restore's state dump on its way into Raft and the
// store being built from its records. done is closed once the stream
// ended cleanly.
type upload struct {
	b      *state.Builder
	stream *snapshot.StateStream
	done   chan struct{}
	once   sync.Once
}

// Read passes the stream on to Raft, closing done at its clean end.
func (u *upload) Read(p []byte) (int, error) {
	n, err := u.stream.Read(p)
	if err == io.EOF {
		u.once.Do(func() { close(u.done) })
	}
	return n, err
}

// complete tells whether the stream ended cleanly; safe from any
// goroutine.
func (u *upload) complete() bool {
	select {
	case <-u.done:
		return true
	default:
		return false
	}
}

// restoredStore builds the store of dump r, or takes the pending upload's,
// built from the same bytes as they arrived, which spares decoding the
// dump twice.
func (f *FSM) restoredStore(r io.Reader) (*state.Store, structs.SnapshotHeader, error) {
	f.pendingMu.Lock()
	u := f.pending
	if u != nil && u.complete() {
		f.pending = nil
	} else {
		u = nil
	}
	f.pendingMu.Unlock()
	if u == nil {
		return state.Restore(r)
	}
	// Raft hands back its own copy of the upload: it must be the very
	// bytes the store was built from.
	hdr := u.stream.Header()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		u.b.Discard()
		return nil, hdr, err
	}
	if !bytes.Equal(h.Sum(nil), u.stream.Sum()) {
		u.b.Discard()
		return nil, hdr, errors.New("Raft's copy of the snapshot differs from the upload")
	}
	s, err := u.b.Store()
	return s, hdr, err
}
