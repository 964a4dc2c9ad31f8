package refer

import (
	"strings"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
)

// Address is the value of a header holding one name-addr or addr-spec and
// header parameters, as Refer-To (RFC 3515 §2.1) and Referred-By (RFC 3892
// §3) do:
//
//	"Bob" <sip:bob@example.com;method=INVITE?Replaces=...>;param=value
//	sip:bob@example.com;param=value
//
// In the second form (no angle brackets) every parameter belongs to the
// header, not to the URI (RFC 3261 §20.10).
type Address struct {
	// DisplayName is the display name, unquoted; "" when absent.
	DisplayName string
	// URI is the address, with its own parameters and headers. URI header
	// values are kept escaped, as on the wire.
	URI sip.Uri
	// Params are the header parameters after the URI, in order. A quoted
	// value keeps its quotes.
	Params sip.HeaderParams
}

// Param returns the value of the header parameter name, compared
// case-insensitively.
func (a Address) Param(name string) (string, bool) { return get(a.Params, name) }

// String writes the address as a name-addr: the display name always
// quoted, the URI always in angle brackets, then the parameters.
func (a Address) String() string {
	var b strings.Builder
	if a.DisplayName != "" {
		b.WriteString(quote(a.DisplayName))
		b.WriteByte(' ')
	}
	b.WriteByte('<')
	b.WriteString(formatURI(&a.URI))
	b.WriteByte('>')
	writeParams(&b, a.Params)
	return b.String()
}

// clone copies a so that changing the copy's slices leaves a alone.
func (a Address) clone() Address {
	a.URI = cloneURI(a.URI)
	if a.Params != nil {
		a.Params = a.Params.Clone()
	}
	return a
}

// parseAddress reads name-addr / addr-spec *(SEMI generic-param). what
// names the header for errors.
func parseAddress(what, value string) (Address, error) {
	fail := func(off int, err error, detail string) (Address, error) {
		return Address{}, syntaxError(what, value, off, err, detail)
	}
	if i := hasCtl(value); i >= 0 {
		return fail(i, ErrInvalidAddress, "control character")
	}
	// Work on the trimmed value; offsets are reported in value.
	lead := len(value) - len(strings.TrimLeft(value, " \t"))
	s := trimWSP(value)
	if s == "" {
		return fail(0, ErrEmpty, "")
	}
	var a Address
	i := 0
	uriStart, uriEnd := -1, -1
	switch {
	case s[0] == '"':
		name, end, bad := parseQuoted(s, 0)
		if bad >= 0 {
			return fail(lead+bad, ErrInvalidAddress, "bad quoted display name")
		}
		a.DisplayName = name
		i = skipWSP(s, end)
		if i >= len(s) || s[i] != '<' {
			return fail(lead+i, ErrInvalidAddress, "no < after the display name")
		}
	case s[0] == '<':
	default:
		// Either *(token LWS) "<" or an addr-spec. Unquoted UTF-8 is
		// taken in the display name too, as user agents send it.
		j := 0
		for j < len(s) && (isToken(s[j]) || isWSP(s[j]) || s[j] >= 0x80) {
			j++
		}
		if j < len(s) && s[j] == '<' {
			a.DisplayName = trimWSP(s[:j])
			if !utf8.ValidString(a.DisplayName) {
				return fail(lead, ErrInvalidAddress, "display name is not UTF-8")
			}
			i = j
		} else {
			// addr-spec: the URI ends at the first ";" or white space.
			end := strings.IndexAny(s, "; \t")
			if end < 0 {
				end = len(s)
			}
			uriStart, uriEnd, i = 0, end, end
		}
	}
	if uriStart < 0 {
		// s[i] == '<'
		close := strings.IndexByte(s[i:], '>')
		if close < 0 {
			return fail(lead+i, ErrInvalidAddress, "no >")
		}
		uriStart, uriEnd = i+1, i+close
		i += close + 1
	}
	u, uerr := parseURI(s[uriStart:uriEnd])
	if uerr != nil {
		return fail(lead+uriStart+uerr.off, ErrInvalidURI, uerr.detail)
	}
	a.URI = u
	params, off, detail := parseParams(s, i)
	if off >= 0 {
		return fail(lead+off, ErrInvalidParam, detail)
	}
	a.Params = params
	return a, nil
}

// parseParams reads *( SEMI generic-param ) from s[i:] to the end, where
// generic-param = token [ EQUAL gen-value ] and gen-value = token / host /
// quoted-string (RFC 3261 §25.1), every one kept in order. It returns
// off >= 0 where the text is no parameter.
func parseParams(s string, i int) (params sip.HeaderParams, off int, detail string) {
	for {
		i = skipWSP(s, i)
		if i >= len(s) {
			return params, -1, ""
		}
		if s[i] != ';' {
			return nil, i, "expected ;"
		}
		i = skipWSP(s, i+1)
		start := i
		for i < len(s) && isToken(s[i]) {
			i++
		}
		if i == start {
			return nil, start, "empty parameter name"
		}
		name := s[start:i]
		value := ""
		j := skipWSP(s, i)
		if j < len(s) && s[j] == '=' {
			j = skipWSP(s, j+1)
			vstart := j
			switch {
			case j < len(s) && s[j] == '"':
				_, end, bad := parseQuoted(s, j)
				if bad >= 0 {
					return nil, bad, "bad quoted parameter value"
				}
				j = end
			default:
				// token / host: host adds ":" and "[" "]" for IPv6.
				for j < len(s) && (isToken(s[j]) || s[j] == ':' || s[j] == '[' || s[j] == ']') {
					j++
				}
			}
			if j == vstart {
				return nil, vstart, "empty parameter value"
			}
			value = s[vstart:j]
			i = j
		}
		params = append(params, sip.HeaderKV{K: name, V: value})
	}
}
