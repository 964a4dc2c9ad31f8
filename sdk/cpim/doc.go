// Package cpim reads and writes Message/CPIM payloads (RFC 3862), the
// wrapper a chat stream puts around an instant message to carry sender,
// recipients, a timestamp and extension headers end to end.
//
// A payload has three parts (RFC 3862 §2): the CPIM message headers, a blank
// line, then an encapsulated MIME object — its own content headers, a blank
// line, and the body:
//
//	From: "Alice" <sip:alice@example.com>
//	To: <sip:bob@example.com>
//	DateTime: 2024-05-01T10:11:12.123456+02:00
//	NS: imdn <urn:ietf:params:imdn>
//	imdn.Message-ID: 34jk324j
//
//	Content-Type: text/plain; charset=utf-8
//
//	Hello
//
// # API
//
// [Parse] turns a payload into a [Message]; [Message.Marshal] writes one with
// CRLF line ends everywhere. [Address] is the `"Display Name" <uri>` form of
// From, To and cc (RFC 3862 §4.1–4.3); [ParseAddress] reads it with or
// without quotes around the display name.
//
// Standard headers have fields of their own: From, To, cc, Subject (with its
// language-tagged variants, §3.3), DateTime (§4.4) and Require (§4.6; the
// reference SDK writes it as "Required", and both spellings are read).
// Extension headers keep their namespace prefix (§3.4): an `NS: foo <urn:x>`
// line lands in [Message.Namespaces] and `foo.Bar: value` in
// [Message.Headers]; [Message.Lookup] resolves a header by namespace URI.
//
// # Tolerance
//
// The reference SDK builds the inner MIME part with Python's email package,
// which ends those lines with LF only, and may fold long lines. Parse
// therefore accepts LF or CRLF line ends and folded (continued) lines in both
// header blocks, and header names of the standard headers in any letter case.
// Marshal always writes the canonical form, so Parse, Marshal, Parse gives
// the same message as the first Parse.
//
// Header values are kept as written: the §2.3 escape mechanism is decoded only
// in quoted display names.
//
// Errors wrap the sentinels in errors.go; a *HeaderError tells which line of
// the payload was wrong.
package cpim
