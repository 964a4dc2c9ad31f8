package safename

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ErrUnsafe means nothing of a name is left to save a file under.
var ErrUnsafe = errors.New("safename: unusable file name")

// MaxBytes bounds a sanitised name, leaving room under the usual 255-byte
// limit of a file name for Unique's "-NNNN" suffix.
const MaxBytes = 200

// Sanitize returns a safe single-element file name for the peer's name
// (see the package documentation), or an error wrapping ErrUnsafe.
func Sanitize(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return '_'
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		case r == '\u2028' || r == '\u2029' || r == '\u202e' || r == '\u202d':
			// Line separators and bidi overrides make a name lie about
			// its extension ("txt.exe" shown as "exe.txt").
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if strings.Trim(name, "_") == "" {
		return "", fmt.Errorf("%w: %q", ErrUnsafe, name)
	}
	if reserved(name) {
		name = "_" + name
	}
	return shorten(name, MaxBytes), nil
}

// reserved reports whether name is a Windows device name, whatever its
// extension: CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the superscript
// digits Windows also reserves).
func reserved(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) >= 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		switch base[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// shorten cuts name to at most max bytes on a rune boundary, keeping its
// extension when the extension is short.
func shorten(name string, max int) string {
	if len(name) <= max {
		return name
	}
	ext := filepath.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	base := name[:len(name)-len(ext)]
	keep := max - len(ext)
	for keep > 0 && !utf8.RuneStart(base[keep]) {
		keep--
	}
	return base[:keep] + ext
}

// Unique calls try with name, then name-1.ext, name-2.ext, … (the
// reference's UniqueFilenameGenerator; ext is name's extension) until try
// reports done or fails, at most limit times. It returns the name try
// accepted.
func Unique(name string, limit int, try func(candidate string) (done bool, err error)) (string, error) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; i < limit; i++ {
		c := name
		if i > 0 {
			c = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		done, err := try(c)
		if err != nil {
			return "", err
		}
		if done {
			return c, nil
		}
	}
	return "", fmt.Errorf("safename: %d names like %q exist already", limit, name)
}
