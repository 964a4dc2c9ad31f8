package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Credentials answer Digest challenges (RFC 3261 §22, RFC 2617).
type Credentials struct {
	Username string
	Password string
}

// ErrChallengeRefused means a challenge cannot be answered: its nonce was
// answered before (the server refused the credentials), there is no
// password, or the challenge is missing or unreadable. Errors of
// [AnswerChallenge] wrap it.
var ErrChallengeRefused = errors.New("engine: digest challenge not answerable")

// AnswerChallenge computes the Authorization (for a 401) or
// Proxy-Authorization (for a 407) header that answers res's Digest
// challenge to req with cred. answered remembers the nonces answered so
// far for one request: a second challenge with a nonce already answered
// means the credentials were refused, and is not answered again (no loop).
func AnswerChallenge(req *sip.Request, res *sip.Response, cred Credentials, answered map[string]bool) (sip.Header, error) {
	name, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(name)
	if h == nil {
		return nil, fmt.Errorf("%w: no %s header", ErrChallengeRefused, name)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrChallengeRefused, err)
	}
	chal.Algorithm = strings.ToUpper(chal.Algorithm)
	if answered[chal.Nonce] {
		return nil, fmt.Errorf("%w: challenge already answered: credentials refused", ErrChallengeRefused)
	}
	if cred.Password == "" {
		return nil, fmt.Errorf("%w: no password", ErrChallengeRefused)
	}
	answered[chal.Nonce] = true
	d, err := digest.Digest(chal, digest.Options{
		Method:   string(req.Method),
		URI:      req.Recipient.String(),
		Username: cred.Username,
		Password: cred.Password,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrChallengeRefused, err)
	}
	return sip.NewHeader(answer, d.String()), nil
}
