package msrpstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// FuzzRawInput feeds what a peer sends, after binding, to a connection
// whose session has a raw stream's handler: whatever it is, nothing
// panics, the connection ends when the input does, and the bytes handed
// to Receive are the bodies of the accepted SENDs only — never more than
// the peer sent.
func FuzzRawInput(f *testing.F) {
	send := func(tid, ct, body string) string {
		return fmt.Sprintf("MSRP %s SEND\r\nTo-Path: msrp://127.0.0.1:2855/local;tcp\r\nFrom-Path: msrp://127.0.0.1:2856/remote;tcp\r\n"+
			"Message-ID: %s\r\nByte-Range: 1-%d/%d\r\nSuccess-Report: no\r\nFailure-Report: partial\r\nContent-Type: %s\r\n\r\n%s\r\n-------%s$\r\n",
			tid, tid, len(body), len(body), ct, body, tid)
	}
	f.Add([]byte(send("tid00001", rfbType, "RFB 003.008\n")))
	f.Add([]byte(send("tid00002", "text/plain", "hello") + send("tid00003", rfbType, "x")))
	f.Add([]byte("MSRP tid00004 FOO\r\nTo-Path: msrp://127.0.0.1:2855/local;tcp\r\nFrom-Path: msrp://127.0.0.1:2856/remote;tcp\r\n-------tid00004$\r\n"))
	f.Add([]byte("MSRP tid00005 200 OK\r\nTo-Path: msrp://127.0.0.1:2855/local;tcp\r\n-------tid00005$\r\n"))
	f.Add([]byte("garbage\r\n\r\n"))
	binding := "MSRP bind0001 SEND\r\nTo-Path: msrp://127.0.0.1:2855/local;tcp\r\nFrom-Path: msrp://127.0.0.1:2856/remote;tcp\r\n" +
		"Message-ID: bind0001\r\nByte-Range: 1-0/0\r\n-------bind0001$\r\n"
	local := msrp.URI{Host: "127.0.0.1", Port: 2855, SessionID: "local", Transport: "tcp"}
	remote := msrp.URI{Host: "127.0.0.1", Port: 2856, SessionID: "remote", Transport: "tcp"}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got bytes.Buffer
		r := &Raw{cfg: RawConfig{AcceptTypes: []string{rfbType}, Receive: func(_ context.Context, _ string, body io.Reader) {
			_, _ = io.Copy(&got, body)
		}}}
		ours, peer := net.Pipe()
		c := msrp.NewConn(ours, msrp.Config{KeepAliveInterval: -1, Logger: slog.New(slog.DiscardHandler)})
		if _, err := c.Expect(msrp.SessionOptions{Local: local, Remote: []msrp.URI{remote}, Handler: r.config().Handler.msrp()}); err != nil {
			t.Fatal(err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			_, _ = io.Copy(io.Discard, peer)
		}()
		_, _ = io.WriteString(peer, binding)
		_, _ = peer.Write(in)
		peer.Close()
		<-c.Done()
		c.Close()
		<-drained
		if got.Len() > len(in) {
			t.Fatalf("Receive got %d bytes from %d sent", got.Len(), len(in))
		}
		if got.Len() > 0 && !strings.Contains(strings.ToLower(string(in)), rfbType) {
			t.Fatalf("Receive got %q from input without %s", got.Bytes(), rfbType)
		}
	})
}
