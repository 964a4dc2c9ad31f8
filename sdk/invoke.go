package sdk

import (
	"bytes"
	"context"
	"encoding/json"
)

// Invoker is anything that serves type-specific or plugin-scope methods: a
// Stream (stream scope) or a Provider (plugin scope).
type Invoker interface {
	Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error)
}

var (
	_ Invoker = Stream(nil)
	_ Invoker = Provider(nil)
)

// Call invokes method on inv with args marshalled to JSON (see
// MarshalJSONValue; nil sends no arguments) and decodes the JSON result into
// an R. An empty result gives R's zero value. A result that does not decode
// into R gives an error wrapping ErrInvalidArgument.
//
// Plugins build their typed wrappers on it, so callers never build maps by
// hand:
//
//	func Send(ctx context.Context, s sdk.Stream, payload string) (uint64, error) {
//		r, err := sdk.Call[SendResult](ctx, s, "send", SendArgs{Payload: payload})
//		return r.Seq, err
//	}
func Call[R any](ctx context.Context, inv Invoker, method string, args any) (R, error) {
	var out R
	raw, err := MarshalJSONValue(args)
	if err != nil {
		return out, err
	}
	res, err := inv.Invoke(ctx, &InvokeRequest{Method: method, Args: raw})
	if err != nil {
		return out, err
	}
	if res == nil || len(res.Result) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(res.Result, &out); err != nil {
		return out, Errorf(ErrInvalidArgument, "decode result of %s: %v", method, err)
	}
	return out, nil
}

// DecodeArgs decodes a method's JSON arguments into an A, the serving side
// of Call. The rule every method shares: no arguments (empty, white space
// only) and JSON null decode to A's zero value, so a method called without
// arguments sees the same as one called with its zero value; arguments that
// do not decode into an A give an error wrapping ErrInvalidArgument.
func DecodeArgs[A any](raw json.RawMessage) (A, error) {
	var args A
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return args, nil
	}
	if err := json.Unmarshal(raw, &args); err != nil {
		return args, Errorf(ErrInvalidArgument, "arguments: %v", err)
	}
	return args, nil
}

// Result returns v marshalled to JSON as an InvokeResponse (see
// MarshalJSONValue; nil gives an empty result).
func Result(v any) (*InvokeResponse, error) {
	raw, err := MarshalJSONValue(v)
	if err != nil {
		return nil, err
	}
	return &InvokeResponse{Result: raw}, nil
}

// HandleInvoke serves one stream-scope method in a Stream's Invoke: it
// decodes req's arguments into an A (DecodeArgs), calls f and returns its
// result (Result).
//
//	case MethodSend:
//		return sdk.HandleInvoke(req, s.send) // func (s *stream) send(SendArgs) (SendResult, error)
func HandleInvoke[A, R any](req *InvokeRequest, f func(A) (R, error)) (*InvokeResponse, error) {
	args, err := DecodeArgs[A](req.Args)
	if err != nil {
		return nil, err
	}
	res, err := f(args)
	if err != nil {
		return nil, err
	}
	return Result(res)
}

// Method adapts a plugin-scope method with typed arguments and result to a
// MethodFunc: the arguments are decoded with DecodeArgs before f runs.
func Method[A, R any](f func(ctx context.Context, args A, env *Env) (R, error)) MethodFunc {
	return func(ctx context.Context, raw json.RawMessage, env *Env) (any, error) {
		args, err := DecodeArgs[A](raw)
		if err != nil {
			return nil, err
		}
		return f(ctx, args, env)
	}
}
