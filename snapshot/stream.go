package snapshot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/raft"
)

// OpenStream reads an archive from r in one pass, as it arrives, for a
// restore that must not stage the upload: it reads meta.json at once and
// returns it with a reader of state.bin. That reader checks everything
// Read checks, on the way: entry names and order, sizes, CRCs, that every
// record decodes (each one is passed to fn, if not nil, decoded into a
// fresh value, except a KV entry's Value, valid only until fn returns, as
// with ReadState), then SHA256SUMS, the central directory and the end of
// the archive. It returns io.EOF only once all of that holds; any failure
// is an error wrapping ErrCorrupt or ErrTooLarge, returned before the
// last byte of state.bin is handed out, so that a consumer that stops at
// the first error never sees a complete state from a bad archive. An
// error from fn stops the read and is returned as it is.
//
// The entries must come in the order Write writes them: meta.json,
// state.bin, SHA256SUMS. meta.json and SHA256SUMS must be deflated or
// have their sizes in their local headers; state.bin's size is meta.json's
// Size, so that what state.bin may expand to is known before its first
// byte: WithStateLimit bounds it. The caller must Close the reader; fn
// runs on another goroutine.
func OpenStream(r io.Reader, fn func(t structs.MessageType, rec interface{}) error, opts ...StreamOption) (*raft.SnapshotMeta, *StateStream, error) {
	var o streamOptions
	for _, opt := range opts {
		opt(&o)
	}
	s := newZipStream(r)
	magic, err := s.br.Peek(len(zipMagic))
	if err != nil {
		return nil, nil, corruptf("archive is only %d bytes long", len(magic))
	}
	if err := checkMagic(magic); err != nil {
		return nil, nil, err
	}
	metaJSON, err := s.readSmall(MetaName, maxMetaSize)
	if err != nil {
		return nil, nil, err
	}
	meta, err := parseMeta(metaJSON)
	if err != nil {
		return nil, nil, err
	}
	if o.stateLimit > 0 && meta.Size > o.stateLimit {
		return nil, nil, &StateLimitError{Size: meta.Size, Limit: o.stateLimit}
	}
	e, err := s.openEntry(StateName, meta.Size, meta.Size)
	if err != nil {
		return nil, nil, err
	}
	st := &StateStream{
		zs:      s,
		e:       e,
		meta:    meta,
		metaSum: sha256.Sum256(metaJSON),
		sha:     sha256.New(),
		decoded: make(chan decodeResult, 1),
	}
	var pr *io.PipeReader
	pr, st.pw = io.Pipe()
	go st.decode(pr, fn)
	return meta, st, nil
}

// StateStream is state.bin of an archive read by OpenStream.
type StateStream struct {
	zs      *zipStream
	e       *streamEntry
	meta    *raft.SnapshotMeta
	metaSum [sha256.Size]byte
	sha     hash.Hash

	// The records are decoded on another goroutine, fed through pw, so
	// that decoding overlaps reading.
	pw      *io.PipeWriter
	decoded chan decodeResult
	hdr     structs.SnapshotHeader

	err error // sticky: io.EOF once the whole archive checked out
}

type decodeResult struct {
	hdr structs.SnapshotHeader
	err error
}

// errStreamClosed ends the decoder when the reader is closed early.
var errStreamClosed = errors.New("snapshot: stream closed before its end")

func (st *StateStream) decode(pr *io.PipeReader, fn func(t structs.MessageType, rec interface{}) error) {
	var hdr structs.SnapshotHeader
	var err error
	if fn == nil {
		hdr, err = readState(pr, nil, decodeReused)
	} else {
		hdr, err = readState(pr, func(t structs.MessageType, rec interface{}, _ int64) error { return fn(t, rec) }, decodeEach)
	}
	if err == nil {
		err = io.EOF
	}
	// Fails the writer's next Write, so the reader learns of an early
	// failure at once.
	pr.CloseWithError(err)
	st.decoded <- decodeResult{hdr, err}
}

// Read reads state.bin's bytes. See OpenStream for what it checks.
func (st *StateStream) Read(p []byte) (int, error) {
	if st.err != nil {
		return 0, st.err
	}
	n, err := st.e.Read(p)
	st.sha.Write(p[:n])
	if n > 0 {
		if _, werr := st.pw.Write(p[:n]); werr != nil {
			st.err = st.decodeFailure()
			return 0, st.err
		}
	}
	if err == nil && st.e.n == st.meta.Size {
		// These are the last bytes: they go out only with io.EOF, once
		// the rest of the archive checked out.
		err = st.e.expectEnd()
	}
	switch {
	case err == io.EOF && st.e.n != st.meta.Size:
		st.err = corruptf("%s: Size is %d, but %s holds %d bytes", MetaName, st.meta.Size, StateName, st.e.n)
	case err == io.EOF:
		if st.err = st.finish(); st.err == nil {
			st.err = io.EOF
			return n, io.EOF
		}
	case err != nil:
		st.err = err
	default:
		return n, nil
	}
	return 0, st.err
}

// decodeFailure waits for the decoder, which stopped early, and returns
// why.
func (st *StateStream) decodeFailure() error {
	res := <-st.decoded
	st.decoded = nil
	if res.err == io.EOF {
		return corruptf("%s: ends before meta.json's Size", StateName)
	}
	return res.err
}

// finish checks the rest of the archive once state.bin has been read.
func (st *StateStream) finish() error {
	st.pw.Close()
	res := <-st.decoded
	st.decoded = nil
	if res.err != io.EOF {
		return res.err
	}
	st.hdr = res.hdr
	sumsData, err := st.zs.readSmall(SumsName, maxSumsSize)
	if err != nil {
		return err
	}
	sums, err := parseSums(sumsData)
	if err != nil {
		return err
	}
	if !bytes.Equal(st.metaSum[:], sums[MetaName]) {
		return corruptf("%s: sha256 mismatch", MetaName)
	}
	if !bytes.Equal(st.sha.Sum(nil), sums[StateName]) {
		return corruptf("%s: sha256 mismatch", StateName)
	}
	return st.zs.readDirectory()
}

// Header is the state dump's header; it is set once Read returned io.EOF.
func (st *StateStream) Header() structs.SnapshotHeader {
	return st.hdr
}

// Sum is state.bin's SHA-256; it is set once Read returned io.EOF.
func (st *StateStream) Sum() []byte {
	if st.err != io.EOF {
		return nil
	}
	return st.sha.Sum(nil)
}

// Err is why the read failed, nil if it has not (yet).
func (st *StateStream) Err() error {
	if st.err == io.EOF {
		return nil
	}
	return st.err
}

// Close stops the decoder if the read did not reach its end.
func (st *StateStream) Close() error {
	if st.decoded != nil {
		st.pw.CloseWithError(errStreamClosed)
		<-st.decoded
		st.decoded = nil
	}
	if st.err == nil {
		st.err = errStreamClosed
	}
	return nil
}
