package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// maxRecordSize bounds one msgpack value of a state dump (the header or a
// record). A KV value is at most structs.MaxKVSize (512 KiB), so honest
// records are far smaller; the bound keeps a dump from making the reader
// hold an arbitrarily large record in memory.
const maxRecordSize = 64 << 20

// scanChunk is how much the scanner reads at a time for a long string or
// binary value, so that memory grows with the bytes that actually arrive,
// not with the length the value declares.
const scanChunk = 1 << 20

var (
	// errTruncated reports a value cut off by the end of the input.
	errTruncated = errors.New("truncated")
	// errRecordTooLarge reports a value over maxRecordSize.
	errRecordTooLarge = errors.New("larger than 64 MiB")
	// errBadByte reports the one byte msgpack never uses (0xc1).
	errBadByte = errors.New("invalid msgpack byte 0xc1")
	// errShort reports a value that goes on past the bytes at hand.
	errShort = errors.New("value continues past the buffer")
)

// tagSpec says how a msgpack value goes on after its first byte: lenSize
// bytes of big-endian length (or, for the fix* forms, the length inline),
// then fixed bytes, then either length bytes of payload (elems 0) or
// length times elems nested values.
type tagSpec struct {
	lenSize uint8
	inline  uint8
	fixed   uint8
	elems   uint8
	bad     bool
}

// tags describes every first byte of a msgpack value.
var tags = func() (t [256]tagSpec) {
	for b := 0; b < 256; b++ {
		s := &t[b]
		switch {
		case b <= 0x7f, b >= 0xe0: // positive and negative fixint
		case b <= 0x8f: // fixmap
			s.inline, s.elems = uint8(b&0x0f), 2
		case b <= 0x9f: // fixarray
			s.inline, s.elems = uint8(b&0x0f), 1
		case b <= 0xbf: // fixstr
			s.inline = uint8(b & 0x1f)
		}
	}
	t[0xc1].bad = true
	for b, n := range map[byte]uint8{
		0xcc: 1, 0xd0: 1, // uint8, int8
		0xcd: 2, 0xd1: 2, // uint16, int16
		0xca: 4, 0xce: 4, 0xd2: 4, // float32, uint32, int32
		0xcb: 8, 0xcf: 8, 0xd3: 8, // float64, uint64, int64
		0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17, // fixext 1..16, type byte included
	} {
		t[b].fixed = n
	}
	for b, n := range map[byte]uint8{
		0xc4: 1, 0xc5: 2, 0xc6: 4, // bin 8, 16, 32
		0xd9: 1, 0xda: 2, 0xdb: 4, // str 8, 16, 32
	} {
		t[b].lenSize = n
	}
	for b, n := range map[byte]uint8{0xc7: 1, 0xc8: 2, 0xc9: 4} { // ext 8, 16, 32
		t[b].lenSize, t[b].fixed = n, 1
	}
	t[0xdc].lenSize, t[0xdc].elems = 2, 1 // array16
	t[0xdd].lenSize, t[0xdd].elems = 4, 1 // array32
	t[0xde].lenSize, t[0xde].elems = 2, 2 // map16
	t[0xdf].lenSize, t[0xdf].elems = 4, 2 // map32
	return t
}()

// bigEndian reads a length of 1, 2 or 4 bytes.
func bigEndian(p []byte) uint64 {
	switch len(p) {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	default:
		return uint64(binary.BigEndian.Uint32(p))
	}
}

// scanBytes returns the length of the msgpack value at the start of p,
// following only the framing (type bytes and lengths), or errShort if the
// value goes on past the end of p.
func scanBytes(p []byte) (int, error) {
	// pending counts the values still to be read: containers add their
	// elements instead of recursing, so nesting depth costs nothing here.
	pending := uint64(1)
	i := uint64(0)
	end := uint64(len(p))
	for pending > 0 {
		pending--
		if i >= end {
			return 0, errShort
		}
		s := tags[p[i]]
		i++
		if s.bad {
			return 0, errBadByte
		}
		n := uint64(s.inline)
		if s.lenSize > 0 {
			if i+uint64(s.lenSize) > end {
				return 0, errShort
			}
			n = bigEndian(p[i : i+uint64(s.lenSize)])
			i += uint64(s.lenSize)
		}
		i += uint64(s.fixed)
		if s.elems == 0 {
			i += n
		} else {
			pending += n * uint64(s.elems)
		}
		// Every pending value needs at least one more byte.
		if i+pending > maxRecordSize {
			return 0, errRecordTooLarge
		}
	}
	if i > end {
		return 0, errShort
	}
	return int(i), nil
}

