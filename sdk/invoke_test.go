package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// invokerFunc adapts a function to Invoker.
type invokerFunc func(context.Context, *InvokeRequest) (*InvokeResponse, error)

func (f invokerFunc) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	return f(ctx, req)
}

func TestCall(t *testing.T) {
	ctx := t.Context()
	var seen *InvokeRequest
	echo := invokerFunc(func(_ context.Context, req *InvokeRequest) (*InvokeResponse, error) {
		seen = req
		return &InvokeResponse{Result: req.Args}, nil
	})
	type pair struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	got, err := Call[pair](ctx, echo, "m", pair{1, "x"})
	if err != nil || got != (pair{1, "x"}) || seen.Method != "m" || string(seen.Args) != `{"a":1,"b":"x"}` {
		t.Fatalf("Call = %+v, %v (request %+v)", got, err, seen)
	}
	// No arguments, no result: the zero value.
	got, err = Call[pair](ctx, echo, "m", nil)
	if err != nil || got != (pair{}) || seen.Args != nil {
		t.Fatalf("Call without args = %+v, %v", got, err)
	}
	nothing := invokerFunc(func(context.Context, *InvokeRequest) (*InvokeResponse, error) { return nil, nil })
	if got, err := Call[pair](ctx, nothing, "m", nil); err != nil || got != (pair{}) {
		t.Fatalf("Call with a nil response = %+v, %v", got, err)
	}
	// Arguments that do not marshal, results that do not decode.
	if _, err := Call[pair](ctx, echo, "m", func() {}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unmarshalable args: %v", err)
	}
	if _, err := Call[pair](ctx, echo, "m", json.RawMessage(`"text"`)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("undecodable result: %v", err)
	}
	// Errors pass through untouched.
	refuse := invokerFunc(func(context.Context, *InvokeRequest) (*InvokeResponse, error) {
		return nil, Errorf(ErrIllegalState, "held")
	})
	if _, err := Call[pair](ctx, refuse, "m", nil); !errors.Is(err, ErrIllegalState) || ReasonOf(err) != "held" {
		t.Fatalf("error %v", err)
	}
}
