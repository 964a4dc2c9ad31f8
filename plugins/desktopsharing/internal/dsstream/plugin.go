package dsstream

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// Plugin returns the desktop sharing plugin, reporting version in its
// manifest.
func Plugin(version string) *sdk.Plugin {
	return &sdk.Plugin{
		Name:    "desktopsharing",
		Version: version,
		Types: []sdk.StreamType{{
			Type:     ds.Type,
			Priority: ds.Priority,
			Match: sdk.MatchRule{
				Media:       []string{ds.MediaType},
				Protos:      []string{msrpstream.ProtoTCP, msrpstream.ProtoTLS},
				AcceptTypes: []string{ds.ContentType},
			},
			NewFromSDP: newFromSDP,
			Create:     create,
		}},
	}
}

// newFromSDP builds a stream for an incoming m=application line carrying
// application/x-rfb: the remote's a=rfbsetup gives our role, the
// account's desktop_sharing.handler our handler.
func newFromSDP(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
	h, err := ds.ParseHandler(req.Account.Setting(ds.SettingHandler, ""))
	if err != nil {
		return nil, err
	}
	// Our role follows the remote's a=rfbsetup; an offer that does not
	// parse is refused below by NewRawFromSDP with the base's reason.
	role := ds.RoleServer
	if transport, err := msrpstream.TransportSetting(req.Account); err == nil {
		if offer, err := msrpstream.ParseMediaAt(req.RemoteSDP, req.StreamIndex, transport); err == nil {
			if role, err = ds.RoleForRemote(setupOf(offer)); err != nil {
				return nil, err
			}
		}
	}
	s := newStream(env, req.Account, ds.Params{Role: role, Handler: h})
	raw, err := msrpstream.NewRawFromSDP(req, env, s.rawConfig())
	if err != nil {
		return nil, err
	}
	if d := raw.Offer().Direction; d != "" && d != "sendrecv" {
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "desktop sharing stream direction must be sendrecv, not %s", d)
	}
	s.Raw = raw
	return s, nil
}

// setupOf returns the value of a media section's a=rfbsetup, "" without.
func setupOf(m *msrpstream.Media) string {
	for _, a := range m.Attributes {
		if strings.EqualFold(a.Key, ds.AttributeSetup) {
			return a.Value
		}
	}
	return ""
}

// create builds a stream for an outgoing offer; the role is required.
func create(_ context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
	p, err := sdk.DecodeArgs[ds.Params](req.Params)
	if err != nil {
		return nil, err
	}
	if len(req.Params) == 0 || string(req.Params) == "null" {
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "a desktop sharing stream needs parameters: %s", exampleParams())
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s := newStream(env, req.Account, p)
	s.Raw = msrpstream.NewRaw(env, req.Account, s.rawConfig())
	return s, nil
}

func exampleParams() string {
	b, _ := json.Marshal(ds.Params{Role: ds.RoleViewer})
	return string(b)
}

// viewerTimeout reads desktop_sharing.viewer_timeout (seconds).
func viewerTimeout(a *sdk.Account) time.Duration {
	v := strings.TrimSpace(a.Setting(ds.SettingViewerTimeout, ""))
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
		return time.Duration(f * float64(time.Second))
	}
	return ds.DefaultViewerTimeout
}

// internalWindow reads desktop_sharing.internal_window (bytes).
func internalWindow(a *sdk.Account) int64 {
	v := strings.TrimSpace(a.Setting(ds.SettingInternalWindow, ""))
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return n
	}
	return ds.DefaultInternalWindow
}
