package sdk

import (
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
