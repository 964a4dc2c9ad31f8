package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
)

// encoded is what the printer wrote with encoding/json for a notification.
func encoded(t testing.TB, tm time.Time, name, sender string, data any) string {
	var b bytes.Buffer
	if err := encoder(&b).Encode(struct {
		Time   time.Time `json:"time"`
		Name   string    `json:"name"`
		Sender string    `json:"sender"`
		Data   any       `json:"data,omitempty"`
	}{tm, name, sender, data}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var allBytes = func() string {
	var b strings.Builder
	for c := range 256 {
		b.WriteByte(byte(c))
	}
	return b.String()
}()

// TestAppendLine: the hand-written --json line is encoding/json's, byte
// for byte, for the data the session notifications carry, and declines
// what it does not write.
func TestAppendLine(t *testing.T) {
	tm := time.Date(2026, 12, 4, 13, 35, 51, 613957016, time.UTC)
	cases := []struct {
		name string
		data any
	}{
		{"nil", nil},
		{"empty map", map[string]any{}},
		{"did end", map[string]any{"originator": session.Remote, "end_reason": "user request"}},
		{"transaction", map[string]any{"originator": session.Local, "method": "BYE", "code": 200, "reason": "OK", "ack_received": session.AckReceived("true")}},
		{"stream ended", sdk.DidEndData{}},
		{"stream ended with an error", sdk.DidEndData{Error: "RTP timeout \"x\"\n"}},
		{"new incoming", map[string]any{"streams": []string{"audio", "chat"}, "from": `"Alice & Bob" <sip:alice@127.0.0.1>;tag=x`, "to": "<sip:bob@127.0.0.1>", "subject": "a\u2028b\u2029c"}},
		{"nil list", map[string]any{"streams": []string(nil)}},
		{"nested", map[string]any{"a": map[string]any{"b": true, "c": int64(-5), "d": uint64(7), "e": nil}}},
		{"every byte", map[string]any{allBytes: allBytes}},
		{"invalid utf-8", map[string]any{"x": "\xff\xfe ok \xc3"}},
		{"unicode", map[string]any{"x": "Grüße, 日本, 🎧"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := appendLine(nil, tm, "SIPSessionDidEnd", "session 1 (incoming 3-13039@)", c.data)
			if !ok {
				t.Fatal("declined")
			}
			if want := encoded(t, tm, "SIPSessionDidEnd", "session 1 (incoming 3-13039@)", c.data); string(got) != want {
				t.Fatalf("\n got %q\nwant %q", got, want)
			}
		})
	}
	for _, data := range []any{3.5, map[string]any{"n": 1.0}, []int{1}, struct{}{}, map[string]any{"x": []any{"a"}}} {
		if got, ok := appendLine([]byte("kept"), tm, "N", "S", data); ok || string(got) != "kept" {
			t.Errorf("%T %v: %q, %v; want it declined with the buffer as it was", data, data, got, ok)
		}
	}
}

// FuzzAppendString: any name, sender or value (they come from SIP headers
// of the network) is written as encoding/json writes it.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "\x00\x1f\x7f", "\u2028\u2029", "\xff", allBytes, "<sip:a@b>;tag=1&x"} {
		f.Add(s)
	}
	tm := time.Unix(0, 0).UTC()
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := appendLine(nil, tm, s, s, map[string]any{s: s})
		if !ok {
			t.Fatal("declined")
		}
		if want := encoded(t, tm, s, s, map[string]any{s: s}); string(got) != want {
			t.Fatalf("\n got %q\nwant %q", got, want)
		}
	})
}
