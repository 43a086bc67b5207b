package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
)

// StateEncoder writes a state dump: the msgpack header, then records, each
// a type byte followed by the msgpack record. Each record reaches w in one
// Write call. A StateEncoder is not safe for concurrent use.
type StateEncoder struct {
	w   io.Writer
	enc *codec.Encoder
	// buf holds the record being written: the type byte at buf[0], then
	// the msgpack, so that one Write carries both. body is the encoder's
	// view of buf[1:], kept here so that it does not escape per call.
	buf  []byte
	body []byte
}

// NewStateEncoder writes the header to w and returns an encoder for the
// records that follow.
func NewStateEncoder(w io.Writer, h structs.SnapshotHeader) (*StateEncoder, error) {
	e := &StateEncoder{w: w, buf: make([]byte, 1, 4096)}
	e.body = e.buf[:0]
	e.enc = codec.NewEncoderBytes(&e.body, structs.MsgpackHandle)
	if err := e.enc.Encode(&h); err != nil {
		return nil, fmt.Errorf("snapshot: encode header: %w", err)
	}
	if _, err := w.Write(e.body); err != nil {
		return nil, err
	}
	return e, nil
}

// Record writes one record. An error from the underlying writer is
// returned as it is.
func (e *StateEncoder) Record(t structs.MessageType, rec interface{}) error {
	e.body = e.buf[1:1]
	if ent, ok := rec.(*structs.DirEntry); ok {
		// KV entries are most of a dump; this skips the codec's reflection.
		e.body = ent.AppendMsgpack(e.body)
	} else {
		e.enc.ResetBytes(&e.body)
		if err := e.enc.Encode(rec); err != nil {
			return fmt.Errorf("snapshot: encode %s record: %w", t, err)
		}
	}
	body := e.body
	if cap(body) == cap(e.buf)-1 {
		// Encoded in place, right after the type byte.
		e.buf = e.buf[:1+len(body)]
	} else {
		// The encoder outgrew buf; keep the larger buffer for next time.
		nb := make([]byte, 1+len(body), 1+cap(body))
		copy(nb[1:], body)
		e.buf = nb
	}
	e.buf[0] = byte(t)
	_, err := e.w.Write(e.buf)
	return err
}

// sizer measures encodings; sizers are pooled so that RecordSize, called
// on every state-store write, allocates nothing once warm.
type sizer struct {
	enc *codec.Encoder
	buf []byte
}

// maxPooledSizerBuf keeps a sizer that measured a huge record from
// holding on to its buffer.
const maxPooledSizerBuf = 1 << 20

var sizerPool = sync.Pool{New: func() interface{} {
	s := &sizer{buf: make([]byte, 0, 4096)}
	s.enc = codec.NewEncoderBytes(&s.buf, structs.MsgpackHandle)
	return s
}}

// encodedSize is the length of v's msgpack encoding.
func encodedSize(v interface{}) (int64, error) {
	if ent, ok := v.(*structs.DirEntry); ok {
		return int64(ent.MsgpackSize()), nil
	}
	s := sizerPool.Get().(*sizer)
	s.buf = s.buf[:0]
	s.enc.ResetBytes(&s.buf)
	err := s.enc.Encode(v)
	n := int64(len(s.buf))
	if cap(s.buf) <= maxPooledSizerBuf {
		sizerPool.Put(s)
	}
	return n, err
}

// RecordSize is the number of bytes Record writes for rec: the state store
// keeps a running total so that meta.json, which precedes state.bin, can
// carry the dump's size without a second pass.
func RecordSize(t structs.MessageType, rec interface{}) (int64, error) {
	n, err := encodedSize(rec)
	if err != nil {
		return 0, fmt.Errorf("snapshot: encode %s record: %w", t, err)
	}
	return 1 + n, nil
}

// HeaderSize is the number of bytes NewStateEncoder writes for h.
func HeaderSize(h structs.SnapshotHeader) (int64, error) {
	n, err := encodedSize(&h)
	if err != nil {
		return 0, fmt.Errorf("snapshot: encode header: %w", err)
	}
	return n, nil
}

// ReadState decodes a whole state dump, calling fn (if not nil) with each
// record, decoded into the value structs.NewSnapshotRecord gives for its
// type. A KV entry's Value (in a *structs.DirEntry) may point into the
// reader's buffer: it is valid only until fn returns, and fn must copy it
// to keep it. An unknown type, a record that does not decode, or trailing bytes
// fail with an error wrapping ErrCorrupt; a record over 64 MiB fails with
// ErrTooLarge. An error from fn stops the read and is returned as it is;
// so is a read error from r other than an end of input.
//
// ReadState reads r to its end, buffering it itself unless r is a
// *bufio.Reader. It never panics and holds at most one record in memory.
func ReadState(r io.Reader, fn func(t structs.MessageType, rec interface{}) error) (structs.SnapshotHeader, error) {
	if fn == nil {
		return readState(r, nil, decodeReused)
	}
	return readState(r, func(t structs.MessageType, rec interface{}, _ int64) error {
		return fn(t, rec)
	}, decodeEach)
}

// validator is a record that can say whether the state store would take
// it; a dump is checked with it before a restore, because Raft stops the
// server if a restore fails halfway.
type validator interface {
	Validate() error
}

// recordFunc receives each record and its size in the dump, type byte
// included.
type recordFunc func(t structs.MessageType, rec interface{}, size int64) error

// readMode says how much readState does with each record.
type readMode int

