package sdk

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/internal/workers"
	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// unaryHandlers are the contract's unary methods by name, as gRPC itself
// dispatches them: the generated handler decodes the request and calls the
// grpcServer method, so that a call carried by Calls runs exactly the code
// of the unary call.
var unaryHandlers = func() map[string]grpc.MethodHandler {
	m := make(map[string]grpc.MethodHandler, len(pb.MediaStream_ServiceDesc.Methods))
	for _, d := range pb.MediaStream_ServiceDesc.Methods {
		m[d.MethodName] = d.Handler
	}
	return m
}()

// Calls serves the batched unary calls of contract 1.2. Each call runs on
// its own goroutine, as a unary call does (a workers.Pool's, kept for the
// next call: a new goroutine grew its stack by copying through decoding,
// the stream's method and encoding, a tenth of a plugin's CPU under
// load), with a context that ends with
// the stream, at the caller's deadline or when the host cancels it; the
// results go back as they finish, what finished while one ResultBatch was
// being written in the next. When the host closes its side, the calls in
// flight finish and are answered before the stream ends.
func (s *grpcServer) Calls(stream pb.MediaStream_CallsServer) error {
	ctx, cancelAll := context.WithCancel(stream.Context())
	defer cancelAll()
	out := newBatchQueue[*pb.Result]()
	sent := make(chan error, 1)
	go func() {
		sent <- out.run(func(rs []*pb.Result) error { return stream.Send(&pb.ResultBatch{Results: rs}) })
	}()

	var (
		calls    = workers.New(maxIdleCalls, idleCallsLinger)
		mu       sync.Mutex
		cancels  = map[uint64]context.CancelFunc{}
		accounts accountDecodings // calls_account.go
	)
	finish := func(err error) error {
		if err != nil {
			cancelAll()
		}
		calls.Close()
		out.close()
		if serr := <-sent; err == nil {
			err = serr
		}
		return err
	}
	for {
		b, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return finish(nil)
		}
		if err != nil {
			return finish(err)
		}
		for _, c := range b.GetCalls() {
			id := c.GetId()
			if c.GetCancel() {
				mu.Lock()
				if f := cancels[id]; f != nil {
					f()
				}
				mu.Unlock()
				continue
			}
			h := unaryHandlers[c.GetMethod()]
			if h == nil {
				out.push(resultOf(id, nil, status.Errorf(codes.Unimplemented, "unknown method %q", c.GetMethod())))
				continue
			}
			var (
				cctx   context.Context
				cancel context.CancelFunc
			)
			if t := c.GetTimeoutUs(); t > 0 {
				cctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Microsecond)
			} else {
				cctx, cancel = context.WithCancel(ctx)
			}
			mu.Lock()
			cancels[id] = cancel
			mu.Unlock()
			req := c.GetRequest()
			calls.Go(func() {
				res, err := h(s, cctx, func(m any) error { return accounts.unmarshal(req, m.(proto.Message)) }, nil)
				mu.Lock()
				delete(cancels, id)
				mu.Unlock()
				cancel()
				out.push(resultOf(id, res, err))
			})
		}
	}
}

// maxIdleCalls is how many goroutines wait for calls at most per Calls
// stream, and idleCallsLinger how long they wait when no call comes.
const (
	maxIdleCalls    = 64
	idleCallsLinger = 2 * time.Second
)

// resultOf encodes a handler's outcome as the unary call would have: the
// response, or its status with details.
func resultOf(id uint64, res any, err error) *pb.Result {
	r := &pb.Result{Id: id}
	if err == nil {
		m, ok := res.(proto.Message)
		if !ok {
			err = status.Errorf(codes.Internal, "handler returned %T", res)
		} else if r.Response, err = proto.Marshal(m); err != nil {
			err = status.Errorf(codes.Internal, "encode response: %v", err)
		}
	}
	if err != nil {
		r.Response = nil
		st, _ := status.FromError(err)
		b, merr := proto.Marshal(st.Proto())
		if merr != nil {
			b, _ = proto.Marshal(status.New(codes.Internal, err.Error()).Proto())
		}
		r.Status = b
	}
	return r
}

// batchQueue hands items to the one goroutine that writes them, everything
// waiting in one message: the CallBatches of the host's side of the Calls
// stream and the ResultBatches of the plugin's. push never blocks.
type batchQueue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{}
}

func newBatchQueue[T any]() *batchQueue[T] { return &batchQueue[T]{wake: make(chan struct{}, 1)} }

func (q *batchQueue[T]) push(x T) {
	q.mu.Lock()
	q.items = append(q.items, x)
	q.mu.Unlock()
	q.signal()
}

// close makes run return once what was pushed is written.
func (q *batchQueue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *batchQueue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run sends what is pushed until the queue is closed and empty (nil) or a
// send fails (its error; what is pushed after that is never sent).
func (q *batchQueue[T]) run(send func([]T) error) error {
	for {
		<-q.wake
		q.mu.Lock()
		items, closed := q.items, q.closed
		q.items = nil
		q.mu.Unlock()
		if len(items) > 0 {
			if err := send(items); err != nil {
				return err
			}
		}
		if closed {
			q.mu.Lock()
			empty := len(q.items) == 0
			q.mu.Unlock()
			if empty {
				return nil
			}
		}
	}
}
