package engine

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// tagRequest is an INVITE of one transaction, varied by the fields that
// make its tag.
func tagRequest(t testing.TB, callID, fromTag, branch, toTag string, method sip.RequestMethod) *sip.Request {
	t.Helper()
	to := ""
	if toTag != "" {
		to = ";tag=" + toTag
	}
	raw := fmt.Sprintf("%s sip:bob@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s\r\n"+
		"From: <sip:alice@127.0.0.1>;tag=%s\r\n"+
		"To: <sip:bob@127.0.0.1>%s\r\n"+
		"Call-ID: %s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		method, branch, fromTag, to, callID, method)
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

// TestLocalTag: a tag is the same for every response of a transaction,
// differs with each field that makes it and with the engine's key, is an
// in-dialog request's own To tag, and stays so with many goroutines
// drawing tags at once (the keyed HMACs are pooled).
func TestLocalTag(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	other, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	base := tagRequest(t, "c1", "f1", "z9hG4bK-1", "", sip.INVITE)
	tag := e.LocalTag(base)
	if len(tag) != 16 {
		t.Fatalf("tag %q: want 16 hex digits", tag)
	}
	if _, err := hex.DecodeString(tag); err != nil {
		t.Fatalf("tag %q: %v", tag, err)
	}
	if again := e.LocalTag(tagRequest(t, "c1", "f1", "z9hG4bK-1", "", sip.INVITE)); again != tag {
		t.Errorf("the same transaction: %q, then %q", tag, again)
	}
	if o := other.LocalTag(base); o == tag {
		t.Errorf("another engine's key gave the same tag %q", o)
	}
	for _, tc := range []struct {
		name string
		req  *sip.Request
	}{
		{"another Call-ID", tagRequest(t, "c2", "f1", "z9hG4bK-1", "", sip.INVITE)},
		{"another From tag", tagRequest(t, "c1", "f2", "z9hG4bK-1", "", sip.INVITE)},
		{"another branch", tagRequest(t, "c1", "f1", "z9hG4bK-2", "", sip.INVITE)},
		{"another method", tagRequest(t, "c1", "f1", "z9hG4bK-1", "", sip.OPTIONS)},
		{"fields run together", tagRequest(t, "c1f", "1", "z9hG4bK-1", "", sip.INVITE)},
	} {
		if got := e.LocalTag(tc.req); got == tag {
			t.Errorf("%s: the same tag %q", tc.name, got)
		}
	}
	if got := e.LocalTag(tagRequest(t, "c1", "f1", "z9hG4bK-1", "abc", sip.INVITE)); got != "abc" {
		t.Errorf("in-dialog request: tag %q, want its To tag abc", got)
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			req := tagRequest(t, fmt.Sprint("c", g), "f1", "z9hG4bK-1", "", sip.INVITE)
			want := e.LocalTag(req)
			for range 200 {
				if got := e.LocalTag(req); got != want {
					t.Errorf("goroutine %d: %q, then %q", g, want, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkLocalTag(b *testing.B) {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	req := tagRequest(b, "c1", "f1", "z9hG4bK-1", "", sip.INVITE)
	b.ReportAllocs()
	for b.Loop() {
		e.LocalTag(req)
	}
}

func TestQuotable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"overloaded", "overloaded"},
		{`say "hi"`, `say \"hi\"`},
		{`a\b`, `a\\b`},
		{"tab\there\u00e9", "tab?here?"},
		{strings.Repeat("x", 200), strings.Repeat("x", 160)},
	} {
		if got := quotable(tc.in); got != tc.want {
			t.Errorf("quotable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
