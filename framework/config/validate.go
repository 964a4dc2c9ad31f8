package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// checker collects SettingErrors.
type checker struct {
	account string
	errs    []error
}

func (c *checker) add(key, value, format string, args ...any) {
	c.errs = append(c.errs, &SettingError{
		Account: c.account,
		Key:     key,
		Value:   value,
		Reason:  fmt.Sprintf(format, args...),
	})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// checkAccountID checks that id has the form user@domain.
//
// The user part is a SIP user (RFC 3261 §25.1: unreserved, user-unreserved
// and %HH escapes) except '=', which the configuration file reserves for
// "name = value" lines. The domain is a host name, an IPv4 address or a
// bracketed IPv6 address.
func checkAccountID(id string) error {
	user, domain, ok := strings.Cut(id, "@")
	if !ok {
		return errors.New("want user@domain")
	}
	if user == "" {
		return errors.New("empty user part; want user@domain")
	}
	if err := checkUser(user); err != nil {
		return err
	}
	if err := checkHost(domain); err != nil {
		return fmt.Errorf("domain: %w", err)
	}
	return nil
}

func checkUser(user string) error {
	for i := 0; i < len(user); i++ {
		c := user[i]
		switch {
		case isAlnum(c) || strings.IndexByte("-_.!~*'()&+$,;?/", c) >= 0:
		case c == '%':
			if i+2 >= len(user) || !isHex(user[i+1]) || !isHex(user[i+2]) {
				return errors.New("user part: '%' must start a %HH escape")
			}
			i += 2
		default:
			return fmt.Errorf("user part: character %q not allowed", rune(c))
		}
	}
	return nil
}

// checkHost accepts a host name, an IPv4 address or a bracketed IPv6
// address.
func checkHost(host string) error {
	if host == "" {
		return errors.New("empty host")
	}
	if host[0] == '[' {
		if host[len(host)-1] != ']' {
			return errors.New("unterminated '[' in IPv6 address")
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() {
			return fmt.Errorf("bad IPv6 address %q", host)
		}
		return nil
	}
	if strings.Contains(host, ":") {
		return errors.New("IPv6 addresses must be written in brackets, like [2001:db8::1]")
	}
	if len(host) > 253 {
		return errors.New("host name longer than 253 characters")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("bad host name %q", host)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' && c != '_' {
				return fmt.Errorf("bad host name %q", host)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("bad host name %q", host)
		}
	}
	return nil
}

// checkAddress checks "host[:port][;transport=T]" where T is one of
// transports; transports == nil refuses the ";transport=" parameter.
func checkAddress(s string, transports ...Transport) error {
	hostport, params, hasParams := strings.Cut(s, ";")
	if hasParams {
		if transports == nil {
			return errors.New("want host[:port]")
		}
		name, value, ok := strings.Cut(params, "=")
		if !ok || name != "transport" {
			return errors.New("the only parameter allowed is ;transport=")
		}
		found := false
		for _, t := range transports {
			if Transport(value) == t {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("transport must be one of %s", joinTransports(transports))
		}
	}
	host := hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host = hostport[:i]
		p, err := parsePort(hostport[i+1:])
		if err != nil || p == 0 || p > 65535 {
			return fmt.Errorf("bad port %q", hostport[i+1:])
		}
	}
	return checkHost(host)
}

func joinTransports(ts []Transport) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// checkCodecList checks a list of codec names. Codecs are provided by the
// audio plugin at run time, so any RTP encoding name (an RFC 4566 token)
// is accepted; duplicates (compared case-insensitively, as SDP does) and
// empty lists are not.
func (c *checker) checkCodecList(key string, list []string) {
	value := strings.Join(list, ", ")
	if len(list) == 0 {
		c.add(key, value, "at least one codec is needed, for example opus, G722, PCMU, PCMA")
		return
	}
	seen := make(map[string]bool, len(list))
	for _, name := range list {
		if !isToken(name) {
			c.add(key, value, "codec name %q is not an RTP encoding name", name)
			continue
		}
		if seen[strings.ToLower(name)] {
			c.add(key, value, "codec %q listed twice", name)
		}
		seen[strings.ToLower(name)] = true
	}
}

// isToken reports whether s is an RFC 4566 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && strings.IndexByte("!#$%&'*+-.^_`{|}~", c) < 0 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
