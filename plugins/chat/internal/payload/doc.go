// Package payload turns chat messages into MSRP message bodies and back,
// following the reference's ChatStream (sipsimple/streams/msrp/chat.py)
// without any transport: it decides when the Message/CPIM wrapper
// (RFC 3862) is required or merely preferred, builds the body, and reads an
// incoming body into the data of a ChatStreamGotMessage or
// ChatStreamGotComposingIndication notification (RFC 3994 documents).
//
// # Sending
//
// [Encode] and [EncodeComposing] take what the caller asked for and what
// was negotiated ([Peer]: identities, the remote accept-types and
// accept-wrapped-types, whether both ends accept message/cpim, the remote
// focus's chatroom capabilities) and return the MSRP Content-Type and body
// ([Body]). CPIM is required for metadata (recipients other than the
// remote party, courtesy recipients, subject, timestamp, Required,
// additional headers) and for a content type the remote only accepts
// wrapped; it is used anyway when both ends accept it. Refusals wrap
// [ErrUnsupportedContentType], [ErrCPIMRequired] or
// [ErrPrivateMessagesNotAllowed], with the reference's wording.
//
// # Receiving
//
// [Decode] reads an MSRP body. A content type outside the local
// accept-types, or a wrapped type outside the accept-wrapped-types, wraps
// [ErrUnwanted] (the reference answers 413); a CPIM payload that does not
// parse wraps [ErrCPIMParse] (400); a bad is-composing document wraps
// [ErrComposingParse] (400). [Status] gives the MSRP status and comment
// for such an error.
package payload
