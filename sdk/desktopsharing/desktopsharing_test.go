package desktopsharing

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

func TestRoles(t *testing.T) {
	tests := []struct {
		remote string
		want   Role
		err    error
	}{
		{"", RoleServer, nil},
		{"active", RoleServer, nil},
		{" Passive ", RoleViewer, nil},
		{"actpass", "", sdk.ErrInvalidStream},
	}
	for _, tt := range tests {
		got, err := RoleForRemote(tt.remote)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("RoleForRemote(%q) = %q, %v; want %q, %v", tt.remote, got, err, tt.want, tt.err)
		}
		if tt.err == nil {
			// Our own setup is the other end of the remote's.
			if want := map[Role]string{RoleServer: SetupPassive, RoleViewer: SetupActive}[got]; got.Setup() != want {
				t.Errorf("%s.Setup() = %q", got, got.Setup())
			}
		}
	}
	for _, r := range []Role{"", "client"} {
		if err := r.Validate(); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Role(%q).Validate() = %v", r, err)
		}
	}
}

func TestParams(t *testing.T) {
	var p Params
	if err := json.Unmarshal([]byte(`{"role":"viewer","handler":"internal","viewer_timeout":2000000000}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Role != RoleViewer || p.Handler != HandlerInternal || p.ViewerTimeout != 2*time.Second || p.Validate() != nil {
		t.Fatalf("%+v: %v", p, p.Validate())
	}
	for _, bad := range []Params{{}, {Role: RoleServer, Handler: "vnc"}, {Role: RoleViewer, ViewerTimeout: -1}} {
		if err := bad.Validate(); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%+v: %v, want ErrInvalidArgument", bad, err)
		}
	}
	if h, err := ParseHandler(""); h != HandlerExternal || err != nil {
		t.Errorf("ParseHandler(\"\") = %q, %v", h, err)
	}
}

func TestVNCDisplayAddress(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:0":     "127.0.0.1:5900",
		"localhost:1":     "localhost:5901",
		"127.0.0.1::5999": "127.0.0.1:5999",
		"127.0.0.1:5901":  "127.0.0.1:5901",
		":2":              "127.0.0.1:5902",
		"[::1]:5900":      "[::1]:5900",
		"[::1]::7000":     "[::1]:7000",
		"host":            "",
		"host:0x10":       "",
		"host:70000":      "",
		"127.0.0.1::":     "",
	}
	for in, want := range tests {
		got, err := VNCDisplayAddress(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("VNCDisplayAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

type invoker func(req *sdk.InvokeRequest) (*sdk.InvokeResponse, error)

func (f invoker) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	return f(req)
}

func TestWrappers(t *testing.T) {
	var got []string
	s := invoker(func(req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
		got = append(got, req.Method+" "+string(req.Args))
		return sdk.Result(SendResult{Sent: 3})
	})
	if err := SendData(context.Background(), s, []byte("RFB")); err != nil {
		t.Fatal(err)
	}
	if err := AckData(context.Background(), s, 3); err != nil {
		t.Fatal(err)
	}
	if err := AckData(context.Background(), s, -1); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("AckData(-1): %v", err)
	}
	want := []string{`send_data {"data":"UkZC"}`, `ack_data {"bytes":3}`}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("invoked %q, want %q", got, want)
	}
}
