package vnctest

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"net"
	"testing"
	"time"
)

const timeout = 20 * time.Second

// TestServerShowsPicture: an Xvnc started by StartServer serves the known
// picture, pixel for pixel, in Raw and in ZRLE, and vncsnapshot gets the
// same framebuffer with its encodings.
func TestServerShowsPicture(t *testing.T) {
	s := StartServer(t, ServerOptions{Width: 200, Height: 120})
	want := s.Picture().Image(200, 120)
	for _, tt := range []struct {
		name string
		enc  int32
	}{{"raw", EncodingRaw}, {"zrle", EncodingZRLE}} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(s.Addr(), timeout)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Width != 200 || c.Height != 120 || c.Name != "vnctest" {
				t.Fatalf("ServerInit %dx%d %q", c.Width, c.Height, c.Name)
			}
			if err := c.SetEncodings(tt.enc); err != nil {
				t.Fatal(err)
			}
			// Twice: ZRLE's zlib stream goes on across updates.
			for range 2 {
				if err := c.FullUpdate(timeout); err != nil {
					t.Fatal(err)
				}
				if n, at := Diff(c.Frame, want); n != 0 {
					t.Fatalf("%d pixels differ from the picture, first at %v: %v, want %v", n, at, c.Frame.RGBAAt(at.X, at.Y), want.RGBAAt(at.X, at.Y))
				}
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var first []byte
	for _, enc := range []string{"raw", "zlib"} {
		b, err := Snapshot(ctx, t, s.Addr(), enc)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, 200, 120) {
			t.Fatalf("snapshot of %v", img.Bounds())
		}
		// JPEG blurs the edges; the colours of the picture's flat areas stay.
		r, g, bl, _ := img.At(100, 60).RGBA()
		w := want.RGBAAt(100, 60)
		if d := absDiff(r>>8, uint32(w.R)) + absDiff(g>>8, uint32(w.G)) + absDiff(bl>>8, uint32(w.B)); d > 60 {
			t.Errorf("%s snapshot: centre pixel %d,%d,%d, want about %v", enc, r>>8, g>>8, bl>>8, w)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Errorf("snapshots with %s and raw differ", enc)
		}
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestKill: a killed server closes its clients' connections.
func TestKill(t *testing.T) {
	s := StartServer(t, ServerOptions{Width: 64, Height: 48})
	c, err := Dial(s.Addr(), timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.Kill()
	_ = c.conn.SetDeadline(time.Now().Add(timeout))
	if err := c.FullUpdate(timeout); err == nil {
		t.Fatal("an update from a killed server")
	}
}

// fuzzConn reads the fuzzer's bytes and drops what the client writes.
type fuzzConn struct {
	net.Conn
	r *bytes.Reader
}

func (c fuzzConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c fuzzConn) Write(p []byte) (int, error) { return len(p), nil }
func (c fuzzConn) SetDeadline(time.Time) error { return nil }
func (c fuzzConn) Close() error                { return nil }

// FuzzClient: whatever a server sends, the client's handshake and update
// reading return an error or succeed with rectangles inside the screen;
// they never panic nor allocate beyond the bounds.
func FuzzClient(f *testing.F) {
	hs := []byte("RFB 003.008\n\x01\x01\x00\x00\x00\x00\x00\x10\x00\x08\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01x")
	f.Add(hs)
	// Raw 2×1 rectangle.
	f.Add(append(append([]byte{}, hs...), 0, 0, 0, 1, 0, 1, 0, 2, 0, 2, 0, 1, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0))
	// ZRLE: one solid tile (zlib of 01 11 22 33).
	f.Add(append(append([]byte{}, hs...), 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 16,
		0, 0, 0, 12, 0x78, 0x9c, 0x62, 0x14, 0x54, 0x32, 0x06, 0x04, 0x00, 0x00, 0xff, 0xff))
	// LastRect, a bell, a cut text.
	f.Add(append(append([]byte{}, hs...), 2, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x20, 0xff, 0xff, 0xff, 0x20))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewClient(fuzzConn{r: bytes.NewReader(data)}, 0)
		if err != nil {
			return
		}
		c.r = bufio.NewReader(c.r) // keep reading the same bytes
		for range 4 {
			if _, err := c.ReadUpdate(); err != nil {
				return
			}
			if c.Frame.Bounds() != image.Rect(0, 0, c.Width, c.Height) {
				t.Fatalf("frame %v for a %dx%d screen", c.Frame.Bounds(), c.Width, c.Height)
			}
		}
	})
}
