package sdk

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestSentinelsSurviveTheWire(t *testing.T) {
	// The gRPC code each sentinel travels with, so plugins written in other
	// languages can be read even without the ErrorInfo detail.
	codeOf := map[error]codes.Code{
		ErrUnknownStream:     codes.NotFound,
		ErrInvalidStream:     codes.InvalidArgument,
		ErrStreamNotFound:    codes.NotFound,
		ErrIllegalState:      codes.FailedPrecondition,
		ErrNotImplemented:    codes.Unimplemented,
		ErrUnknownMethod:     codes.NotFound,
		ErrInvalidArgument:   codes.InvalidArgument,
		ErrPluginUnavailable: codes.Unavailable,
		ErrInternal:          codes.Internal,
		ErrContractVersion:   codes.FailedPrecondition,
		ErrBusy:              codes.ResourceExhausted,
	}
	if len(codeOf) != len(kinds) {
		t.Fatalf("test covers %d sentinels, errors.go declares %d", len(codeOf), len(kinds))
	}
	for i, k := range kinds {
		t.Run(k.reason, func(t *testing.T) {
			reason := fmt.Sprintf("reason %d: no common codec", i)
			for _, err := range []error{
				Errorf(k.err, "%s", reason),
				fmt.Errorf("while opening: %w", Errorf(k.err, "%s", reason)),
			} {
				wire := toStatus(err)
				if got := status.Code(wire); got != codeOf[k.err] {
					t.Errorf("code %s, want %s", got, codeOf[k.err])
				}
				back := fromStatus(wire)
				if !errors.Is(back, k.err) {
					t.Fatalf("fromStatus(toStatus(%v)) = %v, not %v", err, back, k.err)
				}
				for _, other := range kinds {
					if other.err != k.err && errors.Is(back, other.err) {
						t.Errorf("%v also is %v", back, other.err)
					}
				}
				if got := ReasonOf(back); got != reason {
					t.Errorf("reason %q, want %q", got, reason)
				}
			}
		})
	}
}

func TestPlainErrorsCrossAsInternal(t *testing.T) {
	back := fromStatus(toStatus(errors.New("disk on fire")))
	if !errors.Is(back, ErrInternal) || ReasonOf(back) != "disk on fire" {
		t.Fatalf("got %v", back)
	}
	// A bare sentinel keeps its kind.
	if back := fromStatus(toStatus(ErrIllegalState)); !errors.Is(back, ErrIllegalState) {
		t.Fatalf("got %v", back)
	}
	if toStatus(nil) != nil || fromStatus(nil) != nil {
		t.Fatal("nil must stay nil")
	}
}

func TestContextErrorsCross(t *testing.T) {
	for _, want := range []error{context.Canceled, context.DeadlineExceeded} {
		for _, err := range []error{want, fmt.Errorf("waiting: %w", want)} {
			if back := fromStatus(toStatus(err)); !errors.Is(back, want) {
				t.Errorf("fromStatus(toStatus(%v)) = %v", err, back)
			}
		}
	}
}

// TestStatusWithoutDetails: a status from gRPC itself, or from a plugin
// written without the SDK, carries no ErrorInfo.
func TestStatusWithoutDetails(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{status.Error(codes.Internal, "boom"), ErrInternal},
		{status.Error(codes.Unknown, "boom"), ErrInternal},
		{status.Error(codes.InvalidArgument, "boom"), ErrInternal},
		{status.Error(codes.Unavailable, "connection refused"), ErrPluginUnavailable},
		{status.Error(codes.Unimplemented, "unknown method Foo"), ErrNotImplemented},
		{status.Error(codes.Canceled, "canceled"), context.Canceled},
		{status.Error(codes.DeadlineExceeded, "deadline"), context.DeadlineExceeded},
		{errors.New("not a status at all"), ErrPluginUnavailable},
	}
	for _, tt := range tests {
		if got := fromStatus(tt.err); !errors.Is(got, tt.want) {
			t.Errorf("fromStatus(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got := fromStatus(status.Error(codes.Unavailable, "connection refused")); ReasonOf(got) != "connection refused" {
		t.Errorf("reason %q", ReasonOf(got))
	}
}

func TestForeignErrorInfo(t *testing.T) {
	st, err := status.New(codes.Unavailable, "elsewhere").WithDetails(&errdetails.ErrorInfo{Reason: "INVALID_STREAM", Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fromStatus(st.Err()); !errors.Is(got, ErrPluginUnavailable) || errors.Is(got, ErrInvalidStream) {
		t.Errorf("foreign detail decoded: %v", got)
	}
	st, err = status.New(codes.Internal, "newer").WithDetails(&errdetails.ErrorInfo{Reason: "FROM_THE_FUTURE", Domain: errorDomain})
	if err != nil {
		t.Fatal(err)
	}
	if got := fromStatus(st.Err()); !errors.Is(got, ErrInternal) {
		t.Errorf("unknown reason decoded as %v", got)
	}
}

func TestStreamError(t *testing.T) {
	err := Errorf(ErrInvalidStream, "port %d", 0)
	if err.Error() != "invalid stream: port 0" || ReasonOf(err) != "port 0" {
		t.Errorf("got %q / %q", err.Error(), ReasonOf(err))
	}
	if got := (&StreamError{Kind: ErrInternal}).Error(); got != "internal plugin error" {
		t.Errorf("got %q", got)
	}
	if ReasonOf(nil) != "" || ReasonOf(errors.New("x")) != "x" {
		t.Error("ReasonOf")
	}
}
