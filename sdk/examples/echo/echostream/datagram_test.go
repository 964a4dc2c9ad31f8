package echostream

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseDatagram(t *testing.T) {
	long := strings.Repeat("x", MaxPayload)
	tests := []struct {
		in   string
		want Datagram
		bad  bool
	}{
		{in: "PING 1 hello", want: Datagram{KindPing, 1, "hello"}},
		{in: "PONG 42 hello world", want: Datagram{KindPong, 42, "hello world"}},
		{in: "PING 7 ", want: Datagram{KindPing, 7, ""}},
		{in: "PING 7", want: Datagram{KindPing, 7, ""}},
		{in: "PING 0 zero", want: Datagram{KindPing, 0, "zero"}},
		{in: "PING 007 x", want: Datagram{KindPing, 7, "x"}},
		{in: "PING 3  two spaces", want: Datagram{KindPing, 3, " two spaces"}},
		{in: "PING 3 line\r\nbreak", want: Datagram{KindPing, 3, "line\r\nbreak"}},
		{in: "PING 18446744073709551615 max", want: Datagram{KindPing, 18446744073709551615, "max"}},
		{in: "PING 1 " + long, want: Datagram{KindPing, 1, long}},
		{in: "PING 1 héllo ☎", want: Datagram{KindPing, 1, "héllo ☎"}},
		{in: "", bad: true},
		{in: "PING", bad: true},
		{in: "PING ", bad: true},
		{in: "PING  1 x", bad: true},
		{in: "ping 1 x", bad: true},
		{in: "PINGS 1 x", bad: true},
		{in: "PANG 1 x", bad: true},
		{in: "PING x y", bad: true},
		{in: "PING -1 x", bad: true},
		{in: "PING +1 x", bad: true},
		{in: "PING 1x y", bad: true},
		{in: "PING 18446744073709551616 overflow", bad: true},
		{in: "PING 000000000000000000001 x", bad: true},
		{in: "PING 1 \xff\xfe", bad: true},
		{in: "PING 1 " + long + "x", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 40)], func(t *testing.T) {
			got, err := ParseDatagram([]byte(tt.in))
			if tt.bad {
				if !errors.Is(err, ErrMalformedDatagram) {
					t.Fatalf("ParseDatagram(%q) = %+v, %v; want ErrMalformedDatagram", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDatagram(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDatagramMarshal(t *testing.T) {
	for _, d := range []Datagram{{KindPing, 1, "hello"}, {KindPong, 0, ""}, {KindPong, 99, "a b c"}} {
		b := d.Marshal()
		got, err := ParseDatagram(b)
		if err != nil || got != d {
			t.Errorf("ParseDatagram(%q) = %+v, %v; want %+v", b, got, err, d)
		}
	}
	if got := string(Datagram{KindPing, 12, "x"}.Marshal()); got != "PING 12 x" {
		t.Errorf("Marshal = %q", got)
	}
	if got := Kind(9).String(); got != "Kind(9)" {
		t.Errorf("Kind(9).String() = %q", got)
	}
}

// FuzzParseDatagram checks that ParseDatagram never panics, and that what it
// accepts is a valid datagram that marshals back to an equal one.
func FuzzParseDatagram(f *testing.F) {
	for _, seed := range []string{
		"PING 1 hello", "PONG 42 ", "PING 7", "PING", "PONG x y", "\xff",
		"PING 18446744073709551616 x", "PING 1 \xff", "PING 007 x", "PONG 3  a",
		"PING 1 " + strings.Repeat("x", MaxPayload+1),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDatagram(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedDatagram) {
				t.Fatalf("error %v does not wrap ErrMalformedDatagram", err)
			}
			return
		}
		if d.Kind != KindPing && d.Kind != KindPong {
			t.Fatalf("kind %v", d.Kind)
		}
		if len(d.Payload) > MaxPayload || !utf8.ValidString(d.Payload) {
			t.Fatalf("payload %q accepted", d.Payload)
		}
		if !bytes.HasPrefix(b, []byte(d.Kind.String()+" ")) {
			t.Fatalf("%q parsed as %v", b, d.Kind)
		}
		again, err := ParseDatagram(d.Marshal())
		if err != nil || again != d {
			t.Fatalf("%q → %+v → %q → %+v, %v", b, d, d.Marshal(), again, err)
		}
	})
}
