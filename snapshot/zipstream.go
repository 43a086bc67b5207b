package snapshot

// This file is a zip reader that parses an archive front to back, as it
// arrives, for OpenStream: local headers, data descriptors, the central
// directory and the end records, zip64 included. It also holds the zip
// constants of the whole package.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
)

// Zip layouts (APPNOTE 4.3.7, 4.3.9, 4.3.12, 4.3.14-16, 4.5.3).
const (
	localHeaderSig      = 0x04034b50
	localHeaderLen      = 30
	dataDescriptorSig   = 0x08074b50
	descriptorLen       = 12 // CRC, compressed and uncompressed size
	descriptorLenZip64  = 20
	descriptorSigLength = 4
	centralHeaderSig    = 0x02014b50
	centralHeaderLen    = 46
	endSig              = 0x06054b50
	endLen              = 22
	end64Sig            = 0x06064b50
	end64Len            = 56
	end64LocatorSig     = 0x07064b50
	end64LocatorLen     = 20
	zip64ExtraID        = 0x0001
	maxLocalHeader      = localHeaderLen + 2*0xffff
	flagEncrypted       = 0x1
	flagDataDescriptor  = 0x8
	uint32max           = 0xffffffff
	uint16max           = 0xffff
	maxDirectoryBytes   = 3*(centralHeaderLen+3*0xffff) + end64Len + end64LocatorLen + endLen + 0xffff
)

// zipMagic is how a zip archive starts: a local header's signature.
var zipMagic = []byte("PK\x03\x04")

// zipStream parses a zip archive front to back from a reader.
type zipStream struct {
	src *capReader
	br  *bufio.Reader
	// done are the entries read so far, for the central directory to
	// repeat.
	done []*streamEntry
}

const streamBuffer = 64 << 10

func newZipStream(r io.Reader) *zipStream {
	src := &capReader{r: r, limit: streamBuffer + maxLocalHeader}
	return &zipStream{src: src, br: bufio.NewReaderSize(src, streamBuffer)}
}

// pos is the archive offset of the next byte to parse.
func (s *zipStream) pos() int64 {
	return s.src.n - int64(s.br.Buffered())
}

// allow lets the parser read n bytes past the current position, plus the
// buffer's read-ahead: past that the source fails. It bounds what a
// crafted entry can make the server read, such as a deflate stream of
// empty blocks that never yields a byte.
func (s *zipStream) allow(n int64) {
	s.src.limit = s.pos() + n + streamBuffer
}

// capReader counts the bytes read and fails past a limit.
type capReader struct {
	r     io.Reader
	n     int64
	limit int64
	// err is the source's last error other than io.EOF, so that a
	// failing upload is told apart from a corrupt archive.
	err error
}

// errPastLimit is what capReader says past its limit; the parser turns it
// into a reason that names the entry.
var errPastLimit = errors.New("past the limit")

func (c *capReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errPastLimit
	}
	if room := c.limit - c.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// streamEntry is one entry being read, then read.
type streamEntry struct {
	s      *zipStream
	name   string
	flags  uint16
	method uint16
	offset int64 // of the local header
	start  int64 // of the data
	// sized says the local header gives CRC and sizes; otherwise a data
	// descriptor follows the data.
	sized        bool
	crc          uint32
	csize, usize uint64

	r     io.Reader // the uncompressed bytes
	fr    io.ReadCloser
	h     hash.Hash32
	n     int64
	limit int64
}

