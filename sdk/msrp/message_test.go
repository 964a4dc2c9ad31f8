package msrp

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json golden files")

const testMaxBody = 1 << 20

func goldenFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.msrp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	return files
}

// TestGolden parses every testdata/*.msrp, compares the parsed message with
// its .json golden and checks that it re-serializes byte for byte.
func TestGolden(t *testing.T) {
	for _, file := range goldenFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte("\r\n")) {
				t.Fatal("golden file lost its CRLF line endings")
			}
			r := NewReader(bytes.NewReader(raw))
			m, err := r.ReadMessage(testMaxBody)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("trailing data: %v", err)
			}
			if out := m.Marshal(); !bytes.Equal(out, raw) {
				t.Fatalf("re-serialized differs:\n got %q\nwant %q", out, raw)
			}
			dump, _ := json.MarshalIndent(m, "", "  ")
			dump = append(dump, '\n')
			jsonFile := strings.TrimSuffix(file, ".msrp") + ".json"
			if *update {
				if err := os.WriteFile(jsonFile, dump, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(jsonFile)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(dump, want) {
				t.Fatalf("parsed message differs from %s:\n%s", jsonFile, dump)
			}
		})
	}
}

// TestReaderStream parses all golden messages back to back from a reader
// that yields one byte at a time, so every boundary is split across reads.
func TestReaderStream(t *testing.T) {
	var all []byte
	var want []*Message
	for _, file := range goldenFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, raw...)
		m, err := NewReader(bytes.NewReader(raw)).ReadMessage(testMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	for name, rd := range map[string]io.Reader{
		"one-byte": iotest.OneByteReader(bytes.NewReader(all)),
		"half":     iotest.HalfReader(bytes.NewReader(all)),
		"whole":    bytes.NewReader(all),
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(rd)
			for i, w := range want {
				m, err := r.ReadMessage(testMaxBody)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !m.Equal(w) {
					t.Fatalf("message %d differs:\n got %q\nwant %q", i, m.Marshal(), w.Marshal())
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("want io.EOF at end, got %v", err)
			}
		})
	}
}

// TestReaderLargeBody streams a body much larger than the read buffer and
// checks it arrives intact, with the boundary split at every offset mod 7.
func TestReaderLargeBody(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef\r\n-------notit\r\n"), 40000)
	m := &Message{TransactionID: "bigone", Method: MethodSEND, Flag: FlagContinued}
	m.SetHeader(HeaderContentType, "application/octet-stream")
	raw := AppendEndLine(append(m.AppendHead(nil), body...), m.TransactionID, FlagContinued, true)
	r := NewReader(&chopReader{data: raw, n: 7})
	got, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	var sink bytes.Buffer
	buf := make([]byte, 1000)
	if _, err := io.CopyBuffer(&sink, r, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sink.Bytes(), body) {
		t.Fatalf("body differs: got %d bytes, want %d", sink.Len(), len(body))
	}
	if got.Flag != FlagContinued {
		t.Fatalf("flag = %q", got.Flag)
	}
}

// chopReader returns at most n bytes per Read, cycling n to vary splits.
type chopReader struct {
	data []byte
	n, i int
}

func (c *chopReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.i++
	k := 1 + c.i%c.n
	if k > len(p) {
		k = len(p)
	}
	if k > len(c.data) {
		k = len(c.data)
	}
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

func TestReaderMalformed(t *testing.T) {
	const ok = "MSRP good1 SEND\r\nTo-Path: msrp://h:1/a;tcp\r\nFrom-Path: msrp://h:2/b;tcp\r\n-------good1$\r\n"
	tests := []struct {
		name    string
		in      string
		err     error
		tid     string // TransactionID in the ParseError
		recover bool   // the good message after it still parses
	}{
		{"not msrp", "HTTP/1.1 200 OK\r\n\r\n", ErrMalformed, "", false},
		{"short tid", "MSRP abc SEND\r\n-------abc$\r\n", ErrMalformed, "", false},
		{"bad tid char", "MSRP ab/cd SEND\r\n-------ab/cd$\r\n", ErrMalformed, "", false},
		{"lower method", "MSRP abcd send\r\n-------abcd$\r\n", ErrMalformed, "", false},
		{"bare LF", "MSRP abcd SEND\nTo-Path: x\n", ErrMalformed, "", false},
		{"bad header", "MSRP abcd SEND\r\nno colon here\r\n-------abcd$\r\n", ErrMalformed, "abcd", true},
		{"bad end-line flag", "MSRP abcd SEND\r\nTo-Path: x\r\n-------abcd!\r\n", ErrMalformed, "abcd", true},
		{"wrong end-line tid", "MSRP abcd SEND\r\n-------abce$\r\nX: y\r\n-------abcd$\r\n", ErrMalformed, "abcd", true},
		{"bad flag after body", "MSRP abcd SEND\r\nContent-Type: t/p\r\n\r\nhi\r\n-------abcdX\r\n", ErrMalformed, "abcd", true},
		{"header too large", "MSRP abcd SEND\r\nX: " + strings.Repeat("a", 200) + "\r\n-------abcd$\r\n", ErrTooLarge, "abcd", true},
		{"control char", "MSRP abcd SEND\r\nX: a\x00b\r\n-------abcd$\r\n", ErrMalformed, "abcd", true},
		{"empty comment", "MSRP abcd 200 \r\n-------abcd$\r\n", ErrMalformed, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in+ok), WithMaxHeaderSize(128))
			_, err := r.ReadMessage(testMaxBody)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want *ParseError wrapping %v", err, tt.err)
			}
			if pe.TransactionID != tt.tid {
				t.Fatalf("TransactionID = %q, want %q", pe.TransactionID, tt.tid)
			}
			m, err := r.ReadMessage(testMaxBody)
			if tt.recover {
				if err != nil || m.TransactionID != "good1" {
					t.Fatalf("after recovery: %v %v", m, err)
				}
			} else if err == nil {
				t.Fatalf("sticky error expected, got message %q", m.TransactionID)
			}
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	raw, err := os.ReadFile("testdata/rfc4975-send.msrp")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(raw); i++ {
		_, err := NewReader(bytes.NewReader(raw[:i])).ReadMessage(testMaxBody)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("truncated at %d: err = %v, want io.ErrUnexpectedEOF", i, err)
		}
	}
}

