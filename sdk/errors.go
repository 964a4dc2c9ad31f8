package sdk

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors of the plugin contract. They survive the gRPC boundary:
// errors.Is gives the same answer in-process and out-of-process.
var (
	// ErrUnknownStream means "not my type": the next stream type is tried
	// (the reference's UnknownStreamError).
	ErrUnknownStream = errors.New("unknown stream")
	// ErrInvalidStream means "my type, but unacceptable": dispatch stops and
	// the m-line is refused (the reference's InvalidStreamError).
	ErrInvalidStream = errors.New("invalid stream")
	// ErrStreamNotFound means the stream handle is not (or no longer) known.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrIllegalState means the call is not allowed in the stream's state.
	ErrIllegalState = errors.New("illegal state")
	// ErrNotImplemented is returned by UnimplementedStream for mandatory methods.
	ErrNotImplemented = errors.New("not implemented")
	// ErrUnknownMethod means Invoke was asked for a method the stream or plugin does not serve.
	ErrUnknownMethod = errors.New("unknown method")
	// ErrInvalidArgument means a request's arguments are malformed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrPluginUnavailable means the plugin process is gone (crashed, exited or being restarted).
	ErrPluginUnavailable = errors.New("plugin unavailable")
	// ErrInternal is a failure inside the plugin, such as a recovered panic.
	ErrInternal = errors.New("internal plugin error")
	// ErrContractVersion means host and plugin speak incompatible contract versions.
	ErrContractVersion = errors.New("contract version mismatch")
	// ErrBusy means "my type, acceptable, but not now": the plugin is at
	// one of its resource limits (streams alive, ports) and refuses the
	// stream for the time being. Dispatch stops as for ErrInvalidStream;
	// an incoming session refused for this alone is answered 503 Service
	// Unavailable with Retry-After rather than 488, so that callers retry
	// later. A host older than the kind sees ErrInternal (the m-line is
	// refused just the same).
	ErrBusy = errors.New("busy")
)

// kinds maps the wire reason of each sentinel; the order is irrelevant.
var kinds = []struct {
	reason string
	err    error
}{
	{"UNKNOWN_STREAM", ErrUnknownStream},
	{"INVALID_STREAM", ErrInvalidStream},
	{"STREAM_NOT_FOUND", ErrStreamNotFound},
	{"ILLEGAL_STATE", ErrIllegalState},
	{"NOT_IMPLEMENTED", ErrNotImplemented},
	{"UNKNOWN_METHOD", ErrUnknownMethod},
	{"INVALID_ARGUMENT", ErrInvalidArgument},
	{"PLUGIN_UNAVAILABLE", ErrPluginUnavailable},
	{"INTERNAL", ErrInternal},
	{"CONTRACT_VERSION", ErrContractVersion},
	{"BUSY", ErrBusy},
}

func reasonOf(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.reason
		}
	}
	return "INTERNAL"
}

func kindOf(reason string) error {
	for _, k := range kinds {
		if k.reason == reason {
			return k.err
		}
	}
	return ErrInternal
}

// StreamError is an error of a given kind (one of the sentinels) with a
// human-readable reason, such as "no common codec".
type StreamError struct {
	Kind   error
	Reason string
	cause  error // the vendor's own error, in-process only
}

// Error returns the reason, prefixed by the kind.
func (e *StreamError) Error() string {
	if e.Reason == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Reason
}

// Unwrap returns the kind, so errors.Is(err, ErrInvalidStream) works, and
// in-process also the vendor's own error it stands for.
func (e *StreamError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

// normalize makes an error from vendor code look the same in-process as it
// does over the wire: an error of none of the sentinel kinds becomes
// ErrInternal (still wrapping the original in-process).
func normalize(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return err
		}
	}
	return &StreamError{Kind: ErrInternal, Reason: err.Error(), cause: err}
}

// Errorf returns a *StreamError of the given kind with a formatted reason.
func Errorf(kind error, format string, args ...any) error {
	return &StreamError{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the reason of a *StreamError in err's chain, or err's text.
func ReasonOf(err error) string {
	if err == nil {
		return ""
	}
	var se *StreamError
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason
	}
	return err.Error()
}
