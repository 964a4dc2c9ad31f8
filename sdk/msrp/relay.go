package msrp

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// RelayConfig locates and authenticates to an MSRP relay (RFC 4976).
type RelayConfig struct {
	// URI is the relay, e.g. msrps://relay.example.com:2855;tcp. It is
	// the To-Path of AUTH and the digest uri.
	URI URI
	// Username and Password are the digest credentials (the reference SDK
	// uses the SIP account's).
	Username string
	Password string
	// SessionID of the local URI; a fresh one when empty.
	SessionID string
}

// Relay is an authenticated connection to an MSRP relay. Sessions bound
// on it route through the relay: UsePath is advertised before the local
// URI and prefixed to the To-Path of every outgoing request.
type Relay struct {
	conn    *Conn
	local   URI
	usePath []URI
	expires time.Duration
}

// ConnectRelay connects to a relay and authenticates with AUTH (RFC 4976
// §5.1): the first AUTH draws a 401 digest challenge, the second carries
// the Authorization, and its 200 gives Use-Path and Expires. Any other
// answer fails with ErrRelayAuth wrapping the *StatusError.
func ConnectRelay(ctx context.Context, rc RelayConfig, cfg Config) (*Relay, error) {
	c, err := DialConn(ctx, rc.URI.Addr(), rc.URI.Secure, cfg)
	if err != nil {
		return nil, err
	}
	r, err := authenticate(ctx, c, rc)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return r, nil
}

func authenticate(ctx context.Context, c *Conn, rc RelayConfig) (*Relay, error) {
	id := rc.SessionID
	if id == "" {
		id = NewSessionID()
	}
	host, port, _ := net.SplitHostPort(c.LocalAddr().String())
	p, _ := strconv.Atoi(port)
	local := URI{Secure: rc.URI.Secure, Host: host, Port: p, SessionID: id, Transport: "tcp"}
	to := rc.URI.String()

	auth := func(authorization string) (*Message, error) {
		m := &Message{TransactionID: NewTransactionID(), Method: MethodAUTH, Flag: FlagEnd}
		m.SetHeader(HeaderToPath, to)
		m.SetHeader(HeaderFromPath, local.String())
		if authorization != "" {
			m.SetHeader(HeaderAuthorization, authorization)
		}
		return c.transactMessage(ctx, m)
	}
	resp, err := auth("")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == StatusUnauthorized {
		ch, err := ParseDigest(resp.Header(HeaderWWWAuth))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRelayAuth, err)
		}
		if resp, err = auth(digestAuthorization(ch, rc.Username, rc.Password, to)); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode != StatusOK {
		return nil, fmt.Errorf("%w: %w", ErrRelayAuth, &StatusError{Code: resp.StatusCode, Comment: resp.Comment})
	}
	use, err := resp.Path(HeaderUsePath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRelayAuth, err)
	}
	r := &Relay{conn: c, local: local, usePath: use}
	if e := resp.Header(HeaderExpires); e != "" {
		if n, err := strconv.Atoi(e); err == nil && n >= 0 {
			r.expires = time.Duration(n) * time.Second
		}
	}
	return r, nil
}

// Conn returns the connection to the relay.
func (r *Relay) Conn() *Conn { return r.conn }

// LocalURI is this endpoint's URI behind the relay: the local address of
// the relay connection, as the reference SDK reports it.
func (r *Relay) LocalURI() URI { return r.local }

// UsePath returns the relay path to advertise before LocalURI.
func (r *Relay) UsePath() []URI { return append([]URI(nil), r.usePath...) }

// Expires returns the lifetime the relay granted, 0 when it gave none.
func (r *Relay) Expires() time.Duration { return r.expires }

// Bind starts the active side of a session through the relay.
func (r *Relay) Bind(ctx context.Context, remote []URI, h Handler) (*Session, error) {
	return r.conn.Bind(ctx, SessionOptions{Local: r.local, UsePath: r.usePath, Remote: remote, Handler: h})
}

// Expect registers the passive side of a session through the relay: the
// peer's requests reach us over the relay connection.
func (r *Relay) Expect(remote []URI, h Handler) (*Pending, error) {
	return r.conn.Expect(SessionOptions{Local: r.local, UsePath: r.usePath, Remote: remote, Handler: h})
}

// Close closes the relay connection and its sessions.
func (r *Relay) Close() error { return r.conn.Close() }

// Digest is a parsed digest challenge or credentials header:
// `Digest k="v", k=v, ...` (RFC 2617 syntax, used by RFC 4976).
type Digest map[string]string

// ParseDigest parses a WWW-Authenticate or Authorization header value.
func ParseDigest(s string) (Digest, error) {
	rest, ok := cutPrefixFold(strings.TrimSpace(s), "Digest ")
	if !ok {
		return nil, parseErr(ErrMalformed, "not a Digest header", s)
	}
	d := Digest{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, parseErr(ErrMalformed, "invalid Digest parameter", s)
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		if !validChars(key, tokenChars) {
			return nil, parseErr(ErrMalformed, "invalid Digest parameter name", s)
		}
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, parseErr(ErrMalformed, "unterminated quoted string", s)
			}
			val, rest = rest[1:1+end], rest[2+end:]
		} else {
			end := strings.IndexAny(rest, ", \t")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		d[key] = val
	}
	if d["nonce"] == "" || d["realm"] == "" {
		return nil, parseErr(ErrMalformed, "Digest without realm or nonce", s)
	}
	return d, nil
}

// digestAuthorization answers a challenge with qop=auth (RFC 4976 §5.1):
// HA1 = MD5(user:realm:pass), HA2 = MD5("AUTH":uri),
// response = MD5(HA1:nonce:nc:cnonce:auth:HA2).
func digestAuthorization(ch Digest, user, pass, uri string) string {
	const nc = "00000001"
	cnonce := randomHex(8)
	resp := DigestResponse(user, ch["realm"], pass, uri, ch["nonce"], nc, cnonce)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", qop=auth, nc=%s, cnonce="%s", response="%s"`,
		user, ch["realm"], ch["nonce"], nc, cnonce, resp)
	if op, ok := ch["opaque"]; ok {
		fmt.Fprintf(&b, `, opaque="%s"`, op)
	}
	return b.String()
}

// DigestResponse computes the qop=auth digest response of an AUTH request.
func DigestResponse(user, realm, pass, uri, nonce, nc, cnonce string) string {
	ha1 := md5hex(user + ":" + realm + ":" + pass)
	ha2 := md5hex(MethodAUTH + ":" + uri)
	return md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
