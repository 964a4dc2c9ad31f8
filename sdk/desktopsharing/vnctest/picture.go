package vnctest

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

// Picture is a known picture painted on a server's root window: a
// two-colour bitmap of Width×Height tiled from the top-left corner, as
// xsetroot -bitmap paints it. Foreground is where a bit is set.
type Picture struct {
	Width, Height int
	Bits          []byte // XBM order: rows padded to whole bytes, least significant bit first
	Foreground    color.RGBA
	Background    color.RGBA
}

// DefaultPicture is a 64×48 tile of diagonal bands, rings and a frame, in
// red on blue: every row and column differs from its neighbours, so a
// shifted, cropped or mixed-up update does not match it.
func DefaultPicture() Picture {
	p := Picture{Width: 64, Height: 48, Foreground: color.RGBA{0xff, 0x20, 0x10, 0xff}, Background: color.RGBA{0x10, 0x40, 0xc0, 0xff}}
	stride := (p.Width + 7) / 8
	p.Bits = make([]byte, stride*p.Height)
	for y := range p.Height {
		for x := range p.Width {
			dx, dy := x-p.Width/2, y-p.Height/2
			on := (x+2*y)%11 < 4 || (dx*dx+dy*dy)%97 < 20 || x == 0 || y == 0
			if on {
				p.Bits[y*stride+x/8] |= 1 << (x % 8)
			}
		}
	}
	return p
}

// At returns the colour of the picture at (x, y) of the screen.
func (p Picture) At(x, y int) color.RGBA {
	x, y = x%p.Width, y%p.Height
	stride := (p.Width + 7) / 8
	if p.Bits[y*stride+x/8]&(1<<(x%8)) != 0 {
		return p.Foreground
	}
	return p.Background
}

// Image returns the picture tiled over a screen of w×h.
func (p Picture) Image(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, p.At(x, y))
		}
	}
	return img
}

// XBM returns the picture as an X bitmap file, for xsetroot -bitmap.
func (p Picture) XBM() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "#define p_width %d\n#define p_height %d\nstatic unsigned char p_bits[] = {\n", p.Width, p.Height)
	for i, v := range p.Bits {
		if i > 0 {
			b.WriteString(",")
			if i%12 == 0 {
				b.WriteString("\n")
			}
		}
		fmt.Fprintf(&b, " 0x%02x", v)
	}
	b.WriteString("};\n")
	return []byte(b.String())
}

func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// Diff counts the pixels where a and b differ and returns the first one;
// images of different bounds differ everywhere.
func Diff(a, b *image.RGBA) (n int, first image.Point) {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy(), a.Bounds().Min
	}
	first = image.Pt(-1, -1)
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	return n, first
}
