package cpim

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the *.golden.cpim files")

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameMessage compares messages field by field, DateTime by instant.
func sameMessage(a, b *Message) bool {
	x, y := *a, *b
	if !x.DateTime.Equal(y.DateTime) {
		return false
	}
	x.DateTime, y.DateTime = time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

func TestParseGolden(t *testing.T) {
	tests := []struct {
		file string
		want Message
	}{
		{
			file: "rfc3862_example.cpim",
			want: Message{
				From:     Address{"MR SANDERS", "im:piglet@100akerwood.com"},
				To:       []Address{{"Depressed Donkey", "im:eeyore@100akerwood.com"}},
				DateTime: mustTime(t, "2000-12-13T13:40:00-08:00"),
				Subject: []Subject{
					{Text: "the weather will be fine today"},
					{Lang: "fr", Text: "beau temps prevu pour aujourd'hui"},
				},
				Required:   []string{"MyFeatures.VitalMessageOption"},
				Namespaces: []Namespace{{"MyFeatures", "mid:MessageFeatures@id.foo.com"}},
				Headers: []Header{
					{Prefix: "MyFeatures", Name: "VitalMessageOption", Value: "Confirmation-requested"},
					{Prefix: "MyFeatures", Name: "WackyMessageOption", Value: "Use-silly-font"},
				},
				ContentType: "text/xml; charset=utf-8",
				ContentID:   "<1234567890@foo.com>",
				Body:        []byte("<body>\r\nHere is the text of my message.\r\n</body>"),
			},
		},
		{
			file: "rfc3862_utc.cpim",
			want: Message{
				From:        Address{"Winnie the Pooh", "im:pooh@100akerwood.com"},
				To:          []Address{{"Tigger", "im:tigger@100akerwood.com"}},
				DateTime:    time.Date(2000, 12, 13, 21, 40, 0, 0, time.UTC),
				Subject:     []Subject{{Text: "the weather will be fine today"}},
				ContentType: "text/plain",
				Body:        []byte("Bounce!"),
			},
		},
		{
			file: "reference_lf.cpim",
			want: Message{
				From:        Address{"Alice Liddell", "sip:alice@example.com"},
				To:          []Address{{"", "sip:bob@example.com"}},
				DateTime:    mustTime(t, "2024-05-01T10:11:12.123456+02:00"),
				ContentType: `text/plain; charset="utf8"`,
				ContentHeaders: []Field{
					{"MIME-Version", "1.0"},
					{"Content-Transfer-Encoding", ""},
				},
				Body: []byte("Hello, \u2603\n"),
			},
		},
		{
			file: "iscomposing.cpim",
			want: Message{
				From:        Address{"", "sip:alice@example.com"},
				To:          []Address{{"", "sip:bob@example.com"}},
				DateTime:    time.Date(2024, 5, 1, 8, 11, 12, 0, time.UTC),
				ContentType: "application/im-iscomposing+xml",
				Body: []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\r\n" +
					`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><contenttype>text</contenttype><refresh>120</refresh></isComposing>`),
			},
		},
		{
			file: "extensions.cpim",
			want: Message{
				From: Address{`Bob "the builder" B.`, "sip:bob@example.com"},
				To:   []Address{{"", "sip:conf@example.com"}, {"Carol", "sip:carol@example.com"}},
				CC:   []Address{{"", "sip:dave@example.com"}},
				Subject: []Subject{
					{Lang: "en", Text: "Plans"},
					{Lang: "de", Text: "Plaene"},
				},
				Required:   []string{"imdn.Disposition-Notification", "Foo"},
				Namespaces: []Namespace{{"imdn", "urn:ietf:params:imdn"}, {"", "urn:example:default"}},
				Headers: []Header{
					{Prefix: "imdn", Name: "Message-ID", Value: "34jk324j"},
					{Prefix: "imdn", Name: "Disposition-Notification", Value: "positive-delivery, display"},
					{Name: "Foo", Params: ";x=1", Value: "bar"},
				},
				ContentType:    "text/html; charset=utf-8",
				ContentHeaders: []Field{{"X-Extra", "yes"}},
				Body:           []byte("<p>hi</p>\r\n"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(readFile(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameMessage(got, &tt.want) {
				t.Fatalf("Parse:\n got %#v\nwant %#v", got, &tt.want)
			}
			out := got.Marshal()
			golden := filepath.Join("testdata", tt.file[:len(tt.file)-len(".cpim")]+".golden.cpim")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("Marshal:\n got %q\nwant %q", out, want)
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Marshal): %v", err)
			}
			if !sameMessage(again, got) {
				t.Fatalf("round trip changed the message:\n got %#v\nwant %#v", again, got)
			}
		})
	}
}

func TestMarshalCRLF(t *testing.T) {
	m := &Message{
		From:           Address{"Alice", "sip:alice@example.com"},
		To:             []Address{{"", "sip:bob@example.com"}},
		DateTime:       time.Date(2024, 5, 1, 10, 11, 12, 123456000, time.FixedZone("", 2*3600)),
		Required:       []string{"a.B", "C"},
		Namespaces:     []Namespace{{"a", "urn:a"}},
		Headers:        []Header{{Prefix: "a", Name: "B", Params: "p=1", Value: "multi\nline"}},
		ContentType:    `text/plain; charset="utf8"`,
		ContentHeaders: []Field{{"Content-Transfer-Encoding", ""}},
		Body:           []byte("Hi\n"),
	}
	want := "From: \"Alice\" <sip:alice@example.com>\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"DateTime: 2024-05-01T10:11:12.123456+02:00\r\n" +
		"Require: a.B,C\r\n" +
		"NS: a <urn:a>\r\n" +
		"a.B:;p=1 multi line\r\n" +
		"\r\n" +
		"Content-Type: text/plain; charset=\"utf8\"\r\n" +
		"Content-Transfer-Encoding:\r\n" +
		"\r\n" +
		"Hi\n"
	if got := string(m.Marshal()); got != want {
		t.Fatalf("Marshal:\n got %q\nwant %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
		line int
	}{
		{"no blank line", "From: <sip:a@b>\r\nTo: <sip:c@d>\r\n", ErrNoContent, 3},
		{"empty input", "", ErrNoContent, 1},
		{"no colon", "From <sip:a@b>\r\n\r\n", ErrHeaderSyntax, 1},
		{"space in name", "Fr om: <sip:a@b>\r\n\r\n", ErrHeaderSyntax, 1},
		{"address without uri", "To: Bob\r\n\r\n", ErrInvalidAddress, 1},
		{"empty uri", "To: Bob <>\r\n\r\n", ErrInvalidAddress, 1},
		{"text after uri", "To: <sip:a@b> x\r\n\r\n", ErrInvalidAddress, 1},
		{"unterminated quote", "From: \"Bob <sip:a@b>\r\n\r\n", ErrInvalidAddress, 1},
		{"bad date", "From: <sip:a@b>\nDateTime: yesterday\n\n", ErrInvalidDateTime, 2},
		{"zero date", "DateTime: 0001-01-01T00:00:00Z\n\n", ErrInvalidDateTime, 1},
		{"duplicate from", "From: <sip:a@b>\nFrom: <sip:c@d>\n\n", ErrDuplicateHeader, 2},
		{"duplicate datetime", "DateTime: 2000-01-01T00:00:00Z\nDateTime: 2000-01-01T00:00:00Z\n\n", ErrDuplicateHeader, 2},
		{"bad ns", "NS: foo\n\n", ErrInvalidNamespace, 1},
		{"ns prefix not a token", "NS: \"a.b\" <urn:x>\n\n", ErrInvalidNamespace, 1},
		{"empty prefix", ".Foo: x\n\n", ErrHeaderSyntax, 1},
		{"empty local name", "foo.: x\n\n", ErrHeaderSyntax, 1},
		{"leading continuation", " Foo: x\n\n", ErrHeaderSyntax, 1},
		{"content line not a header", "From: <sip:a@b>\r\n\r\nhello", ErrHeaderSyntax, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v, want %v and ErrMalformed", err, tt.want)
			}
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("error %T is not a *HeaderError", err)
			}
			if he.Line != tt.line {
				t.Fatalf("error on line %d, want %d (%v)", he.Line, tt.line, err)
			}
		})
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		want    Address
		str     string
		wantErr bool
	}{
		{in: "<sip:a@b>", want: Address{"", "sip:a@b"}, str: "<sip:a@b>"},
		{in: "  Alice  <sip:a@b> ", want: Address{"Alice", "sip:a@b"}, str: `"Alice" <sip:a@b>`},
		{in: `"Alice Smith"<sip:a@b>`, want: Address{"Alice Smith", "sip:a@b"}, str: `"Alice Smith" <sip:a@b>`},
		{in: `"a\\b \"c\" <d>" <sip:a@b>`, want: Address{`a\b "c" <d>`, "sip:a@b"}, str: `"a\\b \"c\" <d>" <sip:a@b>`},
		{in: `"" <sip:a@b>`, want: Address{"", "sip:a@b"}, str: "<sip:a@b>"},
		{in: "sip:a@b", wantErr: true},
		{in: `"Alice" sip:a@b`, wantErr: true},
		{in: "<sip:a@b", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAddress(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidAddress) {
					t.Fatalf("ParseAddress(%q) error %v, want ErrInvalidAddress", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAddress(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Fatalf("String() = %q, want %q", s, tt.str)
			}
			back, err := ParseAddress(got.String())
			if err != nil || back != got {
				t.Fatalf("ParseAddress(String()) = %#v, %v; want %#v", back, err, got)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	m, err := Parse(readFile(t, "extensions.cpim"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uri, name string
		want      string
		ok        bool
	}{
		{"urn:ietf:params:imdn", "Message-ID", "34jk324j", true},
		{"urn:example:default", "Foo", "bar", true},
		{DefaultNamespace, "Foo", "", false},
		{"urn:ietf:params:imdn", "Nope", "", false},
	}
	for _, tt := range tests {
		got, ok := m.Lookup(tt.uri, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q, %v", tt.uri, tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if u, ok := (&Message{}).NamespaceURI(""); !ok || u != DefaultNamespace {
		t.Errorf("NamespaceURI(\"\") without NS = %q, %v", u, ok)
	}
}

func TestDateTimeMicroseconds(t *testing.T) {
	m, err := Parse([]byte("DateTime: 2024-05-01T10:11:12.123456789+02:00\r\n\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.DateTime.Nanosecond(); got != 123456000 {
		t.Fatalf("nanoseconds %d, want the microseconds kept: 123456000", got)
	}
	if got := string(m.Marshal()); !strings.HasPrefix(got, "DateTime: 2024-05-01T10:11:12.123456+02:00\r\n") {
		t.Fatalf("Marshal = %q", got)
	}
}
