package echostream

import (
	"context"
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
		Methods: map[string]sdk.MethodFunc{MethodTick: sdk.Method(tick)},
	}
}

// newFromSDP builds a stream for an incoming echo m-line. The SDK only calls
// it for m-lines that satisfy the match rule, but parseRemote checks again:
// it is cheap, and the factory stays correct on its own.
func newFromSDP(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
	remote, err := parseRemote(req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return nil, err
	}
	s := newStream(env, req.Account)
	s.remote = remote.Peer()
	return s, nil
}

// create builds a stream for an outgoing offer. It takes no parameters.
func create(_ context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
	return newStream(env, req.Account), nil
}

// tick posts args.Count TickNotification notifications, paced at args.Rate
// per second, and returns when all are posted or ctx ends.
func tick(ctx context.Context, args TickArgs, env *sdk.Env) (TickResult, error) {
	if args.Count < 0 || args.Count > MaxTickCount || args.Rate < 0 {
		return TickResult{}, sdk.Errorf(sdk.ErrInvalidArgument, "tick: count must be in [0, %d] and rate >= 0, got count %d rate %d",
			MaxTickCount, args.Count, args.Rate)
	}
	var pace <-chan time.Time // one tick per notification after the first
	if args.Rate > 0 {
		t := time.NewTicker(max(time.Second/time.Duration(args.Rate), time.Nanosecond))
		defer t.Stop()
		pace = t.C
	}
	for i := range args.Count {
		if pace != nil && i > 0 {
			select {
			case <-ctx.Done():
				return TickResult{}, ctx.Err()
			case <-pace:
			}
		}
		if err := ctx.Err(); err != nil {
			return TickResult{}, err
		}
		env.Post(TickNotification, TickData{Seq: i + 1, SentUnixNano: time.Now().UnixNano()})
	}
	return TickResult{Posted: args.Count}, nil
}