// openEntry reads the next local header, which must be name's, and
// prepares to read its data: at most limit bytes; a stored entry without
// sizes in its header is storedSize bytes long, or cannot be read
// (storedSize < 0).
func (s *zipStream) openEntry(name string, limit, storedSize int64) (*streamEntry, error) {
	e := &streamEntry{s: s, name: name, offset: s.pos(), limit: limit, h: crc32.NewIEEE()}
	s.allow(maxLocalHeader)
	var h [localHeaderLen]byte
	if _, err := io.ReadFull(s.br, h[:]); err != nil {
		return nil, s.readErr(err, "local header of "+name)
	}
	if binary.LittleEndian.Uint32(h[0:]) != localHeaderSig {
		return nil, corruptf("no local header at offset %d, where %s should start (entries must come in the order %s, %s, %s)", e.offset, name, MetaName, StateName, SumsName)
	}
	e.flags = binary.LittleEndian.Uint16(h[6:])
	e.method = binary.LittleEndian.Uint16(h[8:])
	e.crc = binary.LittleEndian.Uint32(h[14:])
	e.csize = uint64(binary.LittleEndian.Uint32(h[18:]))
	e.usize = uint64(binary.LittleEndian.Uint32(h[22:]))
	nameAndExtra := make([]byte, int(binary.LittleEndian.Uint16(h[26:]))+int(binary.LittleEndian.Uint16(h[28:])))
	if _, err := io.ReadFull(s.br, nameAndExtra); err != nil {
		return nil, s.readErr(err, "local header of "+name)
	}
	got := nameAndExtra[:binary.LittleEndian.Uint16(h[26:])]
	if string(got) != name {
		return nil, corruptf("entry %q at offset %d, where %s should be (entries must come in the order %s, %s, %s)", got, e.offset, name, MetaName, StateName, SumsName)
	}
	if e.flags&flagEncrypted != 0 {
		return nil, corruptf("%s: encrypted", name)
	}
	e.sized = e.flags&flagDataDescriptor == 0
	if e.sized {
		if err := readZip64Sizes(nameAndExtra[len(got):], &e.usize, &e.csize, nil); err != nil {
			return nil, corruptCause(err, "%s: local header", name)
		}
		if e.usize > uint64(limit) {
			if name == StateName {
				return nil, corruptf("%s: Size is %d, but the zip says %s is %d bytes", MetaName, limit, StateName, e.usize)
			}
			return nil, tooLargef("%s: declares %d bytes, more than the %d allowed", name, e.usize, limit)
		}
	}
	e.start = s.pos()
	switch e.method {
	case zip.Store:
		size := storedSize
		if e.sized {
			if e.csize != e.usize {
				return nil, corruptf("%s: stored, but its local header gives %d bytes of data for %d bytes", name, e.csize, e.usize)
			}
			size = int64(e.usize)
		}
		if size < 0 {
			return nil, corruptf("%s: stored without its size in the local header; a streamed restore cannot find its end", name)
		}
		s.allow(size)
		e.r = io.LimitReader(s.br, size)
	case zip.Deflate:
		s.allow(limit + limit/64 + 1<<20)
		// Given the *bufio.Reader, the inflater reads exactly to the end
		// of the deflate stream and no further.
		e.fr = flate.NewReader(s.br)
		e.r = e.fr
	default:
		return nil, corruptf("%s: unsupported compression method %d", name, e.method)
	}
	return e, nil
}

// readErr describes a failure to read the archive itself.
func (s *zipStream) readErr(err error, what string) error {
	switch {
	case errors.Is(err, errPastLimit):
		return corruptf("%s: runs on past where it must end", what)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return corruptf("archive is truncated in %s", what)
	case isFormatError(err):
		return err
	case s.src.err != nil && errors.Is(err, s.src.err):
		return fmt.Errorf("snapshot: reading the archive: %w", err)
	}
	// Anything else comes from the inflater.
	return corruptCause(err, "%s", what)
}

// Read reads the entry's uncompressed bytes; io.EOF comes only once its
// sizes and CRC are checked.
func (e *streamEntry) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.h.Write(p[:n])
	e.n += int64(n)
	if e.n > e.limit {
		if e.name == StateName {
			return 0, corruptf("%s: longer than meta.json's Size (%d bytes)", e.name, e.limit)
		}
		return 0, tooLargef("%s: more than the %d bytes allowed", e.name, e.limit)
	}
	switch {
	case err == io.EOF:
		err = e.close()
		if err == nil {
			err = io.EOF
		}
	case err != nil:
		err = e.s.readErr(err, e.name)
	}
	return n, err
}

// expectEnd reads on where the entry should end: it must end there.
func (e *streamEntry) expectEnd() error {
	var b [1]byte
	for {
		if _, err := e.Read(b[:]); err != nil {
			return err
		}
	}
}

// close checks the entry's sizes and CRC against its local header or its
// data descriptor, which it reads.
func (e *streamEntry) close() error {
	if e.fr != nil {
		e.fr.Close()
	}
	s := e.s
	csize, usize, sum := uint64(s.pos()-e.start), uint64(e.n), e.h.Sum32()
	if !e.sized {
		if err := e.readDescriptor(csize, usize); err != nil {
			return err
		}
	}
	switch {
	case e.csize != csize:
		return corruptf("%s: %d bytes of data, the zip says %d", e.name, csize, e.csize)
	case e.usize != usize:
		return corruptf("%s: %d bytes, the zip says %d", e.name, usize, e.usize)
	case e.crc != sum:
		return corruptf("%s: checksum error", e.name)
	}
	s.done = append(s.done, e)
	return nil
}

