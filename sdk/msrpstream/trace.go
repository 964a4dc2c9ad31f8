package msrpstream

import (
	"crypto/tls"

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

// msrpConfig is the connection configuration of the stream: cfg.MSRP with
// the TLS configuration of its role and, when the account traces MSRP and
// the vendor set no trace of its own, one posting TransportTrace.
func (b *Base) msrpConfig(tlsConfig *tls.Config) msrp.Config {
	cfg := b.cfg.MSRP
	cfg.TLSConfig = tlsConfig
	if cfg.Trace == nil && b.account.Setting(SettingTraceMSRP, "false") == "true" && b.env != nil {
		env := b.env
		cfg.Trace = func(dir msrp.Direction, data []byte) {
			env.Post(TransportTrace, TraceData{Direction: dir.String(), Data: string(data)})
		}
	}
	return cfg
}
