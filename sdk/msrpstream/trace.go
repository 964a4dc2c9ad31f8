package msrpstream

import (
	"context"
	"crypto/tls"
	"log/slog"
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// SettingTraceMSRP is the account setting (the host's logs.trace_msrp)
// that makes a stream post every MSRP byte it sends or receives as
// TransportTrace notifications.
const SettingTraceMSRP = "logs.trace_msrp"

// TransportTrace is the reference's MSRPTransportTrace, posted by the
// stream for each piece of MSRP data read or written while tracing is on
// (TraceData).
const TransportTrace = "MSRPTransportTrace"

// TraceData is the data of TransportTrace.
type TraceData struct {
	// Direction is "incoming" or "outgoing".
	Direction string `json:"direction"`
	// Data is the MSRP data as it went on the wire (TLS decrypted).
	Data string `json:"data"`
}

// LibraryLog is the reference's MSRPLibraryLog: what the MSRP library
// logs (connections made and closed, malformed input, refused peers),
// posted by the stream while tracing is on (LibraryLogData). The
// reference posts it anonymously; here the stream whose connection
// logged is the sender.
const LibraryLog = "MSRPLibraryLog"

// LibraryLogData is the data of LibraryLog.
type LibraryLogData struct {
	// Message is the log line: its message and attributes.
	Message string `json:"message"`
	// Level is DEBUG, INFO, WARNING or ERROR, as the reference's.
	Level string `json:"level"`
}

// msrpConfig is the connection configuration of the stream: cfg.MSRP with
// the TLS configuration of its role and, when the account traces MSRP and
// the vendor set no trace of its own, one posting TransportTrace and a
// logger posting LibraryLog.
func (b *Base) msrpConfig(tlsConfig *tls.Config) msrp.Config {
	cfg := b.cfg.MSRP
	cfg.TLSConfig = tlsConfig
	if cfg.Trace == nil && b.account.Setting(SettingTraceMSRP, "false") == "true" && b.env != nil {
		env := b.env
		cfg.Trace = func(dir msrp.Direction, data []byte) {
			env.Post(TransportTrace, TraceData{Direction: dir.String(), Data: string(data)})
		}
		next := cfg.Logger
		if next == nil {
			next = slog.Default()
		}
		cfg.Logger = slog.New(&libraryLog{next: next.Handler(), post: env.Notifier})
	}
	return cfg
}

// libraryLog posts every record of the MSRP library as LibraryLog, and
// hands it on to the logger it replaces.
type libraryLog struct {
	next  slog.Handler
	post  sdk.Notifier
	attrs []slog.Attr
}

func (h *libraryLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *libraryLog) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		if a.Key != "component" {
			b.WriteString(" " + a.Key + "=" + a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.post.Post(LibraryLog, LibraryLogData{Message: b.String(), Level: levelName(r.Level)})
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *libraryLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &libraryLog{next: h.next.WithAttrs(as), post: h.post, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *libraryLog) WithGroup(name string) slog.Handler {
	return &libraryLog{next: h.next.WithGroup(name), post: h.post, attrs: h.attrs}
}

// levelName is the reference's name of a level.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}
