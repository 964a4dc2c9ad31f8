package msrp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSessionRequest sends NICKNAME to a raw peer and checks the request
// on the wire and the Result of each response.
func TestSessionRequest(t *testing.T) {
	tests := []struct {
		name     string
		nick     string
		code     int
		comment  string
		wantErr  bool
		wantNick string
	}{
		{name: "accepted", nick: "alice", code: StatusOK, comment: "OK", wantNick: `"alice"`},
		{name: "in use", nick: "bob", code: 425, comment: "Nickname reserved or already in use", wantErr: true, wantNick: `"bob"`},
		{name: "quoted", nick: `a "b" \c`, code: 403, comment: "Forbidden", wantErr: true, wantNick: `"a \"b\" \\c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s, p := dialRawServer(t, Config{KeepAliveInterval: -1})
			type out struct {
				r   Result
				err error
			}
			done := make(chan out, 1)
			go func() {
				r, err := s.Request(ctx, MethodNICKNAME, []HeaderField{{Name: HeaderUseNickname, Value: QuoteString(tt.nick)}})
				done <- out{r, err}
			}()
			m := p.next()
			if m.Method != MethodNICKNAME || m.HasBody() || m.Flag != FlagEnd {
				t.Fatalf("peer got %q", m.Marshal())
			}
			var names []string
			for _, h := range m.Headers {
				names = append(names, h.Name)
			}
			if got := strings.Join(names, ","); got != "To-Path,From-Path,Use-Nickname" {
				t.Fatalf("headers %s", got)
			}
			if m.Header(HeaderToPath) != FormatPath(s.RemotePath()) || m.Header(HeaderFromPath) != s.LocalURI().String() {
				t.Fatalf("paths: %q", m.Marshal())
			}
			if got := m.Header(HeaderUseNickname); got != tt.wantNick {
				t.Fatalf("Use-Nickname %s, want %s", got, tt.wantNick)
			}
			resp := &Message{TransactionID: m.TransactionID, StatusCode: tt.code, Comment: tt.comment}
			resp.SetHeader(HeaderToPath, m.Header(HeaderFromPath))
			resp.SetHeader(HeaderFromPath, m.Header(HeaderToPath))
			if _, err := resp.WriteTo(p.nc); err != nil {
				t.Fatal(err)
			}
			o := <-done
			if o.r.Code != tt.code || o.r.Comment != tt.comment {
				t.Fatalf("result %+v, want %d %q", o.r, tt.code, tt.comment)
			}
			var se *StatusError
			if tt.wantErr != (o.err != nil) || (tt.wantErr && (!errors.As(o.err, &se) || se.Code != tt.code)) {
				t.Fatalf("err %v, want error %v", o.err, tt.wantErr)
			}
		})
	}
}

func TestSessionRequestTimeout(t *testing.T) {
	ctx := testContext(t)
	s, p := dialRawServer(t, Config{ResponseTimeout: 50 * time.Millisecond, KeepAliveInterval: -1})
	done := make(chan error, 1)
	var res Result
	go func() {
		var err error
		res, err = s.Request(ctx, MethodNICKNAME, []HeaderField{{Name: HeaderUseNickname, Value: `"x"`}})
		done <- err
	}()
	if m := p.next(); m.Method != MethodNICKNAME {
		t.Fatalf("peer got %q", m.Marshal())
	}
	err := <-done
	if !errors.Is(err, ErrTimeout) || res.Code != StatusRequestTimeout || res.Comment != "Timed out while waiting for transaction response" {
		t.Fatalf("result %+v, err %v; want the local 408", res, err)
	}
}

func TestSessionRequestInvalid(t *testing.T) {
	ctx := testContext(t)
	s, _ := dialRawServer(t, Config{KeepAliveInterval: -1})
	tests := []struct {
		name    string
		method  string
		headers []HeaderField
	}{
		{"empty method", "", nil},
		{"lower case", "nickname", nil},
		{"SEND", MethodSEND, nil},
		{"REPORT", MethodREPORT, nil},
		{"control character", MethodNICKNAME, []HeaderField{{Name: HeaderUseNickname, Value: "\"a\r\nb\""}}},
		{"bad name", MethodNICKNAME, []HeaderField{{Name: "Use Nickname", Value: `"a"`}}},
		{"path override", MethodNICKNAME, []HeaderField{{Name: "to-path", Value: "msrp://h/x;tcp"}}},
		{"content type", MethodNICKNAME, []HeaderField{{Name: HeaderContentType, Value: "text/plain"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Request(ctx, tt.method, tt.headers); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("err %v, want ErrInvalidArgument", err)
			}
		})
	}
	s.Close()
	if _, err := s.Request(ctx, MethodNICKNAME, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: err %v, want ErrClosed", err)
	}
}

// handlerPair connects two sessions over loopback with the given handlers.
func handlerPair(t *testing.T, ha, hb Handler) (a, b *Session) {
	t.Helper()
	ctx := testContext(t)
	cfg := Config{KeepAliveInterval: -1}
	l, err := Listen(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	bURI := l.URI("")
	aURI := URI{Host: "127.0.0.1", Port: DefaultPort, SessionID: NewSessionID(), Transport: "tcp"}
	acc, err := l.Prepare(SessionOptions{Local: bURI, Remote: []URI{aURI}, Handler: hb})
	if err != nil {
		t.Fatal(err)
	}
	a, err = Dial(ctx, aURI, []URI{bURI}, ha, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err = acc.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

// TestHandlerComments checks that the comments a Handler chooses reach
// the other side in responses and REPORTs.
func TestHandlerComments(t *testing.T) {
	reports := make(chan Report, 4)
	ha := HandlerFuncs{Report: func(_ context.Context, r *Report) { reports <- *r }}
	hb := HandlerFuncs{
		Chunk: func(_ context.Context, c *Chunk) int {
			if c.ContentType == "image/x-refused" {
				c.ResponseComment = "Refused here"
				return StatusUnsupportedMedia
			}
			return StatusOK
		},
		Complete: func(_ context.Context, c *Completion) int {
			switch c.ContentType {
			case "text/x-unwanted":
				c.ReportComment = "Unwanted Message"
				return StatusStopSending
			case "text/x-default":
				return StatusBadRequest
			}
			c.ReportComment = "Fine"
			return StatusOK
		},
		Request: func(_ context.Context, c *Chunk) int {
			if c.Request.Header(HeaderUseNickname) == `"taken"` {
				c.ResponseComment = "Nickname reserved or already in use"
				return 425
			}
			return StatusOK
		},
	}
	a, _ := handlerPair(t, ha, hb)
	ctx := testContext(t)

	t.Run("response", func(t *testing.T) {
		r, err := a.SendMessage(ctx, "image/x-refused", []byte("x"))
		if r.Code != StatusUnsupportedMedia || r.Comment != "Refused here" || err == nil {
			t.Fatalf("result %+v, err %v", r, err)
		}
	})
	reportTests := []struct {
		contentType, success string
		code                 int
		comment              string
	}{
		{"text/x-unwanted", "", StatusStopSending, "Unwanted Message"},
		{"text/x-default", "", StatusBadRequest, "Bad Request"},
		{"text/plain", "yes", StatusOK, "Fine"},
	}
	for _, tt := range reportTests {
		t.Run("report "+tt.contentType, func(t *testing.T) {
			d, err := a.Send(ctx, Outgoing{ContentType: tt.contentType, Body: strings.NewReader("body"), Size: 4, SuccessReport: tt.success == "yes"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Wait(ctx); err != nil {
				t.Fatalf("transaction: %v", err)
			}
			select {
			case r := <-reports:
				if r.MessageID != d.MessageID || r.Status.Code != tt.code || r.Status.Comment != tt.comment {
					t.Fatalf("REPORT %+v, want %d %q", r, tt.code, tt.comment)
				}
			case <-ctx.Done():
				t.Fatal("no REPORT")
			}
		})
	}
	t.Run("request", func(t *testing.T) {
		r, err := a.Request(ctx, MethodNICKNAME, []HeaderField{{Name: HeaderUseNickname, Value: QuoteString("taken")}})
		if r.Code != 425 || r.Comment != "Nickname reserved or already in use" || err == nil {
			t.Fatalf("result %+v, err %v", r, err)
		}
		r, err = a.Request(ctx, MethodNICKNAME, []HeaderField{{Name: HeaderUseNickname, Value: QuoteString("free")}})
		if r.Code != StatusOK || r.Comment != "OK" || err != nil {
			t.Fatalf("result %+v, err %v", r, err)
		}
	})
}

func TestQuoteString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"alice", `"alice"`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{"ünï", `"ünï"`},
	}
	for _, tt := range tests {
		if got := QuoteString(tt.in); got != tt.want {
			t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
