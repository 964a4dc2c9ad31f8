package echostream

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// MaxTickCount bounds TickArgs.Count.
const MaxTickCount = 1_000_000

// Plugin returns the echo plugin: the "echo" stream type and the
// plugin-scope method "tick". version is reported in the manifest.
func Plugin(version string) *sdk.Plugin {
	return &sdk.Plugin{
		Name:    "echo",
		Version: version,
		Types: []sdk.StreamType{{
			Type:          Type,
			Priority:      Priority,
			HoldSupported: true,
			Match:         matchRule(),
			NewFromSDP:    newFromSDP,
			Create:        create,
		}},
		Methods: map[string]sdk.MethodFunc{MethodTick: tick},
	}
}

// newFromSDP builds a stream for an incoming echo m-line. The SDK only calls
// it for m-lines that satisfy the match rule, but the checks are repeated:
// they are cheap, and the factory stays correct on its own.
func newFromSDP(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
	sess, m, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return nil, err
	}
	if !isEcho(m) {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "m-line %d is not an echo stream", req.StreamIndex)
	}
	peer, _, err := endpoint(sess, m)
	if err != nil {
		return nil, err
	}
	s := newStream(env, req.Account, req.StreamIndex)
	s.remote = peer
	return s, nil
}

// create builds a stream for an outgoing offer. It takes no parameters.
func create(_ context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
	return newStream(env, req.Account, 0), nil
}

// tick posts args.Count TickNotification notifications, paced at args.Rate
// per second, and returns when all are posted or ctx ends.
func tick(ctx context.Context, raw json.RawMessage, env *sdk.Env) (any, error) {
	var args TickArgs
	if err := decodeArgs(raw, &args); err != nil {
		return nil, err
	}
	if args.Count < 0 || args.Count > MaxTickCount || args.Rate < 0 {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "tick: count must be in [0, %d] and rate >= 0, got count %d rate %d",
			MaxTickCount, args.Count, args.Rate)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	start := time.Now()
	for i := range args.Count {
		if args.Rate > 0 && i > 0 {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(args.Rate))
			if wait := time.Until(due); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-timer.C:
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		env.Post(TickNotification, TickData{Seq: i + 1, SentUnixNano: time.Now().UnixNano()})
	}
	return TickResult{Posted: args.Count}, nil
}

// decodeArgs decodes a method's JSON arguments; none leaves v as it is.
func decodeArgs(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return sdk.Errorf(sdk.ErrInvalidArgument, "arguments: %v", err)
	}
	return nil
}

// result marshals a method's result.
func result(v any) (*sdk.InvokeResponse, error) {
	raw, err := sdk.MarshalJSONValue(v)
	if err != nil {
		return nil, err
	}
	return &sdk.InvokeResponse{Result: raw}, nil
}
