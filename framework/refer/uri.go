package refer

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// uriError is a failure inside a URI: the offset within the URI text, the
// sentinel and a detail.
type uriError struct {
	off    int
	detail string
}

// parseURI reads a whole URI. SIP and SIPS URIs follow the grammar of RFC
// 3261 §25.1 strictly (sipgo's own parser is lenient: it takes "sip:h:-1"
// or an unclosed quote) and are returned as a sip.Uri built field by field;
// any other scheme must be an absoluteURI and is handed to sip.ParseUri,
// which keeps its scheme-specific part uninterpreted.
func parseURI(s string) (sip.Uri, *uriError) {
	// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
	colon := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			colon = i
			break
		}
		if !(isAlpha(c) || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return sip.Uri{}, &uriError{i, "bad scheme"}
		}
	}
	if colon <= 0 {
		return sip.Uri{}, &uriError{0, "no scheme"}
	}
	scheme := strings.ToLower(s[:colon])
	if scheme == "sip" || scheme == "sips" {
		u, err := parseSIPURI(s[colon+1:])
		if err != nil {
			err.off += colon + 1
			return sip.Uri{}, err
		}
		u.Scheme = scheme
		return u, nil
	}
	rest := s[colon+1:]
	if rest == "" {
		return sip.Uri{}, &uriError{colon + 1, "nothing after the scheme"}
	}
	end, bad := spanEscaped(rest, 0, isURIC)
	if bad >= 0 {
		return sip.Uri{}, &uriError{colon + 1 + bad, "bad escape"}
	}
	if end != len(rest) {
		return sip.Uri{}, &uriError{colon + 1 + end, "character not allowed in a URI"}
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return sip.Uri{}, &uriError{0, err.Error()}
	}
	return u, nil
}

// parseSIPURI reads what follows "sip:" or "sips:".
func parseSIPURI(s string) (sip.Uri, *uriError) {
	var u sip.Uri
	i := 0
	// userinfo: neither user nor password may hold "@", so the first "@"
	// ends it.
	if at := strings.IndexByte(s, '@'); at >= 0 {
		end, bad := spanEscaped(s, 0, isUserChar)
		if bad >= 0 {
			return u, &uriError{bad, "bad escape in user"}
		}
		if end == 0 {
			return u, &uriError{0, "empty user"}
		}
		u.User = s[:end]
		if end < at && s[end] == ':' {
			pend, bad := spanEscaped(s, end+1, isPasswordChar)
			if bad >= 0 {
				return u, &uriError{bad, "bad escape in password"}
			}
			u.Password = s[end+1 : pend]
			end = pend
		}
		if end != at {
			return u, &uriError{end, "character not allowed in userinfo"}
		}
		i = at + 1
	}
	// host
	if i < len(s) && s[i] == '[' {
		close := strings.IndexByte(s[i:], ']')
		if close < 0 {
			return u, &uriError{i, "no ] after an IPv6 address"}
		}
		addr, err := netip.ParseAddr(s[i+1 : i+close])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return u, &uriError{i, "bad IPv6 reference"}
		}
		u.Host = s[i : i+close+1]
		i += close + 1
	} else {
		start := i
		for i < len(s) && (isAlphanum(s[i]) || s[i] == '-' || s[i] == '.') {
			i++
		}
		host := s[start:i]
		if !validHostname(host) {
			return u, &uriError{start, "bad host"}
		}
		u.Host = host
	}
	// port
	if i < len(s) && s[i] == ':' {
		start := i + 1
		i = start
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		p, err := strconv.Atoi(s[start:i])
		if i == start || i-start > 5 || err != nil || p < 1 || p > 65535 {
			return u, &uriError{start, "bad port"}
		}
		u.Port = p
	}
	// uri-parameters
	for i < len(s) && s[i] == ';' {
		nstart := i + 1
		nend, bad := spanEscaped(s, nstart, isParamChar)
		if bad >= 0 {
			return u, &uriError{bad, "bad escape in a parameter"}
		}
		if nend == nstart {
			return u, &uriError{nstart, "empty parameter name"}
		}
		name, value := s[nstart:nend], ""
		i = nend
		if i < len(s) && s[i] == '=' {
			vend, bad := spanEscaped(s, i+1, isParamChar)
			if bad >= 0 {
				return u, &uriError{bad, "bad escape in a parameter"}
			}
			if vend == i+1 {
				return u, &uriError{i + 1, "empty parameter value"}
			}
			value = s[i+1 : vend]
			i = vend
		}
		if _, ok := getEscaped(u.UriParams, name); ok {
			return u, &uriError{nstart, "repeated parameter " + name}
		}
		u.UriParams = append(u.UriParams, sip.HeaderKV{K: name, V: value})
	}
	// headers
	if i < len(s) && s[i] == '?' {
		for {
			nstart := i + 1
			nend, bad := spanEscaped(s, nstart, isHeaderChar)
			if bad >= 0 {
				return u, &uriError{bad, "bad escape in a header"}
			}
			if nend == nstart {
				return u, &uriError{nend, "empty URI header name"}
			}
			// header = hname "=" hvalue; a name alone (RFC 3515's own
			// example has one) reads as an empty value.
			vend := nend
			if nend < len(s) && s[nend] == '=' {
				vend, bad = spanEscaped(s, nend+1, isHeaderChar)
				if bad >= 0 {
					return u, &uriError{bad, "bad escape in a header"}
				}
			}
			name, value := s[nstart:nend], ""
			if vend > nend {
				value = s[nend+1 : vend]
			}
			if _, ok := getEscaped(u.Headers, name); ok {
				return u, &uriError{nstart, "repeated header " + name}
			}
			u.Headers = append(u.Headers, sip.HeaderKV{K: name, V: value})
			i = vend
			if i >= len(s) || s[i] != '&' {
				break
			}
		}
	}
	if i != len(s) {
		return u, &uriError{i, "character not allowed in a SIP URI"}
	}
	return u, nil
}

