package sdk

import (
	"context"

	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
)

// grpcServer serves a LocalProvider over the contract.
type grpcServer struct {
	pb.UnimplementedMediaStreamServer
	lp *LocalProvider
}

var empty = &pb.Empty{}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.Manifest, error) {
	m, err := s.lp.Describe(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return manifestToProto(m), nil
}

func (s *grpcServer) NewFromSDP(ctx context.Context, req *pb.NewFromSDPRequest) (*pb.NewStreamResponse, error) {
	o, err := s.lp.NewFromSDP(ctx, newFromSDPFromProto(req))
	if err != nil {
		return nil, toStatus(err)
	}
	return openedToProto(o), nil
}

func (s *grpcServer) Create(ctx context.Context, req *pb.CreateRequest) (*pb.NewStreamResponse, error) {
	o, err := s.lp.Create(ctx, createFromProto(req))
	if err != nil {
		return nil, toStatus(err)
	}
	return openedToProto(o), nil
}

// with runs fn on the stream with handle h, mapping errors to statuses.
func (s *grpcServer) with(h uint64, fn func(Stream) error) error {
	st, err := s.lp.Stream(h)
	if err != nil {
		return toStatus(err)
	}
	return toStatus(fn(st))
}

func (s *grpcServer) GetLocalMedia(ctx context.Context, req *pb.GetLocalMediaRequest) (*pb.GetLocalMediaResponse, error) {
	var out *pb.GetLocalMediaResponse
	err := s.with(req.GetHandle(), func(st Stream) error {
		res, err := st.GetLocalMedia(ctx, &GetLocalMediaRequest{RemoteSDP: req.GetRemoteSdp(), StreamIndex: int(req.GetStreamIndex()), ForOffer: req.GetForOffer()})
		if err == nil {
			out = &pb.GetLocalMediaResponse{Media: res.Media}
		}
		return err
	})
	return out, err
}

func (s *grpcServer) Initialize(ctx context.Context, req *pb.InitializeRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error {
		return st.Initialize(ctx, &InitializeRequest{Session: sessionFromProto(req.GetSession()), Direction: req.GetDirection()})
	})
}

func (s *grpcServer) Start(ctx context.Context, req *pb.StartRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error {
		return st.Start(ctx, &StartRequest{LocalSDP: req.GetLocalSdp(), RemoteSDP: req.GetRemoteSdp(), StreamIndex: int(req.GetStreamIndex()), Session: sessionFromProto(req.GetSession())})
	})
}

func (s *grpcServer) ValidateUpdate(ctx context.Context, req *pb.ValidateUpdateRequest) (*pb.ValidateUpdateResponse, error) {
	var out *pb.ValidateUpdateResponse
	err := s.with(req.GetHandle(), func(st Stream) error {
		res, err := st.ValidateUpdate(ctx, &ValidateUpdateRequest{RemoteSDP: req.GetRemoteSdp(), StreamIndex: int(req.GetStreamIndex())})
		if err == nil {
			out = &pb.ValidateUpdateResponse{Ok: res.OK}
		}
		return err
	})
	return out, err
}

func (s *grpcServer) Update(ctx context.Context, req *pb.UpdateRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error {
		return st.Update(ctx, &UpdateRequest{LocalSDP: req.GetLocalSdp(), RemoteSDP: req.GetRemoteSdp(), StreamIndex: int(req.GetStreamIndex())})
	})
}

func (s *grpcServer) Hold(ctx context.Context, req *pb.HandleRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error { return st.Hold(ctx) })
}

func (s *grpcServer) Unhold(ctx context.Context, req *pb.HandleRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error { return st.Unhold(ctx) })
}

func (s *grpcServer) Deactivate(ctx context.Context, req *pb.HandleRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error { return st.Deactivate(ctx) })
}

// End ends the stream; with deactivate_first (contract 1.3) it deactivates
// it first, as the host's Deactivate would have (whose error the host
// ignores: the stream is ended anyway).
func (s *grpcServer) End(ctx context.Context, req *pb.HandleRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error {
		if req.GetDeactivateFirst() {
			_ = st.Deactivate(ctx)
		}
		return st.End(ctx)
	})
}

func (s *grpcServer) Reset(ctx context.Context, req *pb.ResetRequest) (*pb.Empty, error) {
	return empty, s.with(req.GetHandle(), func(st Stream) error {
		return st.Reset(ctx, &ResetRequest{StreamIndex: int(req.GetStreamIndex())})
	})
}

func (s *grpcServer) Attributes(ctx context.Context, req *pb.HandleRequest) (*pb.StreamAttributes, error) {
	var out *pb.StreamAttributes
	err := s.with(req.GetHandle(), func(st Stream) error {
		a, err := st.Attributes(ctx)
		if err == nil {
			out = attributesToProto(a)
		}
		return err
	})
	return out, err
}

func (s *grpcServer) Invoke(ctx context.Context, req *pb.InvokeRequest) (*pb.InvokeResponse, error) {
	ir := &InvokeRequest{Method: req.GetMethod(), Args: req.GetArgs()}
	if req.GetHandle() == 0 {
		res, err := s.lp.Invoke(ctx, ir)
		if err != nil {
			return nil, toStatus(err)
		}
		return &pb.InvokeResponse{Result: res.Result}, nil
	}
	var out *pb.InvokeResponse
	err := s.with(req.GetHandle(), func(st Stream) error {
		res, err := st.Invoke(ctx, ir)
		if err == nil {
			out = &pb.InvokeResponse{Result: res.Result}
		}
		return err
	})
	return out, err
}

// maxBatch bounds how many notifications go in one message.
const maxBatch = 256

func (s *grpcServer) Notifications(_ *pb.NotificationsRequest, srv pb.MediaStream_NotificationsServer) error {
	ns, err := s.lp.Notifications(srv.Context())
	if err != nil {
		return toStatus(err)
	}
	qr, _ := ns.(*queueReader)
	batch := make([]Notification, 0, maxBatch)
	msg := &pb.NotificationBatch{}
	for {
		n, err := ns.Recv()
		if err != nil {
			return toStatus(err)
		}
		batch = append(batch[:0], *n)
		for qr != nil && len(batch) < maxBatch {
			more, ok := qr.tryRecv()
			if !ok {
				break
			}
			batch = append(batch, *more)
		}
		msg.Notifications = msg.Notifications[:0]
		for i := range batch {
			msg.Notifications = append(msg.Notifications, notificationToProto(&batch[i]))
		}
		if err := srv.Send(msg); err != nil {
			// Not delivered: keep them, in order, for the next consumer.
			for i := len(batch) - 1; i >= 0; i-- {
				s.lp.queue.requeue(batch[i])
			}
			return err
		}
	}
}
