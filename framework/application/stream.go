package application

import (
	"context"
	"errors"
	"fmt"

	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
)

// DefaultOfferType is the stream type [Application.Answer] offers to an
// INVITE without SDP when it is given no type and a plugin serves it.
const DefaultOfferType = "audio"

// StreamOption configures a stream made with [Call.AddStream] or
// [Application.NewStream].
type StreamOption func(*streamOptions)

type streamOptions struct {
	params any
}

// WithParams passes the stream type's constructor parameters: a value
// marshalled to JSON, or a json.RawMessage as it is.
func WithParams(params any) StreamOption { return func(o *streamOptions) { o.params = params } }

// NewStream creates a stream of type typ for session s, with the settings
// of s's account, holding its offer: for a proposal to the peer
// (s.AddStreams) or, for an incoming session whose INVITE had no SDP, our
// offer in the 200 (s.Accept). A session that is connecting, incoming or
// established gets a stream prepared with its local address (sdk.Prepare:
// initialized, offer ready); one not connected yet gets a stream it
// initializes itself when it connects. The stream is the caller's until a
// session call takes it: End it if that call fails. The error is a
// *[StreamError] or [ErrNotRunning].
func (a *Application) NewStream(ctx context.Context, s *session.Session, typ string, opts ...StreamOption) (session.Stream, error) {
	acc := s.Account()
	if acc == nil {
		acc = a.Account()
	}
	return a.createStream(ctx, acc, s.StreamInfo(), typ, opts)
}

// createStream asks the registry for a stream of typ for acc; prepared
// for info's session when info names its local address.
func (a *Application) createStream(ctx context.Context, acc *session.Account, info *sdk.SessionInfo, typ string, opts []StreamOption) (session.Stream, error) {
	var o streamOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	reg := a.Registry()
	if reg == nil {
		return nil, ErrNotRunning
	}
	params, err := sdk.MarshalJSONValue(o.params)
	if err != nil {
		return nil, &StreamError{Type: typ, Err: err}
	}
	req := &sdk.CreateRequest{Type: typ, Account: acc.SDK(), Params: params}
	if info != nil && info.LocalIP != "" {
		req.Prepare = &sdk.Prepare{Session: info, Direction: sdk.DirectionOutgoing, LocalMedia: true}
	}
	st, err := reg.Create(ctx, req)
	if err != nil {
		return nil, &StreamError{Type: typ, Err: err}
	}
	return st, nil
}

// Answer accepts the incoming session s (after SIPSessionNewIncoming). An
// INVITE with an offer is accepted with every stream proposed. An INVITE
// without SDP (reference §2.4.5) is accepted with new streams (see
// [Application.NewStream]) that make our offer in the 200: one of each of
// types; without types, one [DefaultOfferType] stream when a plugin
// serves that type, else one of each loaded type that can be created
// without parameters. When no stream can be made, s is rejected with 488
// and the error matches session.ErrNoStreams (and wraps the
// *[StreamError]s). An error of s.Accept (the session was cancelled
// meanwhile, say) is returned as it is.
func (a *Application) Answer(ctx context.Context, s *session.Session, types ...string) error {
	if proposed := s.ProposedStreams(); len(proposed) > 0 {
		return s.Accept(proposed)
	}
	streams, err := a.offerStreams(ctx, s, types)
	if err != nil {
		_ = s.Reject(488, "")
		return err
	}
	if err := s.Accept(streams); err != nil {
		endStreams(streams...)
		return err
	}
	return nil
}

// offerStreams makes the streams of our offer to an INVITE without SDP.
func (a *Application) offerStreams(ctx context.Context, s *session.Session, types []string) ([]session.Stream, error) {
	strict := len(types) > 0
	if !strict {
		types = a.offerTypes()
		strict = len(types) == 1 && types[0] == DefaultOfferType
	}
	var made []session.Stream
	var errs []error
	for _, typ := range types {
		st, err := a.NewStream(ctx, s, typ)
		if err != nil && strict {
			endStreams(made...)
			return nil, fmt.Errorf("%w: %w", session.ErrNoStreams, err)
		}
		if err != nil {
			errs = append(errs, err) // a type that needs parameters, say
			continue
		}
		made = append(made, st)
	}
	switch {
	case len(made) > 0:
	case len(errs) == 0:
		return nil, fmt.Errorf("%w: no stream type is loaded", session.ErrNoStreams)
	default:
		return nil, fmt.Errorf("%w: no stream type could make an offer: %w", session.ErrNoStreams, errors.Join(errs...))
	}
	return made, nil
}

// offerTypes is [DefaultOfferType] when it is loaded, else every loaded
// type.
func (a *Application) offerTypes() []string {
	reg := a.Registry()
	if reg == nil {
		return nil
	}
	var all []string
	for _, t := range reg.Types() {
		if t.Type == DefaultOfferType {
			return []string{DefaultOfferType}
		}
		all = append(all, t.Type)
	}
	return all
}
