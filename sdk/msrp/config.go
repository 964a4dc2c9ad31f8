package msrp

import (
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// Defaults of Config, taken from the reference SDK (msrplib).
const (
	DefaultChunkSize         = 2048
	DefaultResponseTimeout   = 30 * time.Second
	DefaultKeepAliveInterval = 60 * time.Second
	DefaultBindTimeout       = 30 * time.Second
	DefaultMaxActiveSends    = 16
)

// Direction tells a trace hook which way bytes went.
type Direction int

// Directions of traced data.
const (
	Inbound Direction = iota
	Outbound
)

// String returns "incoming" or "outgoing".
func (d Direction) String() string {
	if d == Inbound {
		return "incoming"
	}
	return "outgoing"
}

// Config tunes a connection. The zero value is usable: zero fields take
// the defaults above.
type Config struct {
	// ChunkSize is the largest body of one outgoing SEND chunk.
	ChunkSize int
	// ResponseTimeout bounds the wait for a transaction response; on
	// expiry the transaction completes with a local 408.
	ResponseTimeout time.Duration
	// KeepAliveInterval is the period of the keep-alive empty SEND; a
	// negative value disables keep-alives.
	KeepAliveInterval time.Duration
	// BindTimeout bounds binding: the active side's wait for the 200 to
	// its empty SEND, and how long an accepted connection may stay
	// without a session.
	BindTimeout time.Duration
	// MaxHeaderSize bounds an incoming start line plus headers.
	MaxHeaderSize int
	// ReadBufferSize is the connection's read buffer: the most one read
	// of the socket takes, and so the largest piece of a body a Handler
	// reads at once. Zero means 32 KiB; a stream that relays bulk data as
	// it arrives (desktop sharing) uses more, to cross fewer hops.
	ReadBufferSize int
	// MaxMessageSize bounds an incoming message; a larger one is refused
	// with 413. Zero means no limit.
	MaxMessageSize int64
	// MaxActiveSends is how many outgoing messages are interleaved at
	// once; further Sends block until one finishes (back-pressure).
	MaxActiveSends int
	// TLSConfig enables msrps: Dial uses it as client configuration,
	// Listen as server configuration.
	TLSConfig *tls.Config
	// Dialer opens connections; nil means a net.Dialer.
	Dialer *net.Dialer
	// Trace, when set, receives every byte read or written on the
	// connection. It must not retain data and must not block.
	Trace func(dir Direction, data []byte)
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ChunkSize <= 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.ResponseTimeout <= 0 {
		c.ResponseTimeout = DefaultResponseTimeout
	}
	if c.KeepAliveInterval == 0 {
		c.KeepAliveInterval = DefaultKeepAliveInterval
	}
	if c.BindTimeout <= 0 {
		c.BindTimeout = DefaultBindTimeout
	}
	if c.MaxHeaderSize <= 0 {
		c.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if c.MaxActiveSends <= 0 {
		c.MaxActiveSends = DefaultMaxActiveSends
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("component", "msrp")
	return c
}

// traceConn reports the bytes of a net.Conn to a trace hook.
type traceConn struct {
	net.Conn
	trace func(Direction, []byte)
}

func (t traceConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.trace(Inbound, p[:n])
	}
	return n, err
}

func (t traceConn) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if n > 0 {
		t.trace(Outbound, p[:n])
	}
	return n, err
}
