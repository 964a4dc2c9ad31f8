package application

import (
	"log/slog"
	"slices"

	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
)

// Option configures an [Application].
type Option func(*options)

type options struct {
	pluginDir string
	listen    []engine.Listen
	userAgent string
	user      string
	logger    *slog.Logger
	center    *notify.Center
	regOpts   []registry.Option
	traceSIP  bool

	traceSIPKeys bool
}

// WithPluginDir sets the directory of the stream plugins (default: the
// registry's, "plugins").
func WithPluginDir(dir string) Option { return func(o *options) { o.pluginDir = dir } }

// WithListen sets the engine's listening sockets, overriding the settings'
// sip.listen_addresses, sip.transport_list and ports. Port 0 picks a free
// port.
func WithListen(l []engine.Listen) Option {
	return func(o *options) { o.listen = slices.Clone(l) }
}

// WithUserAgent sets the User-Agent header and SDP s= line, overriding the
// settings' user_agent.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithUser sets the user part of the peer-to-peer account's URI (default
// "sipstreams").
func WithUser(user string) Option { return func(o *options) { o.user = user } }

// WithLogger sets the logger of the application and of what it starts.
// The default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithCenter sets the notification center the application, the engine,
// the registry and the sessions post to. The default is a new center of
// the application's own.
func WithCenter(c *notify.Center) Option { return func(o *options) { o.center = c } }

// WithRegistryOptions passes further options to the registry (start
// timeout, preferred plugins, checksums, ...). WithDir, WithCenter and
// WithLogger are set by the application.
func WithRegistryOptions(opts ...registry.Option) Option {
	return func(o *options) { o.regOpts = append(o.regOpts, opts...) }
}

// WithSIPTrace posts a "SIPEngineSIPTrace" notification for every SIP
// message, whatever the settings' logs.trace_sip says (the CLI's
// --trace-sip).
func WithSIPTrace(on bool) Option { return func(o *options) { o.traceSIP = on } }

// WithSIPTraceKeys shows the SRTP keys of SDP bodies in the SIP trace,
// whatever the settings' logs.trace_sip_keys says (the CLI's
// --trace-sip-keys); they are masked otherwise.
func WithSIPTraceKeys(on bool) Option { return func(o *options) { o.traceSIPKeys = on } }
