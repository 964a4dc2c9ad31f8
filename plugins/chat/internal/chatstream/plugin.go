package chatstream

import (
	"context"
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// Plugin returns the chat plugin, reporting version in its manifest. Its
// streams share one reassembly memory (chat.max_reassembly_memory).
func Plugin(version string) *sdk.Plugin { return plugin(version, &reassembly{}) }

func plugin(version string, pool *reassembly) *sdk.Plugin {
	f := factory{pool: pool}
	return &sdk.Plugin{
		Name:    "chat",
		Version: version,
		Types: []sdk.StreamType{{
			Type:     chat.Type,
			Priority: chat.Priority,
			Match: sdk.MatchRule{
				Media:  []string{chat.MediaType},
				Protos: []string{msrpstream.ProtoTCP, msrpstream.ProtoTLS},
			},
			NewFromSDP: f.newFromSDP,
			Create:     f.create,
		}},
	}
}

// factory builds the plugin's streams.
type factory struct {
	pool *reassembly // shared by every stream of the plugin
}

// newFromSDP builds a stream for an incoming m=message line, with the
// reference ChatStream's checks on top of the MSRP base's.
func (f factory) newFromSDP(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
	s := newStream(env, req.Account, f.pool)
	base, err := msrpstream.NewFromSDP(req, s.baseEnv(), s.config())
	if err != nil {
		return nil, err
	}
	offer := base.Offer()
	if offer.Direction != "" && offer.Direction != "sendrecv" {
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "chat stream direction must be sendrecv, not %s", offer.Direction)
	}
	if len(offer.AcceptTypes) == 0 {
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "no a=accept-types attribute")
	}
	if !overlap(chat.AcceptTypes(), offer.AcceptTypes) {
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "no common accept-types: %s", strings.Join(offer.AcceptTypes, " "))
	}
	s.Base = base
	return s, nil
}

// create builds a stream for an outgoing offer; it takes no parameters.
func (f factory) create(_ context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
	s := newStream(env, req.Account, f.pool)
	s.Base = msrpstream.New(s.baseEnv(), req.Account, s.config())
	return s, nil
}

// overlap reports whether a type of one list is accepted by the other,
// wildcards included.
func overlap(ours, theirs []string) bool {
	for _, t := range theirs {
		if msrpstream.Accepts(ours, t) {
			return true
		}
	}
	for _, t := range ours {
		if msrpstream.Accepts(theirs, t) {
			return true
		}
	}
	return false
}
