package snapshot

import (
	"io"
	"sync"
)

// pipelineBlock and pipelineDepth size the hand-over between the two
// halves of a save: big enough blocks that the channel costs nothing,
// few enough that a save holds about a megabyte.
const (
	pipelineBlock = 256 << 10
	pipelineDepth = 4
)

// pipeline is a writer whose writes reach w from another goroutine, so
// that a save runs on two cores: the caller's goroutine walks the state
// and encodes it while this one hashes, compresses and sends it out.
// Close must be called once, and returns the first error w gave.
type pipeline struct {
	full chan []byte
	free chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error
	buf []byte
}

func newPipeline(w io.Writer) *pipeline {
	p := &pipeline{
		full: make(chan []byte, pipelineDepth),
		free: make(chan []byte, pipelineDepth+1),
		done: make(chan struct{}),
	}
	for i := 0; i < pipelineDepth+1; i++ {
		p.free <- make([]byte, 0, pipelineBlock)
	}
	go p.drain(w)
	return p
}

// drain writes every block to w; after a failure it only recycles them,
// so that the writer never blocks on a dead consumer.
func (p *pipeline) drain(w io.Writer) {
	defer close(p.done)
	for b := range p.full {
		if p.failed() == nil {
			if _, err := w.Write(b); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
		p.free <- b[:0]
	}
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write copies b into blocks and hands full ones over.
func (p *pipeline) Write(b []byte) (int, error) {
	if err := p.failed(); err != nil {
		return 0, err
	}
	n := len(b)
	for len(b) > 0 {
		if p.buf == nil {
			p.buf = <-p.free
		}
		c := copy(p.buf[len(p.buf):cap(p.buf)], b)
		p.buf, b = p.buf[:len(p.buf)+c], b[c:]
		if len(p.buf) == cap(p.buf) {
			p.full <- p.buf
			p.buf = nil
		}
	}
	return n, nil
}

// Close hands over the last block, waits until everything is written,
// and returns the first error.
func (p *pipeline) Close() error {
	if len(p.buf) > 0 {
		p.full <- p.buf
		p.buf = nil
	}
	close(p.full)
	<-p.done
	return p.failed()
}
