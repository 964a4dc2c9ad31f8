package sdk

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// callsConn is the host side's connection to a plugin: a
// grpc.ClientConnInterface that carries the contract's unary calls on the
// Calls stream once the plugin says it serves it (contract 1.2, [callsConn.start]),
// and on the connection itself before that, for older plugins, and after
// the stream failed. Server streams (Notifications) always use the
// connection.
//
// Calls made while a CallBatch is being written go in the next one, so that
// many sessions setting up at once cost one message, not one HTTP/2 stream
// and its headers each.
type callsConn struct {
	cc grpc.ClientConnInterface

	mu      sync.Mutex
	on      bool  // the stream is up: calls go on it
	failed  error // why the stream ended; nil while it is up or never started
	nextID  uint64
	pending map[uint64]chan *pb.Result
	out     *batchQueue[*pb.Call]
	stop    context.CancelFunc

	accounts accountEncodings // the accounts' encodings (calls_account.go)
}

var _ grpc.ClientConnInterface = (*callsConn)(nil)

func newCallsConn(cc grpc.ClientConnInterface) *callsConn {
	return &callsConn{cc: cc, pending: map[uint64]chan *pb.Result{}, out: newBatchQueue[*pb.Call]()}
}

// start opens the Calls stream. Its two goroutines (a writer and a reader)
// end when the stream does: when the plugin connection closes, or when one
// of them fails.
func (c *callsConn) start() error {
	ctx, stop := context.WithCancel(context.Background())
	s, err := pb.NewMediaStreamClient(c.cc).Calls(ctx)
	if err != nil {
		stop()
		return err
	}
	c.mu.Lock()
	c.on, c.stop = true, stop
	c.mu.Unlock()
	go c.write(s)
	go c.read(s)
	return nil
}

// fail ends the stream for good: every call waiting gets no result (its
// channel is closed), and the writer stops.
func (c *callsConn) fail(err error) {
	c.mu.Lock()
	if c.on {
		c.on, c.failed = false, err
		for id, ch := range c.pending {
			close(ch)
			delete(c.pending, id)
		}
		c.out.close()
	}
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (c *callsConn) write(s pb.MediaStream_CallsClient) {
	err := c.out.run(func(calls []*pb.Call) error { return s.Send(&pb.CallBatch{Calls: calls}) })
	// io.EOF: the plugin ended the stream, and the reader gets its status
	// (Unimplemented from a plugin that does not serve Calls, say), which
	// decides what becomes of the calls in flight.
	if err != nil && !errors.Is(err, io.EOF) {
		c.fail(err)
	}
}

func (c *callsConn) read(s pb.MediaStream_CallsClient) {
	for {
		b, err := s.Recv()
		if err != nil {
			c.fail(err)
			return
		}
		c.mu.Lock()
		for _, r := range b.GetResults() {
			if ch, ok := c.pending[r.GetId()]; ok {
				delete(c.pending, r.GetId())
				ch <- r
			}
		}
		c.mu.Unlock()
	}
}

// Invoke sends a unary call on the stream when it is up, on the connection
// otherwise. The outcome is the unary call's: the response, or the
// plugin's status with its details; a deadline or cancellation of ctx
// returns at once and tells the plugin to cancel the call.
func (c *callsConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	req, err := c.accounts.marshal(args.(proto.Message))
	if err != nil {
		return status.Errorf(codes.Internal, "encode %s: %v", method, err)
	}
	call := &pb.Call{Method: method[strings.LastIndexByte(method, '/')+1:], Request: req}
	if d, ok := ctx.Deadline(); ok {
		t := time.Until(d)
		if t <= 0 {
			return status.FromContextError(context.DeadlineExceeded).Err()
		}
		call.TimeoutUs = max(t.Microseconds(), 1)
	}
	ch := make(chan *pb.Result, 1)
	c.mu.Lock()
	if !c.on { // not started (a plugin older than 1.2) or failed
		c.mu.Unlock()
		return c.cc.Invoke(ctx, method, args, reply, opts...)
	}
	c.nextID++
	call.Id = c.nextID
	c.pending[call.Id] = ch
	c.mu.Unlock()
	c.out.push(call)

	select {
	case r, ok := <-ch:
		if !ok {
			return c.lost(ctx, method, args, reply, opts)
		}
		if len(r.GetStatus()) > 0 {
			var st spb.Status
			if err := proto.Unmarshal(r.GetStatus(), &st); err != nil {
				return status.Errorf(codes.Internal, "decode status of %s: %v", method, err)
			}
			return status.ErrorProto(&st)
		}
		if err := proto.Unmarshal(r.GetResponse(), reply.(proto.Message)); err != nil {
			return status.Errorf(codes.Internal, "decode response of %s: %v", method, err)
		}
		return nil
	case <-ctx.Done():
		// A call past its deadline ends in the plugin by itself (it was
		// given the deadline); one cancelled before is cancelled there.
		cancel := call.TimeoutUs == 0 || !errors.Is(ctx.Err(), context.DeadlineExceeded)
		c.mu.Lock()
		if _, ok := c.pending[call.Id]; ok {
			delete(c.pending, call.Id)
			if cancel {
				c.out.push(&pb.Call{Id: call.Id, Cancel: true})
			}
		}
		c.mu.Unlock()
		return status.FromContextError(ctx.Err()).Err()
	}
}

// lost answers a call whose stream ended before its result came. A plugin
// that does not serve Calls after all never ran it: it goes on the
// connection. Otherwise whether it ran is unknown, and the caller is told
// the plugin is unavailable, as a unary call on a broken connection would
// be.
func (c *callsConn) lost(ctx context.Context, method string, args, reply any, opts []grpc.CallOption) error {
	c.mu.Lock()
	err := c.failed
	c.mu.Unlock()
	if status.Code(err) == codes.Unimplemented {
		return c.cc.Invoke(ctx, method, args, reply, opts...)
	}
	return status.Errorf(codes.Unavailable, "%s: plugin call stream ended: %v", method, err)
}

// NewStream opens a stream on the connection.
func (c *callsConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.cc.NewStream(ctx, desc, method, opts...)
}