// validHostname accepts an IPv4 address or a hostname: labels of
// alphanumerics and inner hyphens separated by single dots, with an
// optional final dot.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}

// get returns the value of the header parameter name, compared
// case-insensitively as RFC 3261 §19.1.4 compares parameter names.
func get(params sip.HeaderParams, name string) (string, bool) {
	for _, kv := range params {
		if strings.EqualFold(kv.K, name) {
			return kv.V, true
		}
	}
	return "", false
}

// getEscaped returns the value of the URI parameter or URI header name.
// Their names may be escaped (RFC 3261 §25.1 pname, hname), so they are
// compared unescaped and case-insensitively.
func getEscaped(params sip.HeaderParams, name string) (string, bool) {
	for _, kv := range params {
		if sameEscaped(kv.K, name) {
			return kv.V, true
		}
	}
	return "", false
}

// withoutEscaped returns a copy of the URI parameters or headers without
// name, nil when nothing is left.
func withoutEscaped(params sip.HeaderParams, name string) sip.HeaderParams {
	var out sip.HeaderParams
	for _, kv := range params {
		if !sameEscaped(kv.K, name) {
			out = append(out, kv)
		}
	}
	return out
}

// sameEscaped compares two names unescaped and case-insensitively.
func sameEscaped(a, b string) bool {
	a, _ = Unescape(a)
	b, _ = Unescape(b)
	return strings.EqualFold(a, b)
}

// formatURI writes u. SIP and SIPS URIs are written here rather than by
// sip.Uri.String, which drops the "=" of an empty URI header value and
// quotes values holding spaces; other schemes keep their raw part.
func formatURI(u *sip.Uri) string {
	if u.Scheme != "" && u.Scheme != "sip" && u.Scheme != "sips" {
		return u.String()
	}
	var b strings.Builder
	if u.Scheme == "" {
		b.WriteString("sip:")
	} else {
		b.WriteString(u.Scheme)
		b.WriteByte(':')
	}
	if u.User != "" {
		b.WriteString(u.User)
		if u.Password != "" {
			b.WriteByte(':')
			b.WriteString(u.Password)
		}
		b.WriteByte('@')
	}
	b.WriteString(u.Host)
	if u.Port > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	for _, kv := range u.UriParams {
		b.WriteByte(';')
		b.WriteString(kv.K)
		if kv.V != "" {
			b.WriteByte('=')
			b.WriteString(kv.V)
		}
	}
	for i, kv := range u.Headers {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(kv.K)
		b.WriteByte('=')
		b.WriteString(kv.V)
	}
	return b.String()
}

// cloneURI copies u with its own parameter and header slices.
func cloneURI(u sip.Uri) sip.Uri {
	return *u.Clone()
}
