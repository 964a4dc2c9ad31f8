package filetransfer

import (
	"mime"
	"path/filepath"
	"strings"
)

// DefaultType is the MIME type of a file whose name says nothing.
const DefaultType = "application/octet-stream"

// encoding names the compression the reference's MIME guess (Python's
// mimetypes) recognises by extension ext (lower case); "" for none.
func encoding(ext string) string {
	switch ext {
	case ".gz":
		return "gzip"
	case ".bz2":
		return "bzip2"
	case ".xz":
		return "xz"
	case ".z":
		return "compress"
	case ".br":
		return "br"
	}
	return ""
}

// GuessType guesses a file's MIME type from its name, as the reference
// does: a compressed file (.gz, .bz2, .xz, .Z, .br) is
// application/x-<encoding>; otherwise the type registered for the
// extension (Go's mime table and the system's), without parameters;
// otherwise DefaultType.
func GuessType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if enc := encoding(ext); enc != "" {
		return "application/x-" + enc
	}
	if ext != "" {
		if t := mime.TypeByExtension(ext); t != "" {
			if mt, _, err := mime.ParseMediaType(t); err == nil {
				return mt
			}
		}
	}
	return DefaultType
}
