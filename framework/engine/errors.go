package engine

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
)

// Sentinel errors of the engine package.
var (
	// ErrTLS is matched (with errors.Is) by every *TLSError: a "tls"
	// listener was configured but no usable server certificate was given.
	// The application reacts as the reference does to a TLS failure
	// (SIPApplicationFailedToStartTLS) and may start again with
	// [Config.WithoutTLS].
	ErrTLS = errors.New("engine: TLS unavailable")
	// ErrNoRoute is matched by every *NoRouteError: [Engine.Lookup] found
	// no address to send a request to, or a request names a destination
	// the engine cannot reach with the transports it listens on.
	ErrNoRoute = errors.New("engine: no route")
	// ErrUnsupportedTransport is wrapped by a *NoRouteError when the
	// transport a URI or request asks for (or the address family of its
	// destination) has no listener in this engine.
	ErrUnsupportedTransport = errors.New("engine: transport not supported")
	// ErrListen is matched by every *ListenError: a listener could not be
	// bound by [Engine.Start].
	ErrListen = errors.New("engine: cannot listen")
	// ErrClosed is returned by operations on an engine after [Engine.Close].
	ErrClosed = errors.New("engine: closed")
	// ErrNotStarted is returned when sending on an engine that has not been
	// started.
	ErrNotStarted = errors.New("engine: not started")
	// ErrStarted is returned by [Engine.Start] on a running engine.
	ErrStarted = errors.New("engine: already started")
	// ErrInvalidConfig is matched by the errors of [Config.Validate].
	ErrInvalidConfig = errors.New("engine: invalid configuration")
)

// TLSError reports why TLS could not be set up for the "tls" listeners.
// It matches [ErrTLS] and unwraps to the underlying cause (a file or
// certificate parsing error), if any.
type TLSError struct {
	// CertFile and KeyFile are the configured file names ("" when a
	// TLSConfig was given instead, or nothing was configured).
	CertFile, KeyFile string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, or nil.
	Err error
}

func (e *TLSError) Error() string {
	s := "engine: TLS unavailable: " + e.Reason
	if e.CertFile != "" {
		s += " (certificate " + e.CertFile
		if e.KeyFile != "" && e.KeyFile != e.CertFile {
			s += ", key " + e.KeyFile
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrTLS].
func (e *TLSError) Is(target error) bool { return target == ErrTLS }

// Unwrap returns the underlying error.
func (e *TLSError) Unwrap() error { return e.Err }

// ListenError reports a listener that [Engine.Start] could not bind. It
// matches [ErrListen] and unwraps to the socket error.
type ListenError struct {
	// Listen is the listener as configured.
	Listen Listen
	// Err is the error from the operating system.
	Err error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("engine: cannot listen on %s %s: %v", e.Listen.Transport, e.Listen.Address, e.Err)
}

// Is reports whether target is [ErrListen].
func (e *ListenError) Is(target error) bool { return target == ErrListen }

// Unwrap returns the socket error.
func (e *ListenError) Unwrap() error { return e.Err }

// NoRouteError reports that no route was found for a destination. It
// matches [ErrNoRoute] and unwraps to the cause: a *net.DNSError from the
// resolver, [ErrUnsupportedTransport], or nil.
type NoRouteError struct {
	// Target is the URI or host that was looked up.
	Target string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, or nil.
	Err error
}

func (e *NoRouteError) Error() string {
	s := "engine: no route to " + e.Target
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrNoRoute].
func (e *NoRouteError) Is(target error) bool { return target == ErrNoRoute }

// Unwrap returns the underlying error.
func (e *NoRouteError) Unwrap() error { return e.Err }

// ConfigError reports an invalid [Config] field. It matches
// [ErrInvalidConfig].
type ConfigError struct {
	// Field names the offending field, for example "Listen[1].Address".
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *ConfigError) Error() string {
	return "engine: invalid configuration: " + e.Field + ": " + e.Reason
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// ErrHandshake is matched by every *HandshakeError: a TLS connection the
// engine opened failed its handshake.
var ErrHandshake = errors.New("engine: TLS handshake failed")

// HandshakeError reports a TLS connection to a peer that failed its
// handshake, most often because the peer's certificate could not be
// verified (Config.ClientTLSConfig: the system's roots and the
// application's tls.ca_list). It matches [ErrHandshake] and unwraps to
// crypto/tls's error (an x509.UnknownAuthorityError, x509.HostnameError,
// x509.CertificateInvalidError inside a *tls.CertificateVerificationError
// for a certificate that is not trusted).
type HandshakeError struct {
	// Address is the peer's "ip:port".
	Address string
	// ServerName is the name the certificate was checked against.
	ServerName string
	// Err is crypto/tls's error.
	Err error
}

func (e *HandshakeError) Error() string {
	s := "engine: TLS handshake with " + e.Address
	if host, _, _ := net.SplitHostPort(e.Address); e.ServerName != "" && e.ServerName != host {
		s += " (" + e.ServerName + ")"
	}
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(e.Err, &unknown):
		return s + " failed: the server's certificate is not signed by a trusted authority: " + unknown.Error()
	case errors.As(e.Err, &host):
		return s + " failed: the server's certificate is not valid for that name: " + host.Error()
	case errors.As(e.Err, &invalid):
		return s + " failed: the server's certificate is not valid: " + invalid.Error()
	case errors.As(e.Err, &verr):
		return s + " failed: the server's certificate could not be verified: " + verr.Err.Error()
	}
	return s + " failed: " + e.Err.Error()
}

// Is reports whether target is [ErrHandshake].
func (e *HandshakeError) Is(target error) bool { return target == ErrHandshake }

// Unwrap returns crypto/tls's error.
func (e *HandshakeError) Unwrap() error { return e.Err }
