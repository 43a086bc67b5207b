package consul

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/consulcompat/consul/structs"
	"github.com/hashicorp/go-msgpack/v2/codec"
)

// The snapshot stream carries an archive between servers, one connection
// per request, after the rpcSnapshot byte:
//
//	client: frame(msgpack SnapshotRequest) [restore: archive frames, end]
//	server: frame(msgpack SnapshotResponse) [save: archive frames, end]
//
// A frame is a 4-byte big-endian length and that many bytes; a zero-length
// frame ends the archive. The end frame is what tells a complete archive
// from one cut short by a crash: a peer killed mid-save may close its
// socket cleanly, and a bare EOF would then pass for success.

const (
	// maxHeaderFrame bounds the request and reply headers.
	maxHeaderFrame = 64 << 10
	// maxDataFrame bounds one frame of archive bytes.
	maxDataFrame = 1 << 20
)

// errStreamCut marks an archive stream that ended without its end frame.
var errStreamCut = errors.New("snapshot stream ended before the archive was complete")

func writeFrame(w io.Writer, p []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

func readFrameLen(r io.Reader, max uint32) (uint32, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, errStreamCut
		}
		return 0, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > max {
		return 0, fmt.Errorf("snapshot stream: frame of %d bytes exceeds %d", n, max)
	}
	return n, nil
}

// writeHeader sends v as one msgpack frame.
func writeHeader(w io.Writer, v interface{}) error {
	var buf bytes.Buffer
	if err := codec.NewEncoder(&buf, structs.MsgpackHandle).Encode(v); err != nil {
		return err
	}
	return writeFrame(w, buf.Bytes())
}

// readHeader reads one msgpack frame into v.
func readHeader(r io.Reader, v interface{}) error {
	n, err := readFrameLen(r, maxHeaderFrame)
	if err != nil {
		return err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return errStreamCut
	}
	return structs.Decode(buf, v)
}

// frameWriter sends writes as data frames; Close sends the end frame.
type frameWriter struct {
	w io.Writer
}

func (f *frameWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxDataFrame)
		if err := writeFrame(f.w, p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

func (f *frameWriter) Close() error {
	return writeFrame(f.w, nil)
}

// frameReader reads data frames until the end frame, then reports EOF.
type frameReader struct {
	r    io.Reader
	left uint32
	done bool
}

func (f *frameReader) Read(p []byte) (int, error) {
	for f.left == 0 {
		if f.done {
			return 0, io.EOF
		}
		n, err := readFrameLen(f.r, maxDataFrame)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			f.done = true
			return 0, io.EOF
		}
		f.left = n
	}
	if uint32(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= uint32(n)
	if errors.Is(err, io.EOF) {
		if f.left > 0 {
			return n, errStreamCut
		}
		err = nil
	}
	return n, err
}

// serveSnapshotStream serves one snapshot request from another server.
func (s *Server) serveSnapshotStream(c net.Conn) {
	defer c.Close()
	var args structs.SnapshotRequest
	if err := readHeader(c, &args); err != nil {
		s.logger.Warn("snapshot stream: bad request header", "from", c.RemoteAddr(), "error", err)
		return
	}
	switch args.Op {
	case structs.SnapshotStage:
		c.SetDeadline(transferDeadline(args.Size))
		reply := &structs.SnapshotResponse{}
		if err := s.staging.receive(&args, &frameReader{r: c}); err != nil {
			reply.Error, reply.ErrorKind = err.Error(), structs.ErrorKind(err)
		}
		writeHeader(c, reply)
		return
	case structs.SnapshotFetch:
		s.staging.serveFetch(c, &args)
		return
	}
	var in io.Reader
	if args.Op == structs.SnapshotRestore {
		in = &frameReader{r: c}
	}
	var out *frameWriter
	err := s.SnapshotRPC(&args, in, func(reply *structs.SnapshotResponse) (io.Writer, error) {
		if err := writeHeader(c, reply); err != nil {
			return nil, err
		}
		out = &frameWriter{w: c}
		return out, nil
	})
	switch {
	case err == nil && out != nil && args.Op == structs.SnapshotSave:
		if err := out.Close(); err != nil {
			s.logger.Warn("snapshot stream: end frame", "error", err)
		}
	case err != nil && out == nil:
		writeHeader(c, &structs.SnapshotResponse{Error: err.Error(), ErrorKind: structs.ErrorKind(err)})
	case err != nil:
		// The archive was under way: leave without the end frame, so the
		// caller cannot take what it got for a whole archive.
		s.logger.Error("snapshot stream: save failed mid-stream", "error", err)
	}
}

// snapshotRequestTimeout bounds connecting and sending the request header.
const snapshotRequestTimeout = 10 * time.Second

// forwardSnapshot runs a snapshot request on the server at addr, streaming
// the upload there and the archive back; neither is held whole here.
func (s *Server) forwardSnapshot(addr string, args *structs.SnapshotRequest, in io.Reader, replyFn structs.SnapshotReplyFunc) error {
	conn, err := dialSnapshotStream(addr, args)
	if err != nil {
		return fmt.Errorf("snapshot: leader: %w", err)
	}
	defer conn.Close()
	var sendErr error
	if args.Op == structs.SnapshotRestore {
		fw := &frameWriter{w: conn}
		if _, sendErr = io.Copy(fw, in); sendErr == nil {
			sendErr = fw.Close()
		}
	}
	var reply structs.SnapshotResponse
	if err := readHeader(conn, &reply); err != nil {
		if sendErr != nil {
			return fmt.Errorf("snapshot: forward upload: %w", sendErr)
		}
		return fmt.Errorf("snapshot: reply from leader: %w", err)
	}
	// The leader's verdict wins over a broken upload: it may have refused
	// the request before reading it.
	if reply.Error != "" {
		return structs.ErrorWithKind(reply.Error, reply.ErrorKind)
	}
	if sendErr != nil {
		return fmt.Errorf("snapshot: forward upload: %w", sendErr)
	}
	w, err := replyFn(&reply)
	if err != nil || args.Op != structs.SnapshotSave {
		return err
	}
	if _, err := io.Copy(w, &frameReader{r: conn}); err != nil {
		return fmt.Errorf("snapshot: archive from leader: %w", err)
	}
	return nil
}

// dialSnapshotStream opens a snapshot stream to the server at addr and
// sends the request header.
func dialSnapshotStream(addr string, args *structs.SnapshotRequest) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	conn.SetWriteDeadline(time.Now().Add(snapshotRequestTimeout))
	if _, err := conn.Write([]byte{byte(rpcSnapshot)}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send to %s: %w", addr, err)
	}
	if err := writeHeader(conn, args); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send to %s: %w", addr, err)
	}
	conn.SetWriteDeadline(time.Time{})
	return conn, nil
}
