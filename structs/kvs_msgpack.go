package structs

// A reflection-free msgpack form of DirEntry, for state dumps, which spend
// most of their time on KV entries. It must stay byte for byte what
// MsgpackHandle writes; kvs_msgpack_test.go checks it against the codec.
//
// What MsgpackHandle writes for a DirEntry: a map whose keys are the field
// names sorted (RaftIndex's fields inlined), Session left out when empty
// (the codec honours the json omitempty tag), every uint64 in its shortest
// unsigned form, strings as str and Value as bin (WriteExt), a nil Value as
// nil, all lengths in their shortest form.

// Field keys, already encoded as fixstr, in the order the codec writes them.
const (
	mpKeyCreateIndex = "\xabCreateIndex"
	mpKeyFlags       = "\xa5Flags"
	mpKeyKey         = "\xa3Key"
	mpKeyLockIndex   = "\xa9LockIndex"
	mpKeyModifyIndex = "\xabModifyIndex"
	mpKeySession     = "\xa7Session"
	mpKeyValue       = "\xa5Value"

	mpKeysLen = len(mpKeyCreateIndex) + len(mpKeyFlags) + len(mpKeyKey) +
		len(mpKeyLockIndex) + len(mpKeyModifyIndex) + len(mpKeyValue)
)

// msgpackMapLen is the number of map entries the codec writes for e.
func (e *DirEntry) msgpackMapLen() int {
	if e.Session == "" {
		return 6
	}
	return 7
}

// AppendMsgpack appends e's msgpack encoding, byte for byte what
// MsgpackHandle writes, to b.
func (e *DirEntry) AppendMsgpack(b []byte) []byte {
	// No growing ahead: measuring the size first cost a tenth of a save,
	// and a dump's encoder reuses one buffer, which stops growing soon.
	b = mpMap.appendHeader(b, e.msgpackMapLen())
	b = mpAppendUint(append(b, mpKeyCreateIndex...), e.CreateIndex)
	b = mpAppendUint(append(b, mpKeyFlags...), e.Flags)
	b = append(mpStr.appendHeader(append(b, mpKeyKey...), len(e.Key)), e.Key...)
	b = mpAppendUint(append(b, mpKeyLockIndex...), e.LockIndex)
	b = mpAppendUint(append(b, mpKeyModifyIndex...), e.ModifyIndex)
	if e.Session != "" {
		b = append(mpStr.appendHeader(append(b, mpKeySession...), len(e.Session)), e.Session...)
	}
	b = append(b, mpKeyValue...)
	if e.Value == nil {
		return append(b, mpNil)
	}
	return append(mpBin.appendHeader(b, len(e.Value)), e.Value...)
}

// MsgpackSize is len(e.AppendMsgpack(nil)) without encoding.
func (e *DirEntry) MsgpackSize() int {
	n := mpMap.headerSize(e.msgpackMapLen()) + mpKeysLen +
		mpUintSize(e.CreateIndex) + mpUintSize(e.Flags) +
		mpUintSize(e.LockIndex) + mpUintSize(e.ModifyIndex) +
		mpStr.headerSize(len(e.Key)) + len(e.Key)
	if e.Session != "" {
		n += len(mpKeySession) + mpStr.headerSize(len(e.Session)) + len(e.Session)
	}
	if e.Value == nil {
		return n + 1
	}
	return n + mpBin.headerSize(len(e.Value)) + len(e.Value)
}

// DecodeMsgpackCanonical decodes b into e only if b is exactly the encoding
// AppendMsgpack would write for the value it holds, and reports whether it
// did. On success every field of e is overwritten, Session included when b
// leaves it out, so e holds what the codec would decode into a zero
// DirEntry; Value never aliases b. On false e may be partly written and the
// caller should fall back to the reflective decoder: anything unusual, even
// if the codec would accept it, is refused here.
func (e *DirEntry) DecodeMsgpackCanonical(b []byte) bool {
	return e.decodeCanonical(b, false)
}

// DecodeMsgpackCanonicalView is DecodeMsgpackCanonical, except that Value
// points into b instead of being a copy: it is valid only as long as b.
func (e *DirEntry) DecodeMsgpackCanonicalView(b []byte) bool {
	return e.decodeCanonical(b, true)
}

func (e *DirEntry) decodeCanonical(b []byte, view bool) bool {
	r := mpReader{b: b, ok: true}
	n := r.length(mpMap)
	if n != 6 && n != 7 {
		return false
	}
	r.key(mpKeyCreateIndex)
	e.CreateIndex = r.uint()
	r.key(mpKeyFlags)
	e.Flags = r.uint()
	r.key(mpKeyKey)
	e.Key = r.str()
	r.key(mpKeyLockIndex)
	e.LockIndex = r.uint()
	r.key(mpKeyModifyIndex)
	e.ModifyIndex = r.uint()
	e.Session = ""
	if n == 7 {
		r.key(mpKeySession)
		e.Session = r.str()
		// The codec leaves an empty Session out, so writing it is not canonical.
		r.ok = r.ok && e.Session != ""
	}
	r.key(mpKeyValue)
	e.Value = r.bin(view)
	return r.ok && len(r.b) == 0
}

