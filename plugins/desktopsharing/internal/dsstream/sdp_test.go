package dsstream

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	ds "github.com/sipstreams/sipstreams/sdk/desktopsharing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	portRE = regexp.MustCompile(`(m=application |msrps?://127\.0\.0\.1:)\d+`)
	sidRE  = regexp.MustCompile(`(msrps?://127\.0\.0\.1:PORT/)[^;]+`)
)

func normalizeSDP(s string) string {
	s = portRE.ReplaceAllString(s, "${1}PORT")
	return sidRE.ReplaceAllString(s, "${1}SESSION")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got %q\nwant %q", path, got, want)
	}
}

// TestSDPGolden: the offers and answers of both roles, as the reference's
// clients expect them (testdata/*.sdp).
func TestSDPGolden(t *testing.T) {
	ctx := context.Background()
	for _, role := range []ds.Role{ds.RoleViewer, ds.RoleServer} {
		t.Run(string(role), func(t *testing.T) {
			su := setup{offer: ds.Params{Role: role, Handler: ds.HandlerInternal}, answer: map[string]string{ds.SettingHandler: "internal"}}
			o, a := negotiate(t, su)
			offer, err := o.s.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
			if err != nil {
				t.Fatal(err)
			}
			answer, err := a.s.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: sessionHead + offer.Media})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, string(role)+"-offer.sdp", normalizeSDP(offer.Media))
			golden(t, string(role)+"-answer.sdp", normalizeSDP(answer.Media))
			_, aa, _ := ds.ReadAttributes(ctx, a.s)
			if want := map[ds.Role]ds.Role{ds.RoleViewer: ds.RoleServer, ds.RoleServer: ds.RoleViewer}[role]; aa.Role != want {
				t.Errorf("answerer's role %s, want %s", aa.Role, want)
			}
		})
	}
}

// TestNewFromSDPRefuses: offers that are not desktop sharing, or that it
// cannot take.
func TestNewFromSDPRefuses(t *testing.T) {
	acc := &sdk.Account{ID: "bob", Settings: map[string]string{"msrp.transport": "tcp"}}
	tests := []struct {
		name, media string
		want        error
	}{
		{"other accept-types", "m=application 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/x;tcp\r\na=accept-types:text/plain\r\n", sdk.ErrUnknownStream},
		{"bad rfbsetup", "m=application 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/x;tcp\r\na=accept-types:application/x-rfb\r\na=rfbsetup:both\r\n", sdk.ErrInvalidStream},
		{"sendonly", "m=application 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/x;tcp\r\na=accept-types:application/x-rfb\r\na=sendonly\r\n", sdk.ErrInvalidStream},
		{"other transport", "m=application 9 TCP/TLS/MSRP *\r\na=path:msrps://127.0.0.1:9/x;tcp\r\na=accept-types:application/x-rfb\r\n", sdk.ErrInvalidStream},
	}
	for _, tt := range tests {
		_, err := newFromSDP(context.Background(), &sdk.NewFromSDPRequest{Account: acc, RemoteSDP: sessionHead + tt.media}, newEnd(nil).env)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	bad := &sdk.Account{ID: "bob", Settings: map[string]string{"msrp.transport": "tcp", ds.SettingHandler: "vnc"}}
	if _, err := newFromSDP(context.Background(), &sdk.NewFromSDPRequest{Account: bad, RemoteSDP: sessionHead + tests[0].media}, newEnd(nil).env); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("bad handler setting: %v", err)
	}
}

// TestCreateNeedsRole: no stream is made without the application saying
// which screen is shared (an INVITE without SDP never offers one).
func TestCreateNeedsRole(t *testing.T) {
	for _, params := range []string{"", "null", "{}", `{"role":"both"}`, `{"role":"viewer","handler":"x"}`, `[`} {
		_, err := create(context.Background(), &sdk.CreateRequest{Type: ds.Type, Params: []byte(params)}, newEnd(nil).env)
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Create(%q): %v, want ErrInvalidArgument", params, err)
		}
	}
}

// FuzzNewFromSDP: whatever offer arrives, NewFromSDP returns a stream
// whose role follows the offer, or an error; it never panics.
func FuzzNewFromSDP(f *testing.F) {
	for _, name := range []string{"viewer-offer.sdp", "server-offer.sdp", "viewer-answer.sdp", "server-answer.sdp"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sessionHead + portRE.ReplaceAllString(sidRE.ReplaceAllString(string(b), "${1}abc"), "${1}9"))
	}
	f.Add(sessionHead + "m=application 9 TCP/MSRP *\r\na=rfbsetup:\r\n")
	acc := &sdk.Account{ID: "bob", Settings: map[string]string{"msrp.transport": "tcp", ds.SettingHandler: "internal"}}
	f.Fuzz(func(t *testing.T, offer string) {
		st, err := newFromSDP(context.Background(), &sdk.NewFromSDPRequest{Account: acc, RemoteSDP: offer}, newEnd(nil).env)
		if err != nil {
			return
		}
		s := st.(*stream)
		want, err := ds.RoleForRemote(setupOf(s.Raw.Offer()))
		if err != nil || s.role != want {
			t.Fatalf("role %s for a=rfbsetup %q", s.role, setupOf(s.Raw.Offer()))
		}
		_ = s.End(context.Background())
	})
}
