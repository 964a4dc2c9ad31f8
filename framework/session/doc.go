// Package session is the reference's Session and SessionManager: SIP
// INVITE sessions whose media are stream plugins driven through the
// registry's proxies.
//
// This package is being built in steps. What exists:
//
//   - State, Originator, Direction: the reference's session state machine
//     names (§2.1 of the reference notes) with String methods.
//   - The SIPSession* notification names and a typed data struct for each
//     (§2.6), and the reference's timeouts (§2.2).
//   - RFC 3264 offer/answer assembly: a session's o= line keeps its id and
//     bumps its version per description sent; every media section's c=
//     becomes the local address unless the stream uses ICE; an offered m-line
//     no stream accepts is answered with a copy holding port 0 and no
//     attributes (RFC 3264 §6); an answer must match the offer's m-lines.
//
// The Session type itself (connect, accept, reject, proposals, hold, end)
// comes with the SIP engine.
package session
