package sdk

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const errorDomain = "sipstreams"

// toStatus turns an SDK error into a gRPC status carrying the sentinel's
// reason and the human-readable reason, so the client can rebuild it.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var code codes.Code
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, ErrInvalidStream), errors.Is(err, ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrUnknownStream), errors.Is(err, ErrStreamNotFound), errors.Is(err, ErrUnknownMethod):
		code = codes.NotFound
	case errors.Is(err, ErrIllegalState), errors.Is(err, ErrContractVersion):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrNotImplemented):
		code = codes.Unimplemented
	case errors.Is(err, ErrPluginUnavailable):
		code = codes.Unavailable
	case errors.Is(err, ErrBusy):
		code = codes.ResourceExhausted
	default:
		code = codes.Internal
	}
	st := status.New(code, err.Error())
	detailed, derr := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   reasonOf(err),
		Domain:   errorDomain,
		Metadata: map[string]string{"reason": wireReason(err)},
	})
	if derr != nil {
		return st.Err()
	}
	return detailed.Err()
}

// fromStatus rebuilds an SDK error from a gRPC error.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return Errorf(ErrPluginUnavailable, "%v", err)
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == errorDomain {
			return &StreamError{Kind: kindOf(info.GetReason()), Reason: info.GetMetadata()["reason"]}
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	case codes.Unavailable:
		return Errorf(ErrPluginUnavailable, "%s", st.Message())
	case codes.Unimplemented:
		return Errorf(ErrNotImplemented, "%s", st.Message())
	}
	return Errorf(ErrInternal, "%s: %s", st.Code(), st.Message())
}

// wireReason is the human-readable part of err: empty for a bare sentinel,
// so the rebuilt error does not say its kind twice.
func wireReason(err error) string {
	var se *StreamError
	if errors.As(err, &se) {
		return se.Reason
	}
	for _, k := range kinds {
		if err == k.err {
			return ""
		}
	}
	return err.Error()
}
