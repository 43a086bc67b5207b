package snapshot

import (
	"archive/zip"
	"io"

	"github.com/klauspost/compress/flate"
)

// probeSize is how much of the state dump is looked at to choose how
// state.bin is stored.
const probeSize = 1 << 20

// storeIfSaving is the compressed fraction of the probe above which
// state.bin is stored, not deflated: deflate must save at least a quarter
// to be worth its CPU. Random values (secrets, certificates, binary
// blobs) save about an eighth, from the keys and the record framing, for
// twice a save's CPU and a third of a restore's, on the leader; text such
// as JSON configuration deflates to about a fifth and is deflated.
const storeIfSaving = 0.75

// probeWriter holds the first probeSize bytes of the dump, chooses the
// zip method for state.bin from them, then opens the entry with open and
// passes everything on.
type probeWriter struct {
	open func(method uint16) (io.Writer, error)
	buf  []byte
	w    io.Writer
}

func (p *probeWriter) Write(b []byte) (int, error) {
	if p.w != nil {
		return p.w.Write(b)
	}
	n := len(b)
	room := probeSize - len(p.buf)
	if len(b) < room {
		p.buf = append(p.buf, b...)
		return n, nil
	}
	p.buf = append(p.buf, b[:room]...)
	if err := p.finish(); err != nil {
		return 0, err
	}
	if _, err := p.w.Write(b[room:]); err != nil {
		return 0, err
	}
	return n, nil
}

// finish chooses the method, if not yet done, and sends what is held.
func (p *probeWriter) finish() error {
	if p.w != nil {
		return nil
	}
	w, err := p.open(chooseMethod(p.buf))
	if err != nil {
		return err
	}
	p.w = w
	_, err = w.Write(p.buf)
	p.buf = nil
	return err
}

// chooseMethod deflates sample and says whether that paid.
func chooseMethod(sample []byte) uint16 {
	var n byteCounter
	fw, err := flate.NewWriter(&n, flate.BestSpeed)
	if err != nil {
		return zip.Deflate
	}
	fw.Write(sample)
	fw.Close()
	if float64(n) >= storeIfSaving*float64(len(sample)) {
		return zip.Store
	}
	return zip.Deflate
}

// byteCounter counts what it is given.
type byteCounter int64

func (c *byteCounter) Write(b []byte) (int, error) {
	*c += byteCounter(len(b))
	return len(b), nil
}