// readDescriptor reads the data descriptor after an entry: its signature
// is optional, its sizes 8 bytes each when either size needs it.
func (e *streamEntry) readDescriptor(csize, usize uint64) error {
	s := e.s
	s.allow(descriptorLenZip64 + descriptorSigLength)
	b, err := s.br.Peek(4)
	if err != nil {
		return s.readErr(err, e.name+"'s data descriptor")
	}
	if binary.LittleEndian.Uint32(b) == dataDescriptorSig {
		s.br.Discard(4)
	}
	n := descriptorLen
	if csize >= uint32max || usize >= uint32max {
		n = descriptorLenZip64
	}
	d := make([]byte, n)
	if _, err := io.ReadFull(s.br, d); err != nil {
		return s.readErr(err, e.name+"'s data descriptor")
	}
	e.crc = binary.LittleEndian.Uint32(d)
	if n == descriptorLen {
		e.csize, e.usize = uint64(binary.LittleEndian.Uint32(d[4:])), uint64(binary.LittleEndian.Uint32(d[8:]))
	} else {
		e.csize, e.usize = binary.LittleEndian.Uint64(d[4:]), binary.LittleEndian.Uint64(d[12:])
	}
	return nil
}

// readSmall reads a whole small entry.
func (s *zipStream) readSmall(name string, limit int64) ([]byte, error) {
	e, err := s.openEntry(name, limit, -1)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(e)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// readDirectory reads the central directory and the end of the archive
// and checks that they repeat what the local headers said, entry by
// entry, and that nothing follows.
func (s *zipStream) readDirectory() error {
	s.allow(maxDirectoryBytes)
	dirAt := s.pos()
	for _, e := range s.done {
		if err := s.readCentralHeader(e); err != nil {
			return err
		}
	}
	dirSize := s.pos() - dirAt
	if err := s.readEnd(uint64(dirAt), uint64(dirSize)); err != nil {
		return err
	}
	if _, err := s.br.ReadByte(); err != io.EOF {
		if err != nil {
			return s.readErr(err, "the end of the archive")
		}
		return corruptf("data after the end of the archive")
	}
	return nil
}

// readCentralHeader reads e's central directory entry.
func (s *zipStream) readCentralHeader(e *streamEntry) error {
	what := "the central directory entry of " + e.name
	var h [centralHeaderLen]byte
	if _, err := io.ReadFull(s.br, h[:]); err != nil {
		return s.readErr(err, what)
	}
	if binary.LittleEndian.Uint32(h[0:]) != centralHeaderSig {
		return corruptf("%s is missing", what)
	}
	nameLen := int(binary.LittleEndian.Uint16(h[28:]))
	extraLen := int(binary.LittleEndian.Uint16(h[30:]))
	commentLen := int(binary.LittleEndian.Uint16(h[32:]))
	rest := make([]byte, nameLen+extraLen+commentLen)
	if _, err := io.ReadFull(s.br, rest); err != nil {
		return s.readErr(err, what)
	}
	fh := zip.FileHeader{
		Name:           string(rest[:nameLen]),
		CreatorVersion: binary.LittleEndian.Uint16(h[4:]),
		ExternalAttrs:  binary.LittleEndian.Uint32(h[38:]),
	}
	flags := binary.LittleEndian.Uint16(h[8:])
	method := binary.LittleEndian.Uint16(h[10:])
	crc := binary.LittleEndian.Uint32(h[16:])
	csize := uint64(binary.LittleEndian.Uint32(h[20:]))
	usize := uint64(binary.LittleEndian.Uint32(h[24:]))
	offset := uint64(binary.LittleEndian.Uint32(h[42:]))
	if err := readZip64Sizes(rest[nameLen:nameLen+extraLen], &usize, &csize, &offset); err != nil {
		return corruptCause(err, "%s", what)
	}
	switch {
	case fh.Name != e.name:
		return corruptf("the central directory names %q where the archive has %s", fh.Name, e.name)
	case fh.Mode().IsDir():
		return corruptf("entry %q is a directory", fh.Name)
	case method != e.method:
		return corruptf("local header of %q says method %d, the central directory %d", e.name, e.method, method)
	case flags&(flagEncrypted|flagDataDescriptor) != e.flags&(flagEncrypted|flagDataDescriptor):
		// Readers that go by the central directory would look for a data
		// descriptor where there is none, or miss one.
		return corruptf("local header of %q says flags %#x, the central directory %#x", e.name, e.flags, flags)
	case crc != e.crc || csize != e.csize || usize != e.usize:
		return corruptf("%s disagrees with the entry's CRC or sizes", what)
	case offset != uint64(e.offset):
		return corruptf("%s says it starts at offset %d, but it is at %d", what, offset, e.offset)
	}
	return nil
}

// readEnd reads the end of central directory record, and the zip64 one
// and its locator before it if present.
func (s *zipStream) readEnd(dirAt, dirSize uint64) error {
	b, err := s.br.Peek(4)
	if err != nil {
		return s.readErr(err, "the end of the central directory")
	}
	entries := uint64(len(s.done))
	zip64 := binary.LittleEndian.Uint32(b) == end64Sig
	if zip64 {
		end64At := uint64(s.pos())
		var z [end64Len + end64LocatorLen]byte
		if _, err := io.ReadFull(s.br, z[:]); err != nil {
			return s.readErr(err, "the zip64 end of the central directory")
		}
		loc := z[end64Len:]
		switch {
		case binary.LittleEndian.Uint64(z[4:]) != end64Len-12:
			return corruptf("the zip64 end of the central directory has an unexpected size")
		case binary.LittleEndian.Uint32(z[16:]) != 0 || binary.LittleEndian.Uint32(z[20:]) != 0 ||
			binary.LittleEndian.Uint32(loc[4:]) != 0 || binary.LittleEndian.Uint32(loc[16:]) != 1:
			return corruptf("the archive spans several disks")
		case binary.LittleEndian.Uint64(z[24:]) != entries || binary.LittleEndian.Uint64(z[32:]) != entries ||
			binary.LittleEndian.Uint64(z[40:]) != dirSize || binary.LittleEndian.Uint64(z[48:]) != dirAt:
			return corruptf("the zip64 end of the central directory disagrees with the archive")
		case binary.LittleEndian.Uint32(loc) != end64LocatorSig || binary.LittleEndian.Uint64(loc[8:]) != end64At:
			return corruptf("the zip64 end of the central directory has no valid locator")
		}
		// The record below then holds saturated values, as Go's writer
		// puts them: readers take the zip64 record only when they see
		// those.
		entries, dirSize, dirAt = uint16max, uint32max, uint32max
	}
	var e [endLen]byte
	if _, err := io.ReadFull(s.br, e[:]); err != nil {
		return s.readErr(err, "the end of the central directory")
	}
	fieldsAgree := uint64(binary.LittleEndian.Uint16(e[8:])) == entries && uint64(binary.LittleEndian.Uint16(e[10:])) == entries &&
		uint64(binary.LittleEndian.Uint32(e[12:])) == dirSize && uint64(binary.LittleEndian.Uint32(e[16:])) == dirAt
	switch {
	case binary.LittleEndian.Uint32(e[0:]) != endSig:
		return corruptf("no end of central directory record after the central directory")
	case binary.LittleEndian.Uint16(e[4:]) != 0 || binary.LittleEndian.Uint16(e[6:]) != 0:
		return corruptf("the archive spans several disks")
	case !fieldsAgree && zip64:
		return corruptf("the end of the central directory record of a zip64 archive must hold saturated counts, size and offset")
	case !fieldsAgree:
		return corruptf("the end of the central directory disagrees with the central directory (%d entries at offset %d, %d bytes)", entries, dirAt, dirSize)
	}
	comment := make([]byte, binary.LittleEndian.Uint16(e[20:]))
	if _, err := io.ReadFull(s.br, comment); err != nil {
		return s.readErr(err, "the archive comment")
	}
	// Readers find the end record by searching backwards from the end of
	// the file: one inside the comment would be taken for the real one.
	if bytes.Contains(comment, []byte("PK\x05\x06")) {
		return corruptf("the archive comment holds an end of central directory record")
	}
	return nil
}

// readZip64Sizes replaces the sizes (and offset, if not nil) that a
// header saturated at 0xffffffff with their values from the zip64 extra
// field, which lists them in that order.
func readZip64Sizes(extra []byte, usize, csize, offset *uint64) error {
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return errors.New("extra field runs past the header")
		}
		field := extra[:n]
		extra = extra[n:]
		if id != zip64ExtraID {
			continue
		}
		for _, v := range []*uint64{usize, csize, offset} {
			if v == nil || *v != uint32max {
				continue
			}
			if len(field) < 8 {
				return errors.New("zip64 extra field is too short")
			}
			*v, field = binary.LittleEndian.Uint64(field), field[8:]
		}
	}
	return nil
}
