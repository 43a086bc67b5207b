package structs

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// MsgpackHandle is the one msgpack handle shared by Raft log entries, RPC
// and state dumps, so that every encoder agrees on the bytes.
var MsgpackHandle = &codec.MsgpackHandle{
	// WriteExt makes []byte encode as msgpack bin, not str.
	WriteExt: true,
	BasicHandle: codec.BasicHandle{
		DecodeOptions: codec.DecodeOptions{
			MapType:     reflect.TypeOf(map[string]interface{}{}),
			RawToString: true,
		},
	},
}

// Encode returns a Raft log entry: the message type byte, then msg in
// msgpack.
func Encode(t MessageType, msg interface{}) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(byte(t))
	if err := codec.NewEncoder(&buf, MsgpackHandle).Encode(msg); err != nil {
		return nil, fmt.Errorf("encode %s: %w", t, err)
	}
	return buf.Bytes(), nil
}

// Decode reads msgpack bytes into out.
func Decode(buf []byte, out interface{}) error {
	return codec.NewDecoderBytes(buf, MsgpackHandle).Decode(out)
}
