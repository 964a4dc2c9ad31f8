package payload

import "errors"

// Errors of Encode, EncodeComposing and Decode; they are wrapped with
// details, so test with errors.Is.
var (
	// ErrUnsupportedContentType: the remote accepts the content type
	// neither bare nor wrapped in CPIM.
	ErrUnsupportedContentType = errors.New("unsupported content_type for outgoing message")
	// ErrCPIMRequired: the message carries metadata, or a type the remote
	// accepts only wrapped, but CPIM was not negotiated.
	ErrCPIMRequired = errors.New("additional message meta-data cannot be sent, because the CPIM wrapper is not used")
	// ErrPrivateMessagesNotAllowed: recipients other than the remote
	// party, without the focus's private-messages capability.
	ErrPrivateMessagesNotAllowed = errors.New("the remote end does not support private messages")
	// ErrUnwanted: an incoming content type we do not accept (413).
	ErrUnwanted = errors.New("unwanted message")
	// ErrCPIMParse: an incoming CPIM payload that does not parse (400).
	ErrCPIMParse = errors.New("CPIM parser error")
	// ErrComposingParse: an incoming is-composing document that does not
	// parse (400).
	ErrComposingParse = errors.New("is-composing parser error")
)

// MSRP status codes of refused incoming bodies.
const (
	StatusOK         = 200
	StatusBadRequest = 400
	StatusUnwanted   = 413
)

// Status returns the MSRP status and comment answering an incoming body
// that Decode refused with err, as the reference's REPORTs do: 413
// "Unwanted Message", 400 "CPIM Parser Error", 400 for a bad is-composing
// document; 200 for nil.
func Status(err error) (int, string) {
	switch {
	case err == nil:
		return StatusOK, "OK"
	case errors.Is(err, ErrUnwanted):
		return StatusUnwanted, "Unwanted Message"
	case errors.Is(err, ErrCPIMParse):
		return StatusBadRequest, "CPIM Parser Error"
	default:
		return StatusBadRequest, "Bad Request"
	}
}