// valueScanner cuts one msgpack value at a time out of a buffered stream.
// It follows only the framing, so it knows where a value ends without
// decoding it; the decoder then works on exactly those bytes and can
// neither read ahead into the next record nor allocate on the strength of
// a declared length that the input does not back.
type valueScanner struct {
	br *bufio.Reader
	// buf holds a value too long for br's buffer.
	buf []byte
	// peeked is the length of a value handed out from br's buffer and
	// not yet consumed.
	peeked int
	off    int64 // bytes consumed from br so far
}

// readByte reads the next byte, counting it.
func (s *valueScanner) readByte() (byte, error) {
	b, err := s.br.ReadByte()
	if err != nil {
		return 0, err
	}
	s.off++
	return b, nil
}

// next returns the next msgpack value, valid until consume is called
// (which must be called before reading on). A value cut short by the end
// of the input fails with errTruncated; a read error other than EOF is
// returned as it is.
func (s *valueScanner) next() ([]byte, error) {
	// Most values lie whole in br's buffer: frame them there, and hand
	// them out without copying.
	p, _ := s.br.Peek(s.br.Buffered())
	n, err := scanBytes(p)
	if err == errShort && len(p) < s.br.Size() {
		// Errors are for the slow path below to report.
		p, _ = s.br.Peek(s.br.Size())
		n, err = scanBytes(p)
	}
	switch err {
	case nil:
		s.peeked = n
		return p[:n], nil
	case errShort:
		return s.scanStream()
	}
	return nil, err
}

// consume moves past the value next returned.
func (s *valueScanner) consume() {
	if s.peeked > 0 {
		n, _ := s.br.Discard(s.peeked)
		s.off += int64(n)
		s.peeked = 0
	}
}

// scanStream reads a whole msgpack value into s.buf.
func (s *valueScanner) scanStream() ([]byte, error) {
	s.buf = s.buf[:0]
	pending := uint64(1)
	for pending > 0 {
		pending--
		b, err := s.readByte()
		if err != nil {
			return nil, eofIsTruncation(err)
		}
		s.buf = append(s.buf, b)
		t := tags[b]
		if t.bad {
			return nil, errBadByte
		}
		n := uint64(t.inline)
		if t.lenSize > 0 {
			if err := s.take(uint64(t.lenSize)); err != nil {
				return nil, err
			}
			n = bigEndian(s.buf[len(s.buf)-int(t.lenSize):])
		}
		if t.elems == 0 {
			err = s.take(uint64(t.fixed) + n)
		} else {
			pending += n * uint64(t.elems)
			err = s.take(uint64(t.fixed))
		}
		if err != nil {
			return nil, err
		}
		if uint64(len(s.buf))+pending > maxRecordSize {
			return nil, errRecordTooLarge
		}
	}
	return s.buf, nil
}

// take appends the next n bytes of the input to s.buf.
func (s *valueScanner) take(n uint64) error {
	if uint64(len(s.buf))+n > maxRecordSize {
		return errRecordTooLarge
	}
	for n > 0 {
		c := min(n, scanChunk)
		start := len(s.buf)
		s.buf = grow(s.buf, int(c))
		got, err := io.ReadFull(s.br, s.buf[start:])
		s.off += int64(got)
		if err != nil {
			s.buf = s.buf[:start+got]
			return eofIsTruncation(err)
		}
		n -= c
	}
	return nil
}

// grow extends b by n bytes, reallocating only when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// eofIsTruncation turns an end of input inside a value into errTruncated.
func eofIsTruncation(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}
