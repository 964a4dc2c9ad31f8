package msrp

import (
	"io"
	"net"
	"os"
	"strings"
	"testing"
)

// FuzzConn feeds arbitrary bytes to a Conn with a session waiting to be
// bound. Whatever arrives, the Conn must not panic, must answer without
// blocking its reader, and must close once the input ends.
func FuzzConn(f *testing.F) {
	bind := strings.ReplaceAll("MSRP b0000001 SEND\nTo-Path: msrp://h:1/sa;tcp\nFrom-Path: msrp://h:2/sb;tcp\nMessage-ID: e\nByte-Range: 1-0/0\n-------b0000001$\n", "\n", "\r\n")
	chunk := strings.ReplaceAll("MSRP b0000002 SEND\nTo-Path: msrp://h:1/sa;tcp\nFrom-Path: msrp://h:2/sb;tcp\nMessage-ID: m\nByte-Range: 1-5/10\nSuccess-Report: yes\nContent-Type: text/plain\n\nhello\n-------b0000002+\n", "\n", "\r\n")
	f.Add([]byte(bind + chunk))
	f.Add([]byte(bind + strings.ReplaceAll(chunk, "+\r\n", "$\r\n")))
	f.Add([]byte(bind + "MSRP b0000003 REPORT\r\nTo-Path: msrp://h:1/sa;tcp\r\nFrom-Path: msrp://h:2/sb;tcp\r\nMessage-ID: m\r\nByte-Range: 1-5/5\r\nStatus: 000 200 OK\r\n-------b0000003$\r\n"))
	for _, file := range goldenFiles(f) {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte(bind), raw...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		c := NewConn(a, Config{KeepAliveInterval: -1, MaxMessageSize: 1 << 12, MaxHeaderSize: 1 << 12})
		defer c.Close()
		local, remote := URI{Host: "h", Port: 1, SessionID: "sa", Transport: "tcp"}, URI{Host: "h", Port: 2, SessionID: "sb", Transport: "tcp"}
		if _, err := c.Expect(SessionOptions{Local: local, Remote: []URI{remote}}); err != nil {
			t.Fatal(err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			_, _ = io.Copy(io.Discard, b)
		}()
		_, _ = b.Write(data)
		_ = b.Close()
		<-c.Done()
		_ = c.Close()
		<-drained
	})
}
