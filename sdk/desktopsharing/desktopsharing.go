package desktopsharing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Type is the stream type name, Priority its dispatch priority and
// MediaType its m-line media (the reference's DesktopSharingStream).
const (
	Type      = "desktop-sharing"
	Priority  = 1
	MediaType = "application"
)

// ContentType is the only content type the stream takes and sends: RFB
// bytes.
const ContentType = "application/x-rfb"

// AttributeSetup is the SDP attribute that tells the roles apart:
// a=rfbsetup:active (the viewer) or a=rfbsetup:passive (the server, whose
// screen is shared).
const AttributeSetup = "rfbsetup"

// Values of a=rfbsetup.
const (
	SetupActive  = "active"
	SetupPassive = "passive"
)

// Role is the local side of a desktop sharing stream.
type Role string

const (
	// RoleServer shares the local screen: the stream's RFB server side
	// (a=rfbsetup:passive).
	RoleServer Role = "server"
	// RoleViewer views the peer's screen (a=rfbsetup:active).
	RoleViewer Role = "viewer"
)

// String returns the role's name.
func (r Role) String() string { return string(r) }

// Setup returns the a=rfbsetup value a stream of role r advertises.
func (r Role) Setup() string {
	if r == RoleServer {
		return SetupPassive
	}
	return SetupActive
}

// Validate refuses a role other than RoleServer and RoleViewer with an
// error wrapping sdk.ErrInvalidArgument.
func (r Role) Validate() error {
	switch r {
	case RoleServer, RoleViewer:
		return nil
	case "":
		return sdk.Errorf(sdk.ErrInvalidArgument, "desktop sharing needs a role (%s or %s)", RoleServer, RoleViewer)
	}
	return sdk.Errorf(sdk.ErrInvalidArgument, "desktop sharing role %q is neither %s nor %s", string(r), RoleServer, RoleViewer)
}

// RoleForRemote returns our role for a remote a=rfbsetup value: active (or
// none, the reference's default) makes us the server, passive the viewer.
// Another value gives an error wrapping sdk.ErrInvalidStream.
func RoleForRemote(setup string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(setup)) {
	case "", SetupActive:
		return RoleServer, nil
	case SetupPassive:
		return RoleViewer, nil
	}
	return "", sdk.Errorf(sdk.ErrInvalidStream, "a=%s:%s is neither %s nor %s", AttributeSetup, setup, SetupActive, SetupPassive)
}

// Handler says who carries the RFB bytes at our end.
type Handler string

const (
	// HandlerExternal connects the stream to a real VNC server (as
	// server) or lets one real VNC viewer connect to it (as viewer).
	HandlerExternal Handler = "external"
	// HandlerInternal leaves the bytes to the application (SendData,
	// GotData), for applications with their own VNC code.
	HandlerInternal Handler = "internal"
)

// String returns the handler's name.
func (h Handler) String() string { return string(h) }

// ParseHandler reads a handler name; "" means HandlerExternal. Another
// value gives an error wrapping sdk.ErrInvalidArgument.
func ParseHandler(s string) (Handler, error) {
	switch Handler(strings.ToLower(strings.TrimSpace(s))) {
	case "", HandlerExternal:
		return HandlerExternal, nil
	case HandlerInternal:
		return HandlerInternal, nil
	}
	return "", sdk.Errorf(sdk.ErrInvalidArgument, "desktop sharing handler %q is neither %s nor %s", s, HandlerExternal, HandlerInternal)
}

