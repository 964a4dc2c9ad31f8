package streamtest

import (
	"net"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// Option configures Run, RunBinary and RunProvider.
type Option func(*config)

type config struct {
	account *sdk.Account
	localIP string
	params  map[string]any
	timeout time.Duration
	types   []string
}

// DefaultTimeout bounds each wait for a notification and each call into the
// plugin unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

func newConfig(opts []Option) *config {
	c := &config{
		account: &sdk.Account{ID: "streamtest", URI: "sip:streamtest@127.0.0.1", DisplayName: "streamtest"},
		localIP: "127.0.0.1",
		params:  map[string]any{},
		timeout: DefaultTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithAccount sets the account passed to Create and NewFromSDP. The default
// is an account with ID "streamtest" and no settings.
func WithAccount(a *sdk.Account) Option { return func(c *config) { c.account = a } }

// WithLocalIP sets SessionInfo.LocalIP and the address of the c= lines the
// suite writes (IN IP6 when ip is an IPv6 address). Default: 127.0.0.1.
func WithLocalIP(ip string) Option { return func(c *config) { c.localIP = ip } }

// WithCreateParams sets the constructor parameters passed to Create for
// streamType (marshalled to JSON), such as a file transfer's file selector.
func WithCreateParams(streamType string, params any) Option {
	return func(c *config) { c.params[streamType] = params }
}

// WithTimeout bounds each wait for a notification and each call into the
// plugin. Default: DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithTypes restricts the suite to the named stream types of the manifest.
// Naming a type the manifest does not declare fails the suite.
func WithTypes(types ...string) Option {
	return func(c *config) { c.types = append([]string(nil), types...) }
}

// addrType returns the SDP address type of ip: "IP6" for IPv6, else "IP4".
func addrType(ip string) string {
	if a := net.ParseIP(ip); a != nil && a.To4() == nil {
		return "IP6"
	}
	return "IP4"
}