func TestReadMessageBodyLimit(t *testing.T) {
	raw, _ := os.ReadFile("testdata/rfc4975-send.msrp")
	_, err := NewReader(bytes.NewReader(raw)).ReadMessage(5)
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTooLarge) || pe.TransactionID != "a786hjs2" {
		t.Fatalf("err = %v", err)
	}
}

func TestByteRange(t *testing.T) {
	tests := []struct {
		in   string
		want ByteRange
		ok   bool
	}{
		{"1-25/25", ByteRange{1, 25, 25}, true},
		{"1-*/2049", ByteRange{1, -1, 2049}, true},
		{"2049-*/*", ByteRange{2049, -1, -1}, true},
		{"1-0/0", ByteRange{1, 0, 0}, true},
		{"0-1/1", ByteRange{}, false},
		{"1-2", ByteRange{}, false},
		{"a-2/3", ByteRange{}, false},
		{"*-2/3", ByteRange{}, false},
		{"1-2/3/4", ByteRange{}, false},
		{"1-99999999999999999999/1", ByteRange{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteRange(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err %v does not wrap ErrMalformed", err)
				}
				return
			}
			if got != tt.want || got.String() != tt.in {
				t.Fatalf("got %+v (%s), want %+v", got, got, tt.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		in   string
		want Status
		ok   bool
	}{
		{"000 200 OK", Status{200, "OK"}, true},
		{"000 413", Status{413, ""}, true},
		{"000 415 Unsupported Media Type", Status{415, "Unsupported Media Type"}, true},
		{"200 OK", Status{}, false},
		{"000 20 OK", Status{}, false},
		{"0000 200", Status{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStatus(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if tt.ok && (got != tt.want || got.String() != tt.in) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestReportModes(t *testing.T) {
	tests := []struct {
		headers []HeaderField
		success ReportMode
		failure ReportMode
	}{
		{nil, ReportNo, ReportYes},
		{[]HeaderField{{"Success-Report", "yes"}, {"Failure-Report", "no"}}, ReportYes, ReportNo},
		{[]HeaderField{{"success-report", "YES"}, {"Failure-Report", "partial"}}, ReportYes, ReportPartial},
		{[]HeaderField{{"Success-Report", "bogus"}, {"Failure-Report", "bogus"}}, ReportNo, ReportYes},
	}
	for i, tt := range tests {
		m := &Message{Headers: tt.headers}
		if s, f := m.SuccessReport(), m.FailureReport(); s != tt.success || f != tt.failure {
			t.Errorf("%d: got %v/%v, want %v/%v", i, s, f, tt.success, tt.failure)
		}
	}
}

func TestMessageHeaders(t *testing.T) {
	to := []URI{MustParseURI("msrp://relay:1/r;tcp"), MustParseURI("msrp://h:1/a;tcp")}
	from := []URI{MustParseURI("msrp://h:2/b;tcp")}
	m := NewRequest(MethodSEND, to, from)
	if !validTransactionID(m.TransactionID) {
		t.Fatalf("bad tid %q", m.TransactionID)
	}
	m.AddHeader("X-A", "1")
	m.AddHeader("x-a", "2")
	m.SetHeader("X-A", "3")
	if got := m.Header("X-a"); got != "3" {
		t.Fatalf("Header = %q", got)
	}
	m.DelHeader("X-A")
	if _, ok := m.Lookup("x-a"); ok {
		t.Fatal("DelHeader left a header")
	}
	p, err := m.ToPath()
	if err != nil || len(p) != 2 || !p[1].Equal(to[1]) {
		t.Fatalf("ToPath = %v, %v", p, err)
	}
	if _, err := (&Message{}).FromPath(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("missing From-Path: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, file := range goldenFiles(f) {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), WithMaxHeaderSize(4096))
		for range 8 {
			m, err := r.ReadMessage(1 << 16)
			if err != nil {
				var pe *ParseError
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.As(err, &pe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				if pe == nil || pe.TransactionID == "" {
					return
				}
				continue
			}
			out := m.Marshal()
			m2, err := NewReader(bytes.NewReader(out), WithMaxHeaderSize(8192)).ReadMessage(1 << 16)
			if err != nil {
				t.Fatalf("re-parse of %q: %v", out, err)
			}
			if !m.Equal(m2) {
				t.Fatalf("round trip differs:\n%q\n%q", out, m2.Marshal())
			}
			if out2 := m2.Marshal(); !bytes.Equal(out, out2) {
				t.Fatalf("serialization not stable:\n%q\n%q", out, out2)
			}
		}
	})
}
