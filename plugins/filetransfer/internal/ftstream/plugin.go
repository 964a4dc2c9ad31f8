package ftstream

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/plugins/filetransfer/internal/safename"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// Option configures Plugin.
type Option func(*factory)

// WithClock sets the clock partial files' validity is judged by (tests).
func WithClock(now func() time.Time) Option { return func(f *factory) { f.now = now } }

// Plugin returns the file transfer plugin, reporting version in its
// manifest.
func Plugin(version string, opts ...Option) *sdk.Plugin {
	f := &factory{now: time.Now}
	for _, o := range opts {
		o(f)
	}
	return &sdk.Plugin{
		Name:    "filetransfer",
		Version: version,
		Types: []sdk.StreamType{{
			Type:     filetransfer.Type,
			Priority: filetransfer.Priority,
			Match: sdk.MatchRule{
				Media:  []string{filetransfer.MediaType},
				Protos: []string{msrpstream.ProtoTCP, msrpstream.ProtoTLS},
			},
			NewFromSDP: f.newFromSDP,
			Create:     f.create,
		}},
	}
}

// factory builds the plugin's streams.
type factory struct {
	now func() time.Time
}

// newFromSDP builds a stream for an incoming m=message line with
// a=file-selector, as the reference's new_from_sdp: a line without one is
// not a file transfer (sdk.ErrUnknownStream: chat gets it); the MSRP
// base's checks follow; the peer's sendonly makes us receive, its
// recvonly makes us send (a pull: the application gives the file with
// set_file before accepting); any other direction, a selector that does
// not parse, or a name nothing safe is left of, is refused
// (sdk.ErrInvalidStream).
func (f *factory) newFromSDP(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
	sd, md, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(md.MediaName.Media, filetransfer.MediaType) {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "m=%s is not a file transfer", md.MediaName.Media)
	}
	raw, ok := attribute(md.Attributes, filetransfer.AttrFileSelector)
	if !ok {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "no a=%s: not a file transfer", filetransfer.AttrFileSelector)
	}
	s := newStream(env, req.Account, f.now)
	s.incoming = true
	switch sdk.Direction(sd, md) {
	case sdk.SendOnly:
		s.dir = sdk.RecvOnly
	case sdk.RecvOnly:
		s.dir = sdk.SendOnly
	}
	base, err := msrpstream.NewFromSDP(req, s.baseEnv(), s.config())
	if err != nil {
		return nil, err
	}
	sel, err := filetransfer.ParseSelector(raw)
	if err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "error parsing file-selector: %v", err)
	}
	switch s.dir {
	case sdk.RecvOnly:
		if sel.Name != "" {
			if _, err := safename.Sanitize(sel.Name); err != nil {
				return nil, sdk.Errorf(sdk.ErrInvalidStream, "file-selector name: %v", err)
			}
		}
		if sel.Size <= 0 {
			return nil, sdk.Errorf(sdk.ErrInvalidStream, "file-selector has no size")
		}
	case sdk.SendOnly:
		if sel.Name == "" && sel.Hash.IsZero() {
			return nil, sdk.Errorf(sdk.ErrInvalidStream, "file-selector names no file to send")
		}
	default:
		return nil, sdk.Errorf(sdk.ErrInvalidStream, "wrong stream direction specified")
	}
	s.sel = sel
	if id, ok := attribute(md.Attributes, filetransfer.AttrFileTransferID); ok {
		s.transferID = id
	}
	s.Base = base
	s.setAttributes()
	return s, nil
}

// create builds a stream for an outgoing offer from filetransfer.Params:
// a push of a file (sendonly), checked at once (it must be a regular
// file), or a pull (recvonly) of the file its selector names.
func (f *factory) create(_ context.Context, req *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
	p, err := sdk.DecodeArgs[filetransfer.Params](req.Params)
	if err != nil {
		return nil, err
	}
	if p.Direction == "" {
		p.Direction = sdk.RecvOnly
		if p.Path != "" {
			p.Direction = sdk.SendOnly
		}
	}
	s := newStream(env, req.Account, f.now)
	s.dir, s.sel, s.transferID = p.Direction, p.Selector, p.TransferID
	switch p.Direction {
	case sdk.SendOnly:
		if err := s.setFile(p.Path); err != nil {
			return nil, err
		}
	case sdk.RecvOnly:
		if p.Path != "" {
			return nil, sdk.Errorf(sdk.ErrInvalidArgument, "a recvonly file transfer takes no path (the file is saved in its directory)")
		}
		if s.sel.Name == "" && s.sel.Hash.IsZero() {
			return nil, sdk.Errorf(sdk.ErrInvalidArgument, "a pull needs the name or the hash of the file")
		}
		s.saveDir = p.Directory
	default:
		return nil, sdk.Errorf(sdk.ErrInvalidArgument, "direction must be sendonly or recvonly, not %q", p.Direction)
	}
	if s.transferID == "" {
		s.transferID = newUUID()
	}
	s.Base = msrpstream.New(s.baseEnv(), req.Account, s.config())
	s.setAttributes()
	return s, nil
}

// attribute returns the value of the first attribute named key.
func attribute(attrs []sdp.Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Key, key) {
			return a.Value, true
		}
	}
	return "", false
}

// newUUID returns a random (version 4) UUID, the reference's default
// transfer id.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// defaultDirectory is the reference's default save directory,
// ~/Downloads.
func defaultDirectory() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no %s and no home directory: %w", filetransfer.SettingDirectory, err)
	}
	return filepath.Join(home, "Downloads"), nil
}
