package baresiptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fatalTB records a Fatalf and ends the goroutine as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Helper() {}

// TestBinaryMissingFails proves a missing baresip fails the test with
// how to install it instead of skipping it.
func TestBinaryMissingFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	f := &fatalTB{TB: t}
	done := make(chan string)
	go func() {
		defer func() { done <- f.msg }()
		Binary(f)
	}()
	if msg := <-done; !strings.Contains(msg, "baresip-core") || !strings.Contains(msg, ".ci/deps") {
		t.Errorf("Binary without baresip: Fatalf(%q), want the package and .ci/deps named", msg)
	}
}

func TestStartErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bin := Binary(t)

	// A bare codec name would leave every codec enabled.
	_, err := start(t, ctx, bin, Options{Name: "bad-codec", ToneHz: 440, Codecs: []string{"opus"}, Lifetime: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "audio codec not found: opus/8000/1") {
		t.Errorf("start with codec \"opus\": %v, want the codec refused", err)
	}

	// A SIP port already in use.
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	_, err = start(t, ctx, bin, Options{Name: "taken", ToneHz: 440, Port: port, Lifetime: 10 * time.Second})
	t.Logf("start on a taken port: %v", err)
	if !errors.Is(err, errPortTaken) {
		t.Errorf("start on a taken port: %v, want errPortTaken", err)
	}
}
