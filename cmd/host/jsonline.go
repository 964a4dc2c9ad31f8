package main

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
)

// appendLine appends a notification's --json line, byte for byte what
// encoder (encoding/json without HTML escaping) writes for
// {"time", "name", "sender", "data" omitted when nil} and a newline,
// without reflection: the data of the session notifications are maps of
// strings, numbers and lists that a busy host prints a dozen times a call.
// It reports false, having appended nothing, when data holds a value it
// does not write itself (the caller falls back on encoding/json).
func appendLine(b []byte, t time.Time, name, sender string, data any) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	start := len(b)
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","name":`...)
	b = appendString(b, name)
	b = append(b, `,"sender":`...)
	b = appendString(b, sender)
	if data != nil {
		b = append(b, `,"data":`...)
		var ok bool
		if b, ok = appendValue(b, data); !ok {
			return b[:start], false
		}
	}
	return append(b, "}\n"...), true
}

// appendValue appends v as encoding/json would, for the types it knows.
func appendValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, v), true
	case session.Originator:
		return appendString(b, string(v)), true
	case session.AckReceived:
		return appendString(b, string(v)), true
	case sdk.DidEndData: // MediaStreamDidEnd
		if v.Error == "" {
			return append(b, "{}"...), true
		}
		b = append(b, `{"error":`...)
		return append(appendString(b, v.Error), '}'), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case []string:
		if v == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), true
	case map[string]any:
		if v == nil {
			return append(b, "null"...), true
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendValue(b, v[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: \", \\, \n, \r, \t, \b, \f, other control characters as
// \u00XX, invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