// Account settings read by the stream (sdk.Account.Settings keys),
// besides those of the MSRP base (msrp.transport, tls.*; see package
// msrpstream).
const (
	// SettingVNCServer is the host:port of the VNC server an external
	// server handler connects to. Default DefaultVNCServer.
	SettingVNCServer = "desktop_sharing.vnc_server"
	// SettingHandler is the handler of incoming streams: external (the
	// default) or internal.
	SettingHandler = "desktop_sharing.handler"
	// SettingViewerTimeout is how long, in seconds, an external viewer
	// handler waits for the VNC viewer to connect once the stream has
	// started. Default DefaultViewerTimeout.
	SettingViewerTimeout = "desktop_sharing.viewer_timeout"
	// SettingInternalWindow bounds, in bytes, what an internal handler
	// delivers in GotData and the application has not acknowledged with
	// AckData; past it the stream stops reading from the peer. Default
	// DefaultInternalWindow.
	SettingInternalWindow = "desktop_sharing.internal_window"
)

// Defaults of the settings, and the reference's connect timeout.
const (
	DefaultVNCServer      = "127.0.0.1:5900"
	DefaultViewerTimeout  = 5 * time.Second
	DefaultInternalWindow = 4 << 20
	// ConnectTimeout bounds the external server handler's connection to
	// the VNC server.
	ConnectTimeout = 5 * time.Second
)

// Params are the constructor parameters of an outgoing stream
// (sdk.CreateRequest.Params). Role is required: a desktop sharing stream
// is never made without the application saying which screen is shared.
type Params struct {
	Role    Role    `json:"role"`
	Handler Handler `json:"handler,omitempty"`
	// VNCServer is the host:port of the VNC server, for an external
	// server handler; "" means the account's SettingVNCServer.
	VNCServer string `json:"vnc_server,omitempty"`
	// ViewerTimeout is how long an external viewer handler waits for the
	// viewer once the stream has started; 0 means the account's
	// SettingViewerTimeout.
	ViewerTimeout time.Duration `json:"viewer_timeout,omitempty"`
}

// Validate checks the role and the handler.
func (p Params) Validate() error {
	if err := p.Role.Validate(); err != nil {
		return err
	}
	if _, err := ParseHandler(string(p.Handler)); err != nil {
		return err
	}
	if p.ViewerTimeout < 0 {
		return sdk.Errorf(sdk.ErrInvalidArgument, "negative viewer timeout %v", p.ViewerTimeout)
	}
	return nil
}

// Stream-scope methods (sdk.Stream.Invoke) of internal handlers.
const (
	MethodSendData = "send_data" // DataArgs → SendResult
	MethodAckData  = "ack_data"  // AckArgs → nothing
)

// Notifications posted by a desktop sharing stream, besides the generic
// MediaStream* ones.
const (
	// HandlerDidStartListening: an external viewer handler listens for
	// the VNC viewer (AddressData: the address to point it at).
	HandlerDidStartListening = "DesktopSharingHandlerDidStartListening"
	// HandlerDidConnect: the local VNC socket is up — connected to the
	// VNC server, or the viewer connected (AddressData: the peer's
	// address).
	HandlerDidConnect = "DesktopSharingHandlerDidConnect"
	// GotData: RFB bytes from the peer, for an internal handler
	// (DataData).
	GotData = "DesktopSharingStreamGotData"
	// HandlerDidFail: the handler failed (FailData); MediaStreamDidFail
	// with the same context and reason follows.
	HandlerDidFail = "DesktopSharingHandlerDidFail"
	// HandlerDidEnd: the local VNC viewer closed its connection (EndData);
	// the stream has nothing more to carry and the application should end
	// the session.
	HandlerDidEnd = "DesktopSharingHandlerDidEnd"
)

// Contexts of HandlerDidFail (and of the MediaStreamDidFail after it).
const (
	ContextConnecting = "connecting"
	ContextReading    = "reading"
	ContextSending    = "sending"
)

// AddressData is the data of HandlerDidStartListening and
// HandlerDidConnect: a host:port.
type AddressData struct {
	Address string `json:"address"`
}

// DataData is the data of GotData.
type DataData struct {
	Data []byte `json:"data"`
}

// FailData is the data of HandlerDidFail.
type FailData struct {
	Context string `json:"context"`
	Reason  string `json:"reason"`
}