const (
	mpNil    = 0xc0
	mpUint8  = 0xcc
	mpUint16 = 0xcd
	mpUint32 = 0xce
	mpUint64 = 0xcf
)

// mpAppendUint writes v in the shortest unsigned form, as the codec does.
func mpAppendUint(b []byte, v uint64) []byte {
	switch mpUintSize(v) {
	case 1:
		return append(b, byte(v))
	case 2:
		return append(b, mpUint8, byte(v))
	case 3:
		return append(b, mpUint16, byte(v>>8), byte(v))
	case 5:
		return append(b, mpUint32, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, mpUint64, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// mpUintSize is the length of mpAppendUint's encoding of v.
func mpUintSize(v uint64) int {
	switch {
	case v <= 0x7f:
		return 1
	case v <= 0xff:
		return 2
	case v <= 0xffff:
		return 3
	case v <= 0xffffffff:
		return 5
	}
	return 9
}

// mpLenKind describes the header of a msgpack str, bin or map: an optional
// fix form holding lengths below fixCutoff, then 8-, 16- and 32-bit length
// forms (b8 is 0 where the type has none).
type mpLenKind struct {
	fixMin, fixCutoff byte
	b8, b16, b32      byte
}

var (
	mpStr = mpLenKind{fixMin: 0xa0, fixCutoff: 32, b8: 0xd9, b16: 0xda, b32: 0xdb}
	mpBin = mpLenKind{b8: 0xc4, b16: 0xc5, b32: 0xc6}
	mpMap = mpLenKind{fixMin: 0x80, fixCutoff: 16, b16: 0xde, b32: 0xdf}
)

// headerSize is the length of the shortest header for n, the one the codec
// writes.
func (k mpLenKind) headerSize(n int) int {
	switch {
	case n < int(k.fixCutoff):
		return 1
	case k.b8 != 0 && n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	}
	return 5
}

// appendHeader writes the shortest header for n.
func (k mpLenKind) appendHeader(b []byte, n int) []byte {
	switch k.headerSize(n) {
	case 1:
		return append(b, k.fixMin|byte(n))
	case 2:
		return append(b, k.b8, byte(n))
	case 3:
		return append(b, k.b16, byte(n>>8), byte(n))
	}
	return append(b, k.b32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// mpReader reads canonical msgpack from b. After the first failure ok is
// false and every read returns a zero value without consuming anything, so
// that a decoder can read straight through and check ok once.
type mpReader struct {
	b  []byte
	ok bool
}

// take consumes and returns the next n bytes.
func (r *mpReader) take(n uint64) []byte {
	if !r.ok || n > uint64(len(r.b)) {
		r.ok = false
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// key consumes the encoded map key k, which must come next.
func (r *mpReader) key(k string) {
	if string(r.take(uint64(len(k)))) != k {
		r.ok = false
	}
}

// uint reads a uint64 written in its shortest unsigned form.
func (r *mpReader) uint() uint64 {
	h := r.take(1)
	if h == nil {
		return 0
	}
	var v uint64
	size := 1
	switch c := h[0]; {
	case c <= 0x7f:
		v = uint64(c)
	case c == mpUint8:
		size = 2
	case c == mpUint16:
		size = 3
	case c == mpUint32:
		size = 5
	case c == mpUint64:
		size = 9
	default:
		r.ok = false
		return 0
	}
	for _, c := range r.take(uint64(size - 1)) {
		v = v<<8 | uint64(c)
	}
	if r.ok && mpUintSize(v) != size {
		r.ok = false
	}
	return v
}

// length reads a header of kind k written in its shortest form and returns
// the length it gives; for a str or bin, that many bytes must follow.
func (r *mpReader) length(k mpLenKind) int {
	h := r.take(1)
	if h == nil {
		return 0
	}
	var size int
	switch c := h[0]; {
	case k.fixCutoff > 0 && c >= k.fixMin && c < k.fixMin+k.fixCutoff:
		return int(c - k.fixMin)
	case k.b8 != 0 && c == k.b8:
		size = 1
	case c == k.b16:
		size = 2
	case c == k.b32:
		size = 4
	default:
		r.ok = false
		return 0
	}
	var n uint64
	for _, c := range r.take(uint64(size)) {
		n = n<<8 | uint64(c)
	}
	// Checked before converting to int so that a 32-bit length cannot
	// overflow; a map's entries take at least a byte each, so the bound
	// holds for maps too.
	if !r.ok || n > uint64(len(r.b)) || k.headerSize(int(n)) != 1+size {
		r.ok = false
		return 0
	}
	return int(n)
}

// str reads a str.
func (r *mpReader) str() string {
	return string(r.take(uint64(r.length(mpStr))))
}

// bin reads a bin or nil: nil for nil, and, as the codec decodes it, a
// non-nil empty slice for an empty bin. The bytes are copied into a new
// slice unless view is set.
func (r *mpReader) bin(view bool) []byte {
	if r.ok && len(r.b) > 0 && r.b[0] == mpNil {
		r.b = r.b[1:]
		return nil
	}
	p := r.take(uint64(r.length(mpBin)))
	switch {
	case !r.ok:
		return nil
	case view:
		// Capped, so that an append to Value cannot write into b.
		return p[:len(p):len(p)]
	}
	return append(make([]byte, 0, len(p)), p...)
}