const (
	// decodeEach decodes every record into a fresh value.
	decodeEach readMode = iota
	// decodeReused decodes every record of a type into one value, for
	// callers that keep none of them.
	decodeReused
	// scanOnly finds where each record ends and checks its type, without
	// decoding it: fn gets a nil record. It is what counting needs.
	scanOnly
)

// readState is ReadState with record sizes, in one of the read modes.
func readState(r io.Reader, fn recordFunc, mode readMode) (structs.SnapshotHeader, error) {
	var hdr structs.SnapshotHeader
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	s := &valueScanner{br: br}

	raw, err := s.next()
	if err != nil {
		if errors.Is(err, errTruncated) && s.off == 0 {
			return hdr, corruptf("%s: empty state dump, no header", StateName)
		}
		return hdr, scanError(err, "header")
	}
	dec := codec.NewDecoderBytes(raw, structs.MsgpackHandle)
	if err := decodeValue(dec, raw, &hdr); err != nil {
		return hdr, corruptCause(err, "%s: header does not decode", StateName)
	}
	s.consume()

	var reused map[structs.MessageType]interface{}
	if mode != decodeEach {
		reused = make(map[structs.MessageType]interface{})
	}
	for n := 1; ; n++ {
		start := s.off
		b, err := s.readByte()
		if err == io.EOF {
			return hdr, nil
		}
		if err != nil {
			return hdr, readError(err)
		}
		t := structs.MessageType(b)
		rec, ok := reused[t]
		if !ok {
			rec, ok = structs.NewSnapshotRecord(t)
			if !ok {
				return hdr, corruptf("%s: unknown record type %d (record %d at offset %d)", StateName, b, n, start)
			}
			if reused != nil {
				reused[t] = rec
			}
		}
		raw, err := s.next()
		if err != nil {
			return hdr, scanError(err, recordName(n, t, start))
		}
		if mode == scanOnly {
			size := 1 + int64(len(raw))
			s.consume()
			if fn != nil {
				if err := fn(t, nil, size); err != nil {
					return hdr, err
				}
			}
			continue
		}
		if reused != nil {
			// A field the record lacks must not keep the previous record's
			// value: validation has to see what a restore will see.
			v := reflect.ValueOf(rec).Elem()
			v.Set(reflect.Zero(v.Type()))
		}
		// Decoded values own their bytes (the decoder copies strings and
		// byte slices out of raw), except a KV entry's Value, which views
		// raw: raw stays as it is until the next read, after fn.
		if err := decodeRecord(dec, raw, rec); err != nil {
			return hdr, corruptCause(err, "%s: %s does not decode", StateName, recordName(n, t, start))
		}
		if v, ok := rec.(validator); ok {
			if err := v.Validate(); err != nil {
				return hdr, corruptf("%s: %s: %v", StateName, recordName(n, t, start), err)
			}
		}
		size := 1 + int64(len(raw))
		s.consume()
		if fn != nil {
			if err := fn(t, rec, size); err != nil {
				return hdr, err
			}
		}
	}
}

// decodeRecord decodes a record: a KV entry as written by the encoder
// without the codec's reflection, and with its Value viewing buf, since
// most values are kept by no one, or are shared with the store a restore
// replaces; anything else with decodeValue.
func decodeRecord(dec *codec.Decoder, buf []byte, rec interface{}) error {
	ent, ok := rec.(*structs.DirEntry)
	if !ok {
		return decodeValue(dec, buf, rec)
	}
	if ent.DecodeMsgpackCanonicalView(buf) {
		return nil
	}
	// The fast path may have written some fields; the codec leaves the
	// fields a record lacks as they are.
	*ent = structs.DirEntry{}
	return decodeValue(dec, buf, ent)
}

// decodeValue decodes exactly the msgpack value in buf into v. The value
// must be a map: every record and the header are structs, which the
// shared handle encodes as maps.
func decodeValue(dec *codec.Decoder, buf []byte, v interface{}) (err error) {
	if b := buf[0]; !(b >= 0x80 && b <= 0x8f || b == 0xde || b == 0xdf) {
		return fmt.Errorf("not a msgpack map (first byte 0x%02x)", b)
	}
	defer func() {
		// The decoder recovers its own panics; this is for any it misses,
		// since a restore must fail cleanly on any input.
		if p := recover(); p != nil {
			err = fmt.Errorf("msgpack decoder panicked: %v", p)
		}
	}()
	dec.ResetBytes(buf)
	if err := dec.Decode(v); err != nil {
		return err
	}
	if n := dec.NumBytesRead(); n != len(buf) {
		return fmt.Errorf("decoder read %d of the value's %d bytes", n, len(buf))
	}
	return nil
}

// recordName names a record in an error message.
func recordName(n int, t structs.MessageType, start int64) string {
	return fmt.Sprintf("record %d (%s) at offset %d", n, t, start)
}

// scanError describes a failure to cut a value out of the dump.
func scanError(err error, what string) error {
	switch {
	case errors.Is(err, errTruncated):
		return corruptf("%s: %s is truncated", StateName, what)
	case errors.Is(err, errRecordTooLarge):
		return tooLargef("%s: %s is larger than 64 MiB", StateName, what)
	case errors.Is(err, errBadByte):
		return corruptCause(err, "%s: %s", StateName, what)
	}
	return readError(err)
}

// readError passes on an error from the underlying reader: unchanged if
// it already says what is wrong, otherwise wrapped with where it happened.
func readError(err error) error {
	if isFormatError(err) {
		return err
	}
	return fmt.Errorf("snapshot: %s: read: %w", StateName, err)
}
