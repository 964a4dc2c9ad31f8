package engine

import (
	"bytes"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// ackFor is the ACK of a non-2xx answer to request(nil) edited by edit:
// the INVITE's top Via, From, Call-ID and CSeq number, the answer's To.
func ackFor(to string, edit func([]string) []string) []byte {
	lines := []string{
		"ACK sip:bob@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport",
		"Max-Forwards: 70",
		"From: <sip:alice@127.0.0.1>;tag=a1",
		"To: " + to,
		"Call-ID: c1@127.0.0.1",
		"CSeq: 1 ACK",
		"Content-Length: 0",
	}
	if edit != nil {
		lines = edit(lines)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

// TestRefuseEarly: with an admission function, a new INVITE it refuses
// is answered 503 with Retry-After from the raw message (the function
// asked with the Call-ID as written), the ACK of that 503 is dropped
// when read, and everything else goes on to the checks and sipgo.
func TestRefuseEarly(t *testing.T) {
	e := &Engine{parser: sip.NewParser(), log: slog.New(slog.DiscardHandler)}
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	var asked []string
	e.SetAdmission(func(callID string) bool {
		asked = append(asked, callID)
		return callID != "c1@127.0.0.1"
	})
	var replies [][]byte
	reply := func(b []byte, dst net.Addr) {
		if dst.String() != src.String() { // rport: the source port
			t.Errorf("answer sent to %s, want %s", dst, src)
		}
		replies = append(replies, b)
	}
	screen := func(data []byte) bool {
		t.Helper()
		_, ok := e.screen(data, TransportUDP, src, reply)
		return ok
	}
	refused := func(what string, data []byte) string {
		t.Helper()
		n := len(replies)
		if screen(data) || len(replies) != n+1 {
			t.Fatalf("%s: not refused", what)
		}
		msg, err := sip.NewParser().ParseSIP(replies[n])
		if err != nil {
			t.Fatalf("%s: the answer does not parse: %v\n%s", what, err, replies[n])
		}
		res := msg.(*sip.Response)
		if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil || res.CallID().Value() != "c1@127.0.0.1" {
			t.Fatalf("%s: answered\n%s", what, replies[n])
		}
		tag, _ := res.To().Params.Get("tag")
		if tag == "" {
			t.Fatalf("%s: no To tag in\n%s", what, replies[n])
		}
		return tag
	}

	tag := refused("a new INVITE", request(nil))
	if again := refused("its retransmission", request(nil)); again != tag {
		t.Errorf("the retransmission's 503 has tag %s, the first %s", again, tag)
	}
	if !slices.Equal(asked, []string{"c1@127.0.0.1", "c1@127.0.0.1"}) {
		t.Errorf("admission asked about %q", asked)
	}
	if st := e.Stats(); st.Overloaded != 2 {
		t.Errorf("Overloaded %d, want 2", st.Overloaded)
	}
	if screen(ackFor("<sip:bob@127.0.0.1>;tag="+tag, nil)) {
		t.Error("the ACK of the 503 went on")
	}
	if st := e.Stats(); st.Dropped != 1 {
		t.Errorf("Dropped %d after the ACK, want 1", st.Dropped)
	}
	// An INVITE that came through a proxy: its ACK has the top Via only.
	twoVias := func(lines []string) []string {
		return slices.Insert(slices.Clone(lines), 2, "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-p")
	}
	tag2 := refused("an INVITE with two Vias", request(twoVias))
	if screen(ackFor("<sip:bob@127.0.0.1>;tag="+tag2, nil)) {
		t.Error("the ACK of the proxied INVITE's 503 went on")
	}

	asked = nil
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"an ACK with another To tag", ackFor("<sip:bob@127.0.0.1>;tag=x"+tag, nil)},
		{"an ACK of another Call-ID", ackFor("<sip:bob@127.0.0.1>;tag="+tag, replace("Call-ID", "Call-ID: c2@127.0.0.1"))},
		{"a re-INVITE", request(replace("To:", "To: <sip:bob@127.0.0.1>;tag=b1"))},
		{"an admitted INVITE", request(replace("Call-ID", "Call-ID: c2@127.0.0.1"))},
		// A tag inside <> is the URI's: the INVITE is new, and asked about.
		{"an admitted INVITE with a tag in its To URI", request(func(l []string) []string {
			return replace("To:", "To: <sip:bob@127.0.0.1;tag=b1>")(replace("Call-ID", "Call-ID: c2@127.0.0.1")(l))
		})},
	} {
		n := len(replies)
		if !screen(tc.data) || len(replies) != n {
			t.Errorf("%s: refused or dropped", tc.name)
		}
	}
	if !slices.Equal(asked, []string{"c2@127.0.0.1", "c2@127.0.0.1"}) {
		t.Errorf("admission asked about %q, want the two new INVITEs", asked)
	}
	e.SetAdmission(nil)
	if !screen(request(nil)) {
		t.Error("without an admission function the INVITE was refused")
	}
}

func TestHeaderTag(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<sip:bob@example.com>;tag=abc", "abc"},
		{"<sip:bob@example.com>;foo=1; TAG = abc ", "abc"},
		{"<sip:bob@example.com;tag=inuri>", ""},
		{"sip:bob@example.com;tag=abc", "abc"},
		{"\"Bob\" <sip:bob@example.com>", ""},
		{"sip:bob@example.com", ""},
		{"", ""},
	} {
		if got := headerTag(tc.in); got != tc.want {
			t.Errorf("headerTag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRefuseEarly: with an admission function that refuses every new
// INVITE, the screen never panics on any input, and what it sends back is
// a whole response (its lines unbroken, the blank line at the end) that,
// when sipgo parses it, has the status its status line says — as
// FuzzInspect asks of the answers built from the raw header fields.
func FuzzRefuseEarly(f *testing.F) {
	for _, b := range tortureFiles(f) {
		f.Add(b)
	}
	f.Add(request(nil))
	f.Add(request(replace("Via", "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1, SIP/2.0/UDP 192.0.2.9")))
	f.Add(ackFor("<sip:bob@127.0.0.1>;tag=1", nil))
	f.Add(ackFor("sip:bob@127.0.0.1;tag", nil))
	e := &Engine{parser: sip.NewParser(), log: slog.New(slog.DiscardHandler)}
	e.SetAdmission(func(string) bool { return false })
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	p := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		e.screen(data, TransportUDP, src, func(b []byte, _ net.Addr) {
			if !bytes.HasPrefix(b, []byte("SIP/2.0 ")) || !bytes.HasSuffix(b, []byte("\r\n\r\n")) {
				t.Fatalf("answer %q is not a response", b)
			}
			for _, line := range strings.Split(string(b[:len(b)-4]), "\r\n") {
				if strings.ContainsAny(line, "\r\n") {
					t.Fatalf("answer has a broken line %q: %q", line, b)
				}
			}
			code, _ := strconv.Atoi(string(b[8:11]))
			if msg, err := p.ParseSIP(b); err == nil {
				if res, ok := msg.(*sip.Response); !ok || res.StatusCode != code {
					t.Fatalf("answer %q does not parse as its status line says", b)
				}
			}
		})
	})
}

// TestAdmittedAfterChecks: the function SetAdmitted installs is told the
// Call-ID of a new INVITE the admission function took only once the
// INVITE has passed the engine's checks too: not of one the checks refuse
// (which the session manager would never see, and would count against
// its limit for nothing), of a re-INVITE, or of one the admission refused.
func TestAdmittedAfterChecks(t *testing.T) {
	e := &Engine{parser: sip.NewParser(), log: slog.New(slog.DiscardHandler)}
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	e.SetAdmission(func(callID string) bool { return callID != "no@127.0.0.1" })
	var told []string
	e.SetAdmitted(func(callID string) { told = append(told, callID) })
	for _, tc := range []struct {
		name string
		data []byte
		pass bool
		told []string
	}{
		{"a new INVITE", request(nil), true, []string{"c1@127.0.0.1"}},
		{"its retransmission", request(nil), true, []string{"c1@127.0.0.1"}},
		{"a malformed INVITE (400)", request(replace("Max-Forwards", "Max-Forwards: many")), false, nil},
		{"an INVITE whose body is not SDP (415)", request(replace("Content-Type", "Content-Type: text/plain")), false, nil},
		{"a re-INVITE", request(replace("To:", "To: <sip:bob@127.0.0.1>;tag=b1")), true, nil},
		{"an INVITE the admission refused", request(replace("Call-ID", "Call-ID: no@127.0.0.1")), false, nil},
		{"an OPTIONS", request(func(l []string) []string {
			l = replace("INVITE", "OPTIONS sip:bob@127.0.0.1 SIP/2.0")(l)
			return replace("CSeq", "CSeq: 1 OPTIONS")(l)
		}), true, nil},
	} {
		told = nil
		_, ok := e.screen(tc.data, TransportUDP, src, func([]byte, net.Addr) {})
		if ok != tc.pass || !slices.Equal(told, tc.told) {
			t.Errorf("%s: went on %v, told %q; want %v, %q", tc.name, ok, told, tc.pass, tc.told)
		}
	}
	e.SetAdmitted(nil)
	told = nil
	if _, ok := e.screen(request(nil), TransportUDP, src, func([]byte, net.Addr) {}); !ok || told != nil {
		t.Errorf("with nothing installed: went on %v, told %q", ok, told)
	}
}
