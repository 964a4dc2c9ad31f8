package vnctest

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"time"
)

// RFB encodings the Client asks for and decodes (RFC 6143 §7.7).
const (
	EncodingRaw         int32 = 0
	EncodingCopyRect    int32 = 1
	EncodingZRLE        int32 = 16
	EncodingDesktopSize int32 = -223
	EncodingLastRect    int32 = -224
)

// ErrProtocol is wrapped by the errors of a server that breaks the
// protocol: a bad version, a rectangle outside the screen, an unknown
// encoding or message.
var ErrProtocol = errors.New("vnctest: RFB protocol error")

// maxScreen bounds the screen size a server may announce, so that a broken
// one cannot make the client allocate gigabytes.
const maxScreen = 4096

// Client is an RFB 3.8 client with security type None and a 32-bit
// true-colour pixel format (red, green, blue in the low three bytes,
// little-endian). It keeps the framebuffer it has been sent.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	n    countingReader

	Width, Height int
	Name          string
	// Frame is the framebuffer as updated so far.
	Frame *image.RGBA

	zbuf bytes.Buffer // ZRLE's compressed bytes, one zlib stream per connection
	zr   io.ReadCloser
	buf  []byte
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Dial connects to addr and runs the handshake within timeout.
func Dial(addr string, timeout time.Duration) (*Client, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := NewClient(conn, timeout)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// NewClient runs the handshake on conn (ProtocolVersion, security None,
// ClientInit shared, ServerInit, SetPixelFormat) within timeout and
// returns the client, which owns conn.
func NewClient(conn net.Conn, timeout time.Duration) (*Client, error) {
	c := &Client{conn: conn}
	c.n.r = conn
	c.r = bufio.NewReaderSize(&c.n, 64<<10)
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
		defer conn.SetDeadline(time.Time{})
	}
	if err := c.handshake(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) handshake() error {
	var v [12]byte
	if _, err := io.ReadFull(c.r, v[:]); err != nil {
		return fmt.Errorf("reading ProtocolVersion: %w", err)
	}
	if !bytes.HasPrefix(v[:], []byte("RFB 003.")) || v[11] != '\n' {
		return fmt.Errorf("%w: ProtocolVersion %q", ErrProtocol, v[:])
	}
	if _, err := c.conn.Write([]byte("RFB 003.008\n")); err != nil {
		return err
	}
	var n [1]byte
	if _, err := io.ReadFull(c.r, n[:]); err != nil {
		return fmt.Errorf("reading security types: %w", err)
	}
	if n[0] == 0 {
		return fmt.Errorf("%w: connection refused: %s", ErrProtocol, c.reason())
	}
	types := make([]byte, n[0])
	if _, err := io.ReadFull(c.r, types); err != nil {
		return err
	}
	if bytes.IndexByte(types, 1) < 0 {
		return fmt.Errorf("%w: security types %v lack None", ErrProtocol, types)
	}
	if _, err := c.conn.Write([]byte{1}); err != nil {
		return err
	}
	var res uint32
	if err := binary.Read(c.r, binary.BigEndian, &res); err != nil {
		return fmt.Errorf("reading SecurityResult: %w", err)
	}
	if res != 0 {
		return fmt.Errorf("%w: security failed: %s", ErrProtocol, c.reason())
	}
	if _, err := c.conn.Write([]byte{1}); err != nil { // ClientInit: shared
		return err
	}
	var init struct {
		W, H   uint16
		Format [16]byte
		NameN  uint32
	}
	if err := binary.Read(c.r, binary.BigEndian, &init); err != nil {
		return fmt.Errorf("reading ServerInit: %w", err)
	}
	if init.W == 0 || init.H == 0 || init.W > maxScreen || init.H > maxScreen || init.NameN > 1<<16 {
		return fmt.Errorf("%w: ServerInit %dx%d, name of %d bytes", ErrProtocol, init.W, init.H, init.NameN)
	}
	name := make([]byte, init.NameN)
	if _, err := io.ReadFull(c.r, name); err != nil {
		return err
	}
	c.Width, c.Height, c.Name = int(init.W), int(init.H), string(name)
	c.Frame = image.NewRGBA(image.Rect(0, 0, c.Width, c.Height))
	// SetPixelFormat: 32 bpp, depth 24, little-endian, true colour,
	// max 255 each, shifts red 16, green 8, blue 0.
	msg := []byte{0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0}
	_, err := c.conn.Write(msg)
	return err
}

func (c *Client) reason() string {
	var n uint32
	if binary.Read(c.r, binary.BigEndian, &n) != nil || n > 1<<16 {
		return "(no reason)"
	}
	b := make([]byte, n)
	_, _ = io.ReadFull(c.r, b)
	return string(b)
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// BytesRead is the number of bytes read from the server so far.
func (c *Client) BytesRead() int64 { return c.n.n }

// SetEncodings sends SetEncodings with encs in order of preference.
func (c *Client) SetEncodings(encs ...int32) error {
	msg := make([]byte, 4+4*len(encs))
	msg[0] = 2
	binary.BigEndian.PutUint16(msg[2:], uint16(len(encs)))
	for i, e := range encs {
		binary.BigEndian.PutUint32(msg[4+4*i:], uint32(e))
	}
	_, err := c.conn.Write(msg)
	return err
}

// Request sends FramebufferUpdateRequest for the whole screen.
func (c *Client) Request(incremental bool) error {
	return c.RequestRect(incremental, image.Rect(0, 0, c.Width, c.Height))
}

// RequestRect sends FramebufferUpdateRequest for r.
func (c *Client) RequestRect(incremental bool, r image.Rectangle) error {
	msg := make([]byte, 10)
	msg[0] = 3
	if incremental {
		msg[1] = 1
	}
	binary.BigEndian.PutUint16(msg[2:], uint16(r.Min.X))
	binary.BigEndian.PutUint16(msg[4:], uint16(r.Min.Y))
	binary.BigEndian.PutUint16(msg[6:], uint16(r.Dx()))
	binary.BigEndian.PutUint16(msg[8:], uint16(r.Dy()))
	_, err := c.conn.Write(msg)
	return err
}

// ReadUpdate reads server messages until a whole FramebufferUpdate has
// been applied to Frame, and returns how many rectangles it had.
// SetColourMapEntries, Bell and ServerCutText are read and dropped.
func (c *Client) ReadUpdate() (int, error) {
	for {
		t, err := c.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch t {
		case 0:
			return c.readUpdate()
		case 1: // SetColourMapEntries
			var h struct {
				Pad   byte
				First uint16
				N     uint16
			}
			if err := binary.Read(c.r, binary.BigEndian, &h); err != nil {
				return 0, err
			}
			if _, err := c.r.Discard(6 * int(h.N)); err != nil {
				return 0, err
			}
		case 2: // Bell
		case 3: // ServerCutText
			var h struct {
				Pad [3]byte
				N   uint32
			}
			if err := binary.Read(c.r, binary.BigEndian, &h); err != nil {
				return 0, err
			}
			if _, err := io.CopyN(io.Discard, c.r, int64(h.N)); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("%w: server message type %d", ErrProtocol, t)
		}
	}
}

func (c *Client) readUpdate() (int, error) {
	var h struct {
		Pad byte
		N   uint16
	}
	if err := binary.Read(c.r, binary.BigEndian, &h); err != nil {
		return 0, err
	}
	rects := 0
	for i := 0; i < int(h.N); i++ {
		var r struct {
			X, Y, W, H uint16
			Enc        int32
		}
		if err := binary.Read(c.r, binary.BigEndian, &r); err != nil {
			return rects, err
		}
		rect := image.Rect(int(r.X), int(r.Y), int(r.X)+int(r.W), int(r.Y)+int(r.H))
		switch r.Enc {
		case EncodingLastRect:
			return rects, nil
		case EncodingDesktopSize:
			if r.W == 0 || r.H == 0 || r.W > maxScreen || r.H > maxScreen {
				return rects, fmt.Errorf("%w: DesktopSize %dx%d", ErrProtocol, r.W, r.H)
			}
			c.Width, c.Height = int(r.W), int(r.H)
			c.Frame = image.NewRGBA(image.Rect(0, 0, c.Width, c.Height))
			continue
		}
		if !rect.In(c.Frame.Bounds()) {
			return rects, fmt.Errorf("%w: rectangle %v outside the %dx%d screen", ErrProtocol, rect, c.Width, c.Height)
		}
		var err error
		switch r.Enc {
		case EncodingRaw:
			err = c.raw(rect)
		case EncodingCopyRect:
			err = c.copyRect(rect)
		case EncodingZRLE:
			err = c.zrle(rect)
		default:
			err = fmt.Errorf("%w: encoding %d", ErrProtocol, r.Enc)
		}
		if err != nil {
			return rects, err
		}
		rects++
	}
	return rects, nil
}

// set stores a pixel of our format (0x00RRGGBB, little-endian bytes b, g, r).
func (c *Client) set(x, y int, b, g, r byte) {
	i := c.Frame.PixOffset(x, y)
	c.Frame.Pix[i], c.Frame.Pix[i+1], c.Frame.Pix[i+2], c.Frame.Pix[i+3] = r, g, b, 0xff
}

func (c *Client) raw(rect image.Rectangle) error {
	row := 4 * rect.Dx()
	if cap(c.buf) < row {
		c.buf = make([]byte, row)
	}
	line := c.buf[:row]
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		if _, err := io.ReadFull(c.r, line); err != nil {
			return err
		}
		for x := range rect.Dx() {
			p := line[4*x:]
			c.set(rect.Min.X+x, y, p[0], p[1], p[2])
		}
	}
	return nil
}

func (c *Client) copyRect(rect image.Rectangle) error {
	var src struct{ X, Y uint16 }
	if err := binary.Read(c.r, binary.BigEndian, &src); err != nil {
		return err
	}
	from := image.Rect(int(src.X), int(src.Y), int(src.X)+rect.Dx(), int(src.Y)+rect.Dy())
	if !from.In(c.Frame.Bounds()) {
		return fmt.Errorf("%w: CopyRect source %v outside the screen", ErrProtocol, from)
	}
	tmp := image.NewRGBA(from)
	for y := from.Min.Y; y < from.Max.Y; y++ {
		copy(tmp.Pix[tmp.PixOffset(from.Min.X, y):tmp.PixOffset(from.Max.X, y)], c.Frame.Pix[c.Frame.PixOffset(from.Min.X, y):c.Frame.PixOffset(from.Max.X, y)])
	}
	for y := range rect.Dy() {
		copy(c.Frame.Pix[c.Frame.PixOffset(rect.Min.X, rect.Min.Y+y):c.Frame.PixOffset(rect.Max.X, rect.Min.Y+y)],
			tmp.Pix[tmp.PixOffset(from.Min.X, from.Min.Y+y):tmp.PixOffset(from.Max.X, from.Min.Y+y)])
	}
	return nil
}

// zrle decodes one ZRLE rectangle (RFC 6143 §7.7.6): zlib data, one stream
// for the whole connection, of 64×64 tiles with CPIXELs of three bytes.
func (c *Client) zrle(rect image.Rectangle) error {
	var n uint32
	if err := binary.Read(c.r, binary.BigEndian, &n); err != nil {
		return err
	}
	if n > 64<<20 {
		return fmt.Errorf("%w: ZRLE data of %d bytes", ErrProtocol, n)
	}
	if _, err := io.CopyN(&c.zbuf, c.r, int64(n)); err != nil {
		return err
	}
	if c.zr == nil {
		zr, err := zlib.NewReader(&c.zbuf)
		if err != nil {
			return fmt.Errorf("%w: ZRLE zlib header: %v", ErrProtocol, err)
		}
		c.zr = zr
	}
	z := &zrleReader{r: c.zr}
	for ty := rect.Min.Y; ty < rect.Max.Y; ty += 64 {
		for tx := rect.Min.X; tx < rect.Max.X; tx += 64 {
			tile := image.Rect(tx, ty, min(tx+64, rect.Max.X), min(ty+64, rect.Max.Y))
			if err := c.zrleTile(z, tile); err != nil {
				return err
			}
		}
	}
	return nil
}

type zrleReader struct {
	r   io.Reader
	one [3]byte
}

func (z *zrleReader) byte() (byte, error) {
	_, err := io.ReadFull(z.r, z.one[:1])
	if err != nil {
		return 0, fmt.Errorf("%w: ZRLE data: %v", ErrProtocol, err)
	}
	return z.one[0], nil
}

func (z *zrleReader) cpixel() ([3]byte, error) {
	_, err := io.ReadFull(z.r, z.one[:3])
	if err != nil {
		return z.one, fmt.Errorf("%w: ZRLE data: %v", ErrProtocol, err)
	}
	return z.one, nil
}

func (z *zrleReader) runLength() (int, error) {
	n := 1
	for {
		b, err := z.byte()
		if err != nil {
			return 0, err
		}
		n += int(b)
		if n > 64*64+255 {
			return 0, fmt.Errorf("%w: ZRLE run too long", ErrProtocol)
		}
		if b != 255 {
			return n, nil
		}
	}
}

func (c *Client) zrleTile(z *zrleReader, tile image.Rectangle) error {
	sub, err := z.byte()
	if err != nil {
		return err
	}
	w, h := tile.Dx(), tile.Dy()
	put := func(i int, p [3]byte) { c.set(tile.Min.X+i%w, tile.Min.Y+i/w, p[0], p[1], p[2]) }
	switch {
	case sub == 0:
		for i := range w * h {
			p, err := z.cpixel()
			if err != nil {
				return err
			}
			put(i, p)
		}
	case sub == 1:
		p, err := z.cpixel()
		if err != nil {
			return err
		}
		for i := range w * h {
			put(i, p)
		}
	case sub >= 2 && sub <= 16:
		pal := make([][3]byte, sub)
		for i := range pal {
			if pal[i], err = z.cpixel(); err != nil {
				return err
			}
		}
		bits := 4
		switch {
		case sub == 2:
			bits = 1
		case sub <= 4:
			bits = 2
		}
		for y := range h {
			var cur byte
			left := 0
			for x := range w {
				if left == 0 {
					if cur, err = z.byte(); err != nil {
						return err
					}
					left = 8
				}
				left -= bits
				idx := int(cur>>left) & (1<<bits - 1)
				if idx >= len(pal) {
					return fmt.Errorf("%w: ZRLE palette index %d of %d", ErrProtocol, idx, len(pal))
				}
				put(y*w+x, pal[idx])
			}
		}
	case sub == 128:
		for i := 0; i < w*h; {
			p, err := z.cpixel()
			if err != nil {
				return err
			}
			n, err := z.runLength()
			if err != nil {
				return err
			}
			if i+n > w*h {
				return fmt.Errorf("%w: ZRLE run past the tile", ErrProtocol)
			}
			for ; n > 0; n-- {
				put(i, p)
				i++
			}
		}
	case sub >= 130:
		pal := make([][3]byte, sub-128)
		for i := range pal {
			if pal[i], err = z.cpixel(); err != nil {
				return err
			}
		}
		for i := 0; i < w*h; {
			b, err := z.byte()
			if err != nil {
				return err
			}
			idx, n := int(b&127), 1
			if b&128 != 0 {
				if n, err = z.runLength(); err != nil {
					return err
				}
			}
			if idx >= len(pal) || i+n > w*h {
				return fmt.Errorf("%w: ZRLE palette run out of range", ErrProtocol)
			}
			for ; n > 0; n-- {
				put(i, pal[idx])
				i++
			}
		}
	default:
		return fmt.Errorf("%w: ZRLE subencoding %d", ErrProtocol, sub)
	}
	return nil
}

// FullUpdate asks for the whole screen (non-incremental) and reads the
// update, within timeout.
func (c *Client) FullUpdate(timeout time.Duration) error {
	if timeout > 0 {
		_ = c.conn.SetDeadline(time.Now().Add(timeout))
		defer c.conn.SetDeadline(time.Time{})
	}
	if err := c.Request(false); err != nil {
		return err
	}
	_, err := c.ReadUpdate()
	return err
}
