package icetransport

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func lines(t testing.TB, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
}

// TestReferenceAttributes parses the ICE lines of the seed's Blink offer and
// writes them back byte for byte.
func TestReferenceAttributes(t *testing.T) {
	ls := lines(t, "blink-ice.sdp")
	r, err := ParseAttributes(ls)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ufrag != "2701ed80" || r.Pwd != "6f8f8281" || len(r.Candidates) != 8 || !r.HasICE() {
		t.Fatalf("parsed %+v", r)
	}
	first := r.Candidates[0]
	want := Candidate{Foundation: "S", Component: 1, Transport: "UDP", Priority: 31, Address: "80.101.96.20", Port: 55328,
		Type: "srflx", RelAddr: "192.168.1.6", RelPort: 55328}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first candidate %+v", first)
	}
	for i, c := range r.Candidates {
		if got := "a=candidate:" + c.String(); got != ls[i+2] {
			t.Errorf("line %d: %q, want %q", i, got, ls[i+2])
		}
	}
}

func TestParseCandidate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"candidate:1 1 UDP 2130706431 127.0.0.1 5000 typ host", true},
		{"a=candidate:1 2 udp 2130706431 ::1 5001 typ host\r\n", true},
		{"1 1 UDP 1694498815 203.0.113.7 40000 typ srflx raddr 10.0.0.2 rport 5000 generation 0", true},
		{"abc 1 UDP 1 host-1.local 1 typ host", true},
		{"1 1 UDP 1 127.0.0.1 1 typ host generation", false},
		{"1 0 UDP 1 127.0.0.1 1 typ host", false},
		{"1 1 SCTP 1 127.0.0.1 1 typ host", false},
		{"1 1 UDP x 127.0.0.1 1 typ host", false},
		{"1 1 UDP 1 127.0.0.1 70000 typ host", false},
		{"1 1 UDP 1 127.0.0.1 1 type host", false},
		{"1 1 UDP 1 127.0.0.1 1 typ bogus", false},
		{"1 1 UDP 1 127.0.0.1 1 typ srflx raddr 1.2.3.4 rport x", false},
		{"f_o 1 UDP 1 127.0.0.1 1 typ host", false},
		{"1 1 UDP 1 127.0.0.1", false},
		{"1 1 UDP 1 a_b 1 typ host", false},
		{"1 1 UDP 1 127.0.0.1 1 typ srflx raddr 1.2.3.4", false},
		{"1 1 UDP 1 127.0.0.1 1 typ srflx rport 9 raddr 1.2.3.4", false},
		{"1 1 UDP 1 127.0.0.1 1 typ srflx raddr a_b rport 9", false},
	}
	for _, tt := range tests {
		c, err := ParseCandidate(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("%q: err = %v", tt.in, err)
			continue
		}
		if err != nil {
			var pe *ParseError
			if !errors.Is(err, ErrSyntax) || !errors.As(err, &pe) {
				t.Errorf("%q: error %v is not a *ParseError/ErrSyntax", tt.in, err)
			}
			continue
		}
		again, err := ParseCandidate(c.String())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Errorf("%q: round trip %+v, %v", tt.in, again, err)
		}
	}
}

func TestParseAttributes(t *testing.T) {
	tests := []struct {
		name  string
		attrs []string
		err   error
		ice   bool
	}{
		{"no ICE", []string{"a=rtpmap:0 PCMU/8000", "a=sendrecv"}, nil, false},
		{"credentials only", []string{"a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuv"}, nil, false},
		{"complete", []string{"ice-ufrag:abcd", "ice-pwd:abcdefghijklmnopqrstuv", "candidate:1 1 UDP 1 127.0.0.1 9 typ host"}, nil, true},
		{"short ufrag", []string{"a=ice-ufrag:ab"}, ErrSyntax, false},
		{"bad pwd", []string{"a=ice-pwd:no spaces"}, ErrSyntax, false},
		{"bad candidate", []string{"a=candidate:1 1 UDP"}, ErrSyntax, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseAttributes(tt.attrs)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if r.HasICE() != tt.ice {
				t.Fatalf("HasICE = %v", r.HasICE())
			}
		})
	}
}

func FuzzParseCandidate(f *testing.F) {
	for _, l := range lines(f, "blink-ice.sdp") {
		f.Add(l)
	}
	f.Add("1 1 UDP 1694498815 203.0.113.7 40000 typ srflx raddr 10.0.0.2 rport 5000 generation 0")
	f.Add("candidate:1 2 udp 2130706431 ::1 5001 typ host")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCandidate(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v is not ErrSyntax", err)
			}
			return
		}
		again, err := ParseCandidate(c.String())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %q: %+v, %v", c.String(), again, err)
		}
	})
}