// EndData is the data of HandlerDidEnd.
type EndData struct {
	Reason string `json:"reason"`
}

// DataArgs are the arguments of MethodSendData.
type DataArgs struct {
	Data []byte `json:"data"`
}

// SendResult is the result of MethodSendData: the bytes sent.
type SendResult struct {
	Sent int `json:"sent"`
}

// AckArgs are the arguments of MethodAckData: bytes of GotData the
// application has consumed.
type AckArgs struct {
	Bytes int64 `json:"bytes"`
}

// Attributes are the stream's own attributes, the JSON object in
// sdk.Attributes.Extra.
type Attributes struct {
	Role    Role    `json:"role"`
	Handler Handler `json:"handler"`
	// Setup is our a=rfbsetup.
	Setup string `json:"rfbsetup"`
	// ViewerAddress is where an external viewer handler listens for the
	// VNC viewer (host:port on loopback), once initialized.
	ViewerAddress string `json:"viewer_address,omitempty"`
	// VNCServer is the VNC server an external server handler connects to.
	VNCServer string `json:"vnc_server,omitempty"`
	// Connected: the local VNC socket is up.
	Connected bool `json:"connected"`
	// BytesSent and BytesReceived count RFB bytes through the tunnel.
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
	// LocalPath and RemotePath are the MSRP paths (a=path).
	LocalPath  string `json:"local_path,omitempty"`
	RemotePath string `json:"remote_path,omitempty"`
}

// SendData sends RFB bytes on an internal handler's stream s, as one MSRP
// SEND, once the stream has started. It fails with sdk.ErrIllegalState
// before the start, after a failure or the end, or on an external handler.
func SendData(ctx context.Context, s sdk.Invoker, data []byte) error {
	_, err := sdk.Call[SendResult](ctx, s, MethodSendData, DataArgs{Data: data})
	return err
}

// AckData tells an internal handler's stream s that n bytes it delivered
// in GotData were consumed, so that it reads more from the peer.
func AckData(ctx context.Context, s sdk.Invoker, n int64) error {
	if n < 0 {
		return sdk.Errorf(sdk.ErrInvalidArgument, "negative acknowledgement %d", n)
	}
	_, err := sdk.Call[struct{}](ctx, s, MethodAckData, AckArgs{Bytes: n})
	return err
}

// ReadAttributes returns the stream's generic attributes and its own.
func ReadAttributes(ctx context.Context, s sdk.Stream) (*sdk.Attributes, Attributes, error) {
	return sdk.ReadAttributes[Attributes](ctx, s)
}

// VNCDisplayAddress turns a VNC display ("host:N", N < 100, port 5900+N),
// a "host::port" or a "host:port" into host:port, as VNC viewers read
// them.
func VNCDisplayAddress(s string) (string, error) {
	host, rest := "", s
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", sdk.Errorf(sdk.ErrInvalidArgument, "VNC address %q: unclosed [", s)
		}
		host, rest = s[1:end], s[end+1:]
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		host, rest = s[:i], s[i:]
	}
	if port, ok := strings.CutPrefix(rest, "::"); ok {
		return hostPort(host, port, s)
	}
	num, ok := strings.CutPrefix(rest, ":")
	if !ok {
		return "", sdk.Errorf(sdk.ErrInvalidArgument, "VNC address %q has no port or display", s)
	}
	var n int
	if _, err := fmt.Sscanf(num, "%d", &n); err == nil && fmt.Sprint(n) == num && n >= 0 && n < 100 {
		return hostPort(host, fmt.Sprint(5900+n), s)
	}
	return hostPort(host, num, s)
}

func hostPort(host, port, orig string) (string, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	var n int
	if _, err := fmt.Sscanf(port, "%d", &n); err != nil || fmt.Sprint(n) != port || n <= 0 || n > 65535 {
		return "", sdk.Errorf(sdk.ErrInvalidArgument, "VNC address %q: bad port %q", orig, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port, nil
	}
	return host + ":" + port, nil
}
