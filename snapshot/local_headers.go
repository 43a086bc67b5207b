package snapshot

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
)

// checkLocalHeaders walks the local file headers from the start of the
// archive, in order, and checks that each one agrees with its central
// directory entry: same name, same method, data where the central
// directory says. archive/zip reads an entry's data through the central
// directory and never compares the names, so an archive whose local
// headers say something else would unpack differently with other tools;
// ours are written in one pass, headers and data back to back, so any
// such disagreement is damage or forgery.
func checkLocalHeaders(r io.ReaderAt, size int64, files []*zip.File) error {
	var pos int64
	for _, f := range files {
		var h [localHeaderLen]byte
		if _, err := r.ReadAt(h[:], pos); err != nil {
			return corruptf("local header of %q at offset %d: cannot be read", f.Name, pos)
		}
		if binary.LittleEndian.Uint32(h[0:]) != localHeaderSig {
			return corruptf("no local header for %q at offset %d", f.Name, pos)
		}
		method := binary.LittleEndian.Uint16(h[8:])
		nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
		name := make([]byte, nameLen)
		if _, err := r.ReadAt(name, pos+localHeaderLen); err != nil {
			return corruptf("local header of %q at offset %d: cannot be read", f.Name, pos)
		}
		if !bytes.Equal(name, []byte(f.Name)) {
			return corruptf("local header at offset %d names %q, the central directory %q", pos, name, f.Name)
		}
		if method != f.Method {
			return corruptf("local header of %q says method %d, the central directory %d", f.Name, method, f.Method)
		}
		dataAt, err := f.DataOffset()
		if err != nil || dataAt != pos+localHeaderLen+nameLen+extraLen {
			return corruptf("the data of %q is not where its local header ends", f.Name)
		}
		pos = dataAt + int64(f.CompressedSize64)
		if f.Flags&flagDataDescriptor != 0 {
			pos += descriptorAt(r, pos, f)
		}
		if pos > size {
			return corruptf("entry %q runs past the end of the archive", f.Name)
		}
	}
	return nil
}

// descriptorAt is the length of the data descriptor at pos: with or
// without its optional signature, 32- or 64-bit sizes.
func descriptorAt(r io.ReaderAt, pos int64, f *zip.File) int64 {
	n := int64(descriptorLen)
	if f.CompressedSize64 >= 0xffffffff || f.UncompressedSize64 >= 0xffffffff {
		n = descriptorLenZip64
	}
	var sig [4]byte
	if _, err := r.ReadAt(sig[:], pos); err == nil && binary.LittleEndian.Uint32(sig[:]) == dataDescriptorSig {
		n += descriptorSigLength
	}
	return n
}
