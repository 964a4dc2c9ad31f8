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

func TestDecodeArgs(t *testing.T) {
	type args struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name string
		raw  string
		want args
		err  error
	}{
		{"empty", "", args{}, nil},
		{"white space", " \r\n\t", args{}, nil},
		{"null", "null", args{}, nil},
		{"null with white space", " null\n", args{}, nil},
		{"empty object", "{}", args{}, nil},
		{"object", `{"name":"x","count":2}`, args{"x", 2}, nil},
		{"unknown fields are ignored", `{"name":"x","other":true}`, args{Name: "x"}, nil},
		{"wrong type", `{"count":"two"}`, args{}, ErrInvalidArgument},
		{"array", `[1]`, args{}, ErrInvalidArgument},
		{"malformed", `{"name":`, args{}, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeArgs[args](json.RawMessage(tt.raw))
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	// A pointer type decodes to nil for no arguments.
	if p, err := DecodeArgs[*args](nil); err != nil || p != nil {
		t.Fatalf("DecodeArgs[*args](nil) = %v, %v", p, err)
	}
}

func TestHandleInvoke(t *testing.T) {
	double := func(n int) (int, error) {
		if n < 0 {
			return 0, Errorf(ErrIllegalState, "negative")
		}
		return 2 * n, nil
	}
	tests := []struct {
		args   string
		result string
		err    error
	}{
		{"21", "42", nil},
		{"", "0", nil}, // no arguments: the zero value
		{`"x"`, "", ErrInvalidArgument},
		{"-1", "", ErrIllegalState},
	}
	for _, tt := range tests {
		res, err := HandleInvoke(&InvokeRequest{Method: "double", Args: json.RawMessage(tt.args)}, double)
		if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Fatalf("HandleInvoke(%q): error %v, want %v", tt.args, err, tt.err)
		}
		if err == nil && string(res.Result) != tt.result {
			t.Fatalf("HandleInvoke(%q) = %s, want %s", tt.args, res.Result, tt.result)
		}
	}
	if res, err := Result(nil); err != nil || res.Result != nil {
		t.Fatalf("Result(nil) = %+v, %v", res, err)
	}
	if _, err := Result(func() {}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Result(func) error %v", err)
	}
}

func TestMethod(t *testing.T) {
	type args struct {
		N int `json:"n"`
	}
	var seen *Env
	f := Method(func(_ context.Context, a args, env *Env) (int, error) {
		seen = env
		return a.N + 1, nil
	})
	env := &Env{Handle: 7}
	got, err := f(t.Context(), json.RawMessage(`{"n":1}`), env)
	if err != nil || got != 2 || seen != env {
		t.Fatalf("Method = %v, %v (env %v)", got, err, seen)
	}
	if got, err := f(t.Context(), nil, env); err != nil || got != 1 {
		t.Fatalf("Method without args = %v, %v", got, err)
	}
	if _, err := f(t.Context(), json.RawMessage(`[]`), env); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Method with bad args: %v", err)
	}
}

func TestReadAttributes(t *testing.T) {
	type own struct {
		Codec string `json:"codec"`
	}
	tests := []struct {
		name  string
		attrs func() (*Attributes, error)
		want  own
		err   bool
	}{
		{"own attributes", func() (*Attributes, error) { return NewAttributes(own{"PCMU"}) }, own{"PCMU"}, false},
		{"none", func() (*Attributes, error) { return NewAttributes(nil) }, own{}, false},
		{"not an object", func() (*Attributes, error) { return &Attributes{Extra: json.RawMessage(`[1]`)}, nil }, own{}, true},
		{"stream error", func() (*Attributes, error) { return nil, Errorf(ErrIllegalState, "ended") }, own{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := attrStream{f: tt.attrs}
			a, got, err := ReadAttributes[own](t.Context(), s)
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error %t", err, tt.err)
			}
			if err == nil && (a == nil || got != tt.want || a.HoldSupported) {
				t.Fatalf("ReadAttributes = %+v, %+v", a, got)
			}
		})
	}
}

// attrStream is a Stream whose Attributes is f.
type attrStream struct {
	UnimplementedStream
	f func() (*Attributes, error)
}

func (s attrStream) Attributes(context.Context) (*Attributes, error) { return s.f() }
