package engine

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

const (
	msgA = "OPTIONS sip:b@h SIP/2.0\r\nCall-ID: a\r\nContent-Length: 0\r\n\r\n"
	msgB = "MESSAGE sip:b@h SIP/2.0\r\nl: 5\r\nCall-ID: b\r\n\r\nhello"
)

// frames feeds chunks to a framer and describes what it returns: "M:" and
// the message, "K:" and the keep-alive, "B:" and the code of a broken
// stream (0 when it cannot be answered).
func frames(chunks ...[]byte) (out []string, pending bool) {
	var f framer
	for _, c := range chunks {
		f.feed(c)
		for {
			fr, ok := f.next()
			if !ok {
				break
			}
			switch fr.kind {
			case frameMessage:
				out = append(out, "M:"+string(fr.data))
			case frameKeepAlive:
				// Keep-alives come as the reads cut them: adjacent ones
				// are one run.
				if n := len(out); n > 0 && strings.HasPrefix(out[n-1], "K:") {
					out[n-1] += string(fr.data)
				} else {
					out = append(out, "K:"+string(fr.data))
				}
			case frameBroken:
				code := 0
				if fr.rej != nil {
					code = fr.rej.code
				}
				out = append(out, "B:"+strconv.Itoa(code))
			}
		}
	}
	return out, f.pending()
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", maxMessage+1)
	tests := []struct {
		name    string
		chunks  []string
		want    []string
		pending bool
	}{
		{"one message", []string{msgA}, []string{"M:" + msgA}, false},
		{"two in one read", []string{msgA + msgB}, []string{"M:" + msgA, "M:" + msgB}, false},
		{"split everywhere", splitEvery(msgA+msgB, 7), []string{"M:" + msgA, "M:" + msgB}, false},
		{"keep-alives", []string{"\r\n\r\n", msgA, "\r\n", msgB, "\r\n\r\n"}, []string{"K:\r\n\r\n", "M:" + msgA, "K:\r\n", "M:" + msgB, "K:\r\n\r\n"}, false},
		{"body across reads", []string{msgB[:len(msgB)-3], msgB[len(msgB)-3:]}, []string{"M:" + msgB}, false},
		{"incomplete", []string{msgA[:20]}, nil, true},
		{"body incomplete", []string{"SIP/2.0 200 OK\r\nContent-Length: 99\r\n\r\nshort"}, nil, true},
		{"no length", []string{"OPTIONS sip:b@h SIP/2.0\r\nVia: x\r\n\r\n" + msgA}, []string{"B:400"}, false},
		{"bad length", []string{"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\nrest"}, []string{"B:400"}, false},
		{"negative length", []string{"INVITE sip:b@h SIP/2.0\r\nContent-Length: -999\r\n\r\n"}, []string{"B:400"}, false},
		{"two lengths", []string{"OPTIONS sip:b@h SIP/2.0\r\nContent-Length: 13\r\nl: 5\r\n\r\nhello"}, []string{"B:400"}, false},
		{"folded length", []string{"OPTIONS sip:b@h SIP/2.0\r\nContent-Length:\r\n 5\r\n\r\nhello"}, []string{"M:OPTIONS sip:b@h SIP/2.0\r\nContent-Length:\r\n 5\r\n\r\nhello"}, false},
		{"too large", []string{"OPTIONS sip:b@h SIP/2.0\r\nContent-Length: 70000\r\n\r\n"}, []string{"B:413"}, false},
		{"no headers end", []string{long}, []string{"B:0"}, false},
		{"nothing after broken", []string{"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n", msgA}, []string{"B:400"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var chunks [][]byte
			for _, c := range tc.chunks {
				chunks = append(chunks, []byte(c))
			}
			got, pending := frames(chunks...)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) || pending != tc.pending {
				t.Errorf("got %q (pending %v), want %q (pending %v)", got, pending, tc.want, tc.pending)
			}
		})
	}
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// FuzzFramer checks that framing does not depend on how the stream is cut
// into reads, and that the frames are the stream, in order, up to the
// point where it broke.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(msgA+msgB), 5)
	f.Add([]byte("\r\n"+msgB+"\r\n\r\n"+msgA), 40)
	f.Add([]byte("SIP/2.0 200 OK\r\nContent-Length: 99\r\n\r\nshort"), 3)
	f.Add([]byte("OPTIONS sip:b@h SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx"), 12)
	f.Fuzz(func(t *testing.T, stream []byte, cut int) {
		if len(stream) > 2*maxMessage {
			return
		}
		if cut < 0 {
			cut = -cut
		}
		cut %= len(stream) + 1
		whole, wholePending := frames(stream)
		split, splitPending := frames(stream[:cut], stream[cut:])
		if strings.Join(whole, "\x00") != strings.Join(split, "\x00") {
			t.Fatalf("framing depends on the cut at %d: %q vs %q", cut, whole, split)
		}
		var joined []byte
		broken := false
		for _, fr := range whole {
			if strings.HasPrefix(fr, "B:") {
				broken = true
				break
			}
			if len(fr) == 2 {
				t.Fatal("empty frame")
			}
			joined = append(joined, fr[2:]...)
		}
		if !bytes.HasPrefix(stream, joined) {
			t.Fatalf("frames are not the stream: %q", whole)
		}
		if !broken && wholePending != (len(joined) < len(stream)) {
			t.Fatalf("pending %v with %d of %d bytes framed", wholePending, len(joined), len(stream))
		}
		if !broken && wholePending != splitPending {
			t.Fatalf("pending depends on the cut")
		}
	})
}
