package sdk

import (
	"context"
	"sync"
	"sync/atomic"

	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	"google.golang.org/grpc"
)

// grpcProvider is the host side of the contract: a Provider whose streams
// live in a plugin process.
type grpcProvider struct {
	c     pb.MediaStreamClient
	calls *callsConn
	once  sync.Once
	// endsDeactivating tells that the plugin, of contract 1.3 or later,
	// deactivates and ends a stream in one End (Describe sets it).
	endsDeactivating atomic.Bool
}

var _ Provider = (*grpcProvider)(nil)

func newGRPCProvider(cc grpc.ClientConnInterface) *grpcProvider {
	calls := newCallsConn(cc)
	return &grpcProvider{c: pb.NewMediaStreamClient(calls), calls: calls}
}

// Describe returns the plugin's manifest. A plugin of contract 1.2 or later
// serves Calls: from then on the unary calls travel on it.
func (p *grpcProvider) Describe(ctx context.Context) (*Manifest, error) {
	m, err := p.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	if m.GetContractMinor() >= 2 {
		p.once.Do(func() { _ = p.calls.start() }) // if it cannot open, calls stay unary
	}
	p.endsDeactivating.Store(m.GetContractMajor() == ContractMajor && m.GetContractMinor() >= 3)
	return manifestFromProto(m), nil
}

func (p *grpcProvider) NewFromSDP(ctx context.Context, req *NewFromSDPRequest) (*Opened, error) {
	res, err := p.c.NewFromSDP(ctx, newFromSDPToProto(req))
	if err != nil {
		return nil, fromStatus(err)
	}
	return p.opened(res), nil
}

func (p *grpcProvider) Create(ctx context.Context, req *CreateRequest) (*Opened, error) {
	res, err := p.c.Create(ctx, createToProto(req))
	if err != nil {
		return nil, fromStatus(err)
	}
	return p.opened(res), nil
}

func (p *grpcProvider) opened(res *pb.NewStreamResponse) *Opened {
	return &Opened{
		Handle: res.GetHandle(), Type: res.GetType(), Stream: &grpcStream{c: p.c, h: res.GetHandle(), endsDeactivating: p.endsDeactivating.Load()},
		Prepared: Prepared{Initialized: res.GetInitialized(), InitError: res.GetInitError(), Media: res.GetMedia()},
	}
}

func (p *grpcProvider) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	res, err := p.c.Invoke(ctx, &pb.InvokeRequest{Method: req.Method, Args: req.Args})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &InvokeResponse{Result: res.GetResult()}, nil
}

func (p *grpcProvider) Notifications(ctx context.Context) (NotificationStream, error) {
	s, err := p.c.Notifications(ctx, &pb.NotificationsRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &grpcNotifications{s: s}, nil
}

// grpcNotifications unpacks the batches of the Notifications stream.
type grpcNotifications struct {
	s       pb.MediaStream_NotificationsClient
	pending []*pb.Notification
}

func (g *grpcNotifications) Recv() (*Notification, error) {
	for len(g.pending) == 0 {
		b, err := g.s.Recv()
		if err != nil {
			return nil, fromStatus(err)
		}
		g.pending = b.GetNotifications()
	}
	n := g.pending[0]
	g.pending[0] = nil
	g.pending = g.pending[1:]
	return notificationFromProto(n), nil
}

// grpcStream is one stream in a plugin process.
type grpcStream struct {
	c                pb.MediaStreamClient
	h                uint64
	endsDeactivating bool // the plugin takes End's deactivate_first
}

var _ Stream = (*grpcStream)(nil)

func (s *grpcStream) hr() *pb.HandleRequest { return &pb.HandleRequest{Handle: s.h} }

func (s *grpcStream) Initialize(ctx context.Context, req *InitializeRequest) error {
	_, err := s.c.Initialize(ctx, &pb.InitializeRequest{Handle: s.h, Session: sessionToProto(req.Session), Direction: req.Direction})
	return fromStatus(err)
}

func (s *grpcStream) GetLocalMedia(ctx context.Context, req *GetLocalMediaRequest) (*GetLocalMediaResponse, error) {
	res, err := s.c.GetLocalMedia(ctx, &pb.GetLocalMediaRequest{Handle: s.h, RemoteSdp: req.RemoteSDP, StreamIndex: int32(req.StreamIndex), ForOffer: req.ForOffer})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &GetLocalMediaResponse{Media: res.GetMedia()}, nil
}

func (s *grpcStream) Start(ctx context.Context, req *StartRequest) error {
	_, err := s.c.Start(ctx, &pb.StartRequest{Handle: s.h, LocalSdp: req.LocalSDP, RemoteSdp: req.RemoteSDP, StreamIndex: int32(req.StreamIndex), Session: sessionToProto(req.Session)})
	return fromStatus(err)
}

func (s *grpcStream) ValidateUpdate(ctx context.Context, req *ValidateUpdateRequest) (*ValidateUpdateResponse, error) {
	res, err := s.c.ValidateUpdate(ctx, &pb.ValidateUpdateRequest{Handle: s.h, RemoteSdp: req.RemoteSDP, StreamIndex: int32(req.StreamIndex)})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &ValidateUpdateResponse{OK: res.GetOk()}, nil
}

func (s *grpcStream) Update(ctx context.Context, req *UpdateRequest) error {
	_, err := s.c.Update(ctx, &pb.UpdateRequest{Handle: s.h, LocalSdp: req.LocalSDP, RemoteSdp: req.RemoteSDP, StreamIndex: int32(req.StreamIndex)})
	return fromStatus(err)
}

func (s *grpcStream) Hold(ctx context.Context) error {
	_, err := s.c.Hold(ctx, s.hr())
	return fromStatus(err)
}

func (s *grpcStream) Unhold(ctx context.Context) error {
	_, err := s.c.Unhold(ctx, s.hr())
	return fromStatus(err)
}

func (s *grpcStream) Deactivate(ctx context.Context) error {
	_, err := s.c.Deactivate(ctx, s.hr())
	return fromStatus(err)
}

func (s *grpcStream) End(ctx context.Context) error {
	_, err := s.c.End(ctx, s.hr())
	return fromStatus(err)
}

// DeactivateAndEnd implements DeactivateEnder: one End with
// deactivate_first for a plugin of contract 1.3 or later, Deactivate then
// End otherwise.
func (s *grpcStream) DeactivateAndEnd(ctx context.Context) error {
	if !s.endsDeactivating {
		_ = s.Deactivate(ctx)
		return s.End(ctx)
	}
	_, err := s.c.End(ctx, &pb.HandleRequest{Handle: s.h, DeactivateFirst: true})
	return fromStatus(err)
}

func (s *grpcStream) Reset(ctx context.Context, req *ResetRequest) error {
	_, err := s.c.Reset(ctx, &pb.ResetRequest{Handle: s.h, StreamIndex: int32(req.StreamIndex)})
	return fromStatus(err)
}

func (s *grpcStream) Attributes(ctx context.Context) (*Attributes, error) {
	res, err := s.c.Attributes(ctx, s.hr())
	if err != nil {
		return nil, fromStatus(err)
	}
	return attributesFromProto(res), nil
}

func (s *grpcStream) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	res, err := s.c.Invoke(ctx, &pb.InvokeRequest{Handle: s.h, Method: req.Method, Args: req.Args})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &InvokeResponse{Result: res.GetResult()}, nil
}
