package engine

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// tortureWant is what the engine does with each message of RFC 4475
// (testdata/rfc4475, the messages of the RFC's Appendix A archive), when
// it arrives as a UDP datagram: the verdict and, for an answer, the code.
// The RFC's section is given for each; where it allows a choice the
// engine is strict (RFC 4475 §3.1.2.9-14 allow being liberal instead).
var tortureWant = map[string]struct {
	verdict verdict
	code    int
}{
	// §3.1.1: valid messages go on to the transaction layer.
	"wsinv":      {verdictPass, 0},     // 3.1.1.1
	"intmeth":    {verdictPass, 0},     // 3.1.1.2 (the handler answers 501)
	"esc01":      {verdictPass, 0},     // 3.1.1.3
	"escnull":    {verdictPass, 0},     // 3.1.1.4
	"esc02":      {verdictPass, 0},     // 3.1.1.5
	"lwsdisp":    {verdictPass, 0},     // 3.1.1.6
	"longreq":    {verdictPass, 0},     // 3.1.1.7
	"dblreq":     {verdictPass, 0},     // 3.1.1.8 (the trailing octets are ignored)
	"semiuri":    {verdictPass, 0},     // 3.1.1.9
	"transports": {verdictPass, 0},     // 3.1.1.10
	"mpart01":    {verdictPass, 0},     // 3.1.1.11
	"unreason":   {verdictPass, 0},     // 3.1.1.12 (a response: matched or dropped by sipgo)
	"noreason":   {verdictPass, 0},     // 3.1.1.13
	"badinv01":   {verdictAnswer, 400}, // 3.1.2.1
	"clerr":      {verdictAnswer, 400}, // 3.1.2.2 (over UDP)
	"ncl":        {verdictAnswer, 400}, // 3.1.2.3
	"scalar02":   {verdictAnswer, 400}, // 3.1.2.4
	"scalarlg":   {verdictDrop, 0},     // 3.1.2.5 (a response)
	"quotbal":    {verdictAnswer, 400}, // 3.1.2.6
	"ltgtruri":   {verdictAnswer, 400}, // 3.1.2.7
	"lwsruri":    {verdictAnswer, 400}, // 3.1.2.8
	"lwsstart":   {verdictAnswer, 400}, // 3.1.2.9
	"trws":       {verdictAnswer, 400}, // 3.1.2.10
	"escruri":    {verdictAnswer, 400}, // 3.1.2.11
	"baddate":    {verdictAnswer, 400}, // 3.1.2.12
	"regbadct":   {verdictAnswer, 400}, // 3.1.2.13
	"badaspec":   {verdictAnswer, 400}, // 3.1.2.14
	"baddn":      {verdictAnswer, 400}, // 3.1.2.15
	"badvers":    {verdictAnswer, 505}, // 3.1.2.16
	"mismatch01": {verdictAnswer, 400}, // 3.1.2.17
	"mismatch02": {verdictAnswer, 400}, // 3.1.2.18 (501 or 400)
	"bigcode":    {verdictDrop, 0},     // 3.1.2.19 (a response)
	"badbranch":  {verdictPass, 0},     // 3.2.1 (RFC 2543 transaction matching)
	"insuf":      {verdictAnswer, 400}, // 3.3.1
	"unkscm":     {verdictAnswer, 416}, // 3.3.2
	"novelsc":    {verdictAnswer, 416}, // 3.3.3
	"unksm2":     {verdictPass, 0},     // 3.3.4 (the handler answers the REGISTER)
	"bext01":     {verdictAnswer, 420}, // 3.3.5
	"invut":      {verdictAnswer, 415}, // 3.3.6
	"regaut01":   {verdictPass, 0},     // 3.3.7
	"multi01":    {verdictAnswer, 400}, // 3.3.8
	"mcl01":      {verdictAnswer, 400}, // 3.3.9
	"bcast":      {verdictPass, 0},     // 3.3.10 (a response: matched or dropped by sipgo)
	"zeromf":     {verdictPass, 0},     // 3.3.11 (a UAS ignores Max-Forwards 0)
	"cparam01":   {verdictPass, 0},     // 3.3.12
	"cparam02":   {verdictPass, 0},     // 3.3.13
	"regescrt":   {verdictPass, 0},     // 3.3.14
	"sdp01":      {verdictAnswer, 406}, // 3.3.15
	"inv2543":    {verdictAnswer, 400}, // 3.4.1: no RFC 2543 compatibility (no Max-Forwards, no From tag)
	"test":       {verdictDrop, 0},     // in the archive only: no SIP version, no Via
}

