package consul

import (
	"net/rpc"
	"reflect"

	"github.com/consulcompat/consul/structs"
)

// RPC calls an endpoint in-process: the agent's HTTP handlers come this
// way. args and reply are passed by pointer, never encoded.
func (s *Server) RPC(method string, args, reply interface{}) error {
	c := &inmemCodec{method: method, args: args, reply: reply}
	if err := s.rpcServer.ServeRequest(c); err != nil {
		return err
	}
	return c.err
}

// inmemCodec is a net/rpc ServerCodec for one call whose arguments and
// reply are Go values, copied by reflection instead of being encoded.
type inmemCodec struct {
	method string
	args   interface{}
	reply  interface{}
	err    error
}

func (c *inmemCodec) ReadRequestHeader(req *rpc.Request) error {
	req.ServiceMethod = c.method
	return nil
}

func (c *inmemCodec) ReadRequestBody(args interface{}) error {
	if args == nil {
		return nil
	}
	reflect.Indirect(reflect.ValueOf(args)).Set(reflect.Indirect(reflect.ValueOf(c.args)))
	return nil
}

func (c *inmemCodec) WriteResponse(resp *rpc.Response, reply interface{}) error {
	if resp.Error != "" {
		c.err = structs.ErrorFromRPC(resp.Error)
		return nil
	}
	reflect.Indirect(reflect.ValueOf(c.reply)).Set(reflect.Indirect(reflect.ValueOf(reply)))
	return nil
}

func (c *inmemCodec) Close() error { return nil }
