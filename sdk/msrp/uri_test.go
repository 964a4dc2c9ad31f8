package msrp

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in   string
		want URI
		str  string // canonical String(); "" means same as in
	}{
		{"msrp://atlanta.example.com:7654/jshA7weztas;tcp",
			URI{Host: "atlanta.example.com", Port: 7654, SessionID: "jshA7weztas", Transport: "tcp"}, ""},
		{"msrps://bob@biloxi.example.com:12763/kjhd37s2s20w2a;tcp",
			URI{Secure: true, User: "bob", Host: "biloxi.example.com", Port: 12763, SessionID: "kjhd37s2s20w2a", Transport: "tcp"}, ""},
		{"MSRPS://Relay.Example.com;tcp",
			URI{Secure: true, Host: "Relay.Example.com", Transport: "tcp"}, "msrps://Relay.Example.com;tcp"},
		{"msrp://[2001:db8::1]:2855/abc;tcp",
			URI{Host: "2001:db8::1", Port: 2855, SessionID: "abc", Transport: "tcp"}, ""},
		{"msrp://[::1]/s;tcp", URI{Host: "::1", SessionID: "s", Transport: "tcp"}, ""},
		{"msrp://10.0.0.1:1/a+b=c/d;tcp;foo=bar;baz",
			URI{Host: "10.0.0.1", Port: 1, SessionID: "a+b=c/d", Transport: "tcp",
				Params: []Param{{"foo", "bar"}, {"baz", ""}}}, ""},
		{"msrp://h;TCP", URI{Host: "h", Transport: "TCP"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURI(tt.in)
			if err != nil {
				t.Fatalf("ParseURI: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if s := got.String(); s != want {
				t.Fatalf("String() = %q, want %q", s, want)
			}
		})
	}
}

func TestParseURIInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"sip:alice@example.com",
		"msrp://host/sess",        // no transport
		"msrp://host",             // no transport
		"msrp://host:/s;tcp",      // empty port
		"msrp://host:0/s;tcp",     // port out of range
		"msrp://host:65536/s;tcp", // port out of range
		"msrp://host:12a/s;tcp",   // port not numeric
		"msrp://[::1/s;tcp",       // unterminated literal
		"msrp://[example.com]/s;tcp",
		"msrp://[::1]x/s;tcp",
		"msrp:///s;tcp",        // no host
		"msrp://host/;tcp",     // empty session id
		"msrp://host/s s;tcp",  // space in session id
		"msrp://host/s;",       // empty transport
		"msrp://host/s;tcp;;x", // empty param
		"msrp://@host/s;tcp",   // empty userinfo
		"msrp://ho st/s;tcp",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseURI(in)
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("ParseURI(%q) err = %v, want ErrInvalidURI", in, err)
			}
		})
	}
}

func TestURIEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"msrp://host:1/abc;tcp", "MSRP://HOST:1/abc;TCP", true},
		{"msrp://alice@host:1/abc;tcp", "msrp://bob@host:1/abc;tcp", true},
		{"msrp://host:1/abc;tcp;x=y", "msrp://host:1/abc;tcp", true},
		{"msrp://host:1/abc;tcp", "msrp://host:1/ABC;tcp", false},
		{"msrp://host:1/abc;tcp", "msrps://host:1/abc;tcp", false},
		{"msrp://host/abc;tcp", "msrp://host:2855/abc;tcp", false},
		{"msrp://host:1/abc;tcp", "msrp://host:2/abc;tcp", false},
		{"msrp://[2001:DB8::1]:1/a;tcp", "msrp://[2001:db8::1]:1/a;tcp", true},
		{"msrp://host:1/abc;tcp", "msrp://host:1/abc;udp", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			a, b := MustParseURI(tt.a), MustParseURI(tt.b)
			if got := a.Equal(b); got != tt.want {
				t.Fatalf("Equal = %v, want %v", got, tt.want)
			}
			if got := b.Equal(a); got != tt.want {
				t.Fatalf("Equal not symmetric")
			}
		})
	}
}

func TestURIAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"msrp://h:7/s;tcp", "h:7"},
		{"msrp://h/s;tcp", "h:2855"},
		{"msrp://[::1]:9/s;tcp", "[::1]:9"},
	}
	for _, tt := range tests {
		if got := MustParseURI(tt.in).Addr(); got != tt.want {
			t.Errorf("Addr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewSessionID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewSessionID()
		if len(id) != 20 || !validChars(id, sessionIDChars) {
			t.Fatalf("bad session id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate session id %q", id)
		}
		seen[id] = true
		u, err := ParseURI("msrp://h:1/" + id + ";tcp")
		if err != nil || u.SessionID != id {
			t.Fatalf("session id %q does not round-trip: %v", id, err)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"msrp://atlanta.example.com:7654/jshA7weztas;tcp",
		"msrps://bob@[2001:db8::1]:1/a+b=c/d;tcp;foo=bar;baz",
		"MSRP://h;TCP",
		"msrp://h:0/;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("error %v does not wrap ErrInvalidURI", err)
			}
			return
		}
		out := u.String()
		v, err := ParseURI(out)
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", out, s, err)
		}
		if !reflect.DeepEqual(u, v) || !u.Equal(v) {
			t.Fatalf("round trip %q -> %q: %+v != %+v", s, out, u, v)
		}
	})
}