func tortureFiles(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/rfc4475/*.dat")
	if err != nil || len(files) == 0 {
		t.Fatalf("no torture messages: %v", err)
	}
	out := make(map[string][]byte)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".dat")] = b
	}
	return out
}

func TestInspectTorture(t *testing.T) {
	files := tortureFiles(t)
	if len(files) != len(tortureWant) {
		t.Errorf("%d messages in testdata, %d in the table", len(files), len(tortureWant))
	}
	p := sip.NewParser()
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			want, ok := tortureWant[name]
			if !ok {
				t.Fatal("not in the table")
			}
			in := inspect(p, data, policy{datagram: true})
			code := 0
			if in.rej != nil && in.verdict == verdictAnswer {
				code = in.rej.code
			}
			if in.verdict != want.verdict || code != want.code {
				t.Errorf("%v %d (%s), want %v %d", in.verdict, code, in.why, want.verdict, want.code)
			}
		})
	}
}

// request is a well-formed INVITE with SDP whose lines edit can change.
func request(edit func(lines []string) []string) []byte {
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
	lines := []string{
		"INVITE sip:bob@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport",
		"Max-Forwards: 70",
		"From: <sip:alice@127.0.0.1>;tag=a1",
		"To: <sip:bob@127.0.0.1>",
		"Call-ID: c1@127.0.0.1",
		"CSeq: 1 INVITE",
		"Contact: <sip:alice@127.0.0.1:5070>",
		"Content-Type: application/sdp",
		"Content-Length: " + strconv.Itoa(len(body)),
	}
	if edit != nil {
		lines = edit(lines)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n" + body)
}

// without drops the lines starting with prefix.
func without(prefix string) func([]string) []string {
	return func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if !strings.HasPrefix(l, prefix) {
				out = append(out, l)
			}
		}
		return out
	}
}

// replace replaces the line starting with prefix.
func replace(prefix, line string) func([]string) []string {
	return func(lines []string) []string {
		out := append([]string(nil), lines...)
		for i, l := range out {
			if strings.HasPrefix(l, prefix) {
				out[i] = line
			}
		}
		return out
	}
}

// adding appends a header line.
func adding(line string) func([]string) []string {
	return func(lines []string) []string { return append(append([]string(nil), lines...), line) }
}

func TestInspectRequest(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		datagram bool
		verdict  verdict
		code     int
	}{
		{"good", request(nil), true, verdictPass, 0},
		{"no Call-ID", request(without("Call-ID")), true, verdictAnswer, 400},
		{"no From", request(without("From")), true, verdictAnswer, 400},
		{"no To", request(without("To")), true, verdictAnswer, 400},
		{"no CSeq", request(without("CSeq")), true, verdictAnswer, 400},
		{"no Max-Forwards", request(without("Max-Forwards")), true, verdictAnswer, 400},
		{"no Via", request(without("Via")), true, verdictDrop, 0},
		{"two Call-IDs", request(adding("i: other")), true, verdictAnswer, 400},
		{"From without tag", request(replace("From", "From: <sip:alice@127.0.0.1>")), true, verdictAnswer, 400},
		{"SIP/9.9", request(replace("INVITE", "INVITE sip:bob@127.0.0.1 SIP/9.9")), true, verdictAnswer, 505},
		{"CSeq method BYE", request(replace("CSeq", "CSeq: 1 BYE")), true, verdictAnswer, 400},
		{"CSeq method lower case", request(replace("CSeq", "CSeq: 1 invite")), true, verdictAnswer, 400},
		{"CSeq 2**31", request(replace("CSeq", "CSeq: 2147483648 INVITE")), true, verdictAnswer, 400},
		{"CSeq below 2**31", request(replace("CSeq", "CSeq: 2147483647 INVITE")), true, verdictPass, 0},
		{"Max-Forwards 256", request(replace("Max-Forwards", "Max-Forwards: 256")), true, verdictAnswer, 400},
		{"Max-Forwards 0", request(replace("Max-Forwards", "Max-Forwards: 0")), true, verdictPass, 0},
		{"Max-Forwards not a number", request(replace("Max-Forwards", "Max-Forwards: many")), true, verdictAnswer, 400},
		{"Content-Length larger than the datagram", request(replace("Content-Length", "Content-Length: 999")), true, verdictAnswer, 400},
		{"Content-Length smaller than the datagram", request(replace("Content-Length", "Content-Length: 10")), true, verdictPass, 0}, // the rest is ignored (RFC 3261 §18.3)
		{"no Content-Length in a datagram", request(without("Content-Length")), true, verdictPass, 0},
		{"tel: Request-URI", request(replace("INVITE", "INVITE tel:+12345 SIP/2.0")), true, verdictAnswer, 416},
		{"Require", request(adding("Require: 100rel")), true, verdictAnswer, 420},
		{"body not SDP", request(replace("Content-Type", "Content-Type: text/plain")), true, verdictAnswer, 415},
		{"gzip body", request(adding("Content-Encoding: gzip")), true, verdictAnswer, 415},
		{"Accept without SDP", request(adding("Accept: text/plain")), true, verdictAnswer, 406},
		{"Accept with SDP", request(adding("Accept: text/plain, application/sdp")), true, verdictPass, 0},
		{"malformed header line", request(adding("no colon here")), true, verdictAnswer, 400},
		{"no blank line", bytes.TrimSuffix(request(without("Content-Length")), []byte("\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n")), true, verdictAnswer, 400},
		{"bad ACK", []byte("ACK sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-2\r\n\r\n"), true, verdictDrop, 0},
		{"garbage", []byte("\x00\x01garbage"), true, verdictDrop, 0},
		{"tabs in the start line", request(replace("INVITE", "INVITE\tsip:bob@127.0.0.1 SIP/2.0")), true, verdictAnswer, 400},
		{"LWS around parameters", request(replace("From", "From: <sip:alice@127.0.0.1> ; tag = a1")), true, verdictPass, 0},
	}
	p := sip.NewParser()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := inspect(p, tc.data, policy{datagram: tc.datagram})
			code := 0
			if in.rej != nil && in.verdict == verdictAnswer {
				code = in.rej.code
			}
			if in.verdict != tc.verdict || code != tc.code {
				t.Errorf("%v %d (%s), want %v %d", in.verdict, code, in.why, tc.verdict, tc.code)
			}
		})
	}
}

// FuzzInspect checks the engine's checks of inbound messages on any
// input, seeded with the RFC 4475 torture messages: inspect never panics;
// a request it passes has what sipgo's transaction layer and the handlers
// rely on; the answer to a request it refuses is a response that parses,
// with the rejection's status code.
func FuzzInspect(f *testing.F) {
	for _, b := range tortureFiles(f) {
		f.Add(b, true)
		f.Add(b, false)
	}
	f.Add(request(nil), true)
	f.Add(request(without("Call-ID")), false)
	f.Add(request(replace("CSeq", "CSeq: 1 BYE")), true)
	p := sip.NewParser()
	e := &Engine{}
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}
	f.Fuzz(func(t *testing.T, data []byte, datagram bool) {
		in := inspect(p, data, policy{datagram: datagram, supported: []string{"timer"}})
		switch in.verdict {
		case verdictPass:
			if in.raw.isResponse() {
				if _, err := p.ParseSIP(data); err != nil {
					t.Fatalf("passed a response sipgo cannot parse: %v", err)
				}
				return
			}
			req := in.req
			if req == nil {
				t.Fatal("passed a request without sipgo's parse")
			}
			method, _, _, _ := in.raw.requestLine()
			if req.CallID() == nil || req.To() == nil || req.Via() == nil || req.CSeq() == nil || string(req.CSeq().MethodName) != method {
				t.Fatalf("passed a request without its mandatory headers: %q", data)
			}
			if tag, _ := req.From().Params.Get("tag"); tag == "" {
				t.Fatalf("passed a request without From tag: %q", data)
			}
			if in.normalized {
				if _, err := p.ParseSIP([]byte(req.String())); err != nil {
					t.Fatalf("normalized request does not parse: %v\n%q", err, req.String())
				}
			}
			_ = e.newResponse(req, 200, "OK", nil)
		case verdictAnswer:
			for _, tr := range []Transport{TransportUDP, TransportTCP} {
				out, _ := e.rejectionBytes(&in, in.rej, tr, src)
				status := "SIP/2.0 " + strconv.Itoa(in.rej.code) + " " + in.rej.reason + "\r\n"
				if !bytes.HasPrefix(out, []byte(status)) || !bytes.HasSuffix(out, []byte("\r\n\r\n")) {
					t.Fatalf("answer %q is not a %d response", out, in.rej.code)
				}
				for _, line := range strings.Split(string(out[:len(out)-4]), "\r\n") {
					if strings.ContainsAny(line, "\r\n") {
						t.Fatalf("answer has a broken line %q: %q", line, out)
					}
				}
				// The answer parses when the request's own headers do
				// (sipgo's parser accepts some it cannot write back).
				if msg, err := p.ParseSIP(out); err == nil {
					if res, ok := msg.(*sip.Response); !ok || res.StatusCode != in.rej.code {
						t.Fatalf("answer %q is not a %d response", out, in.rej.code)
					}
				}
			}
		}
	})
}
