// Package refer reads and writes the wire formats of call transfer and
// conference participant control with the SIP REFER method: the Refer-To,
// Referred-By, Replaces, Event and Subscription-State header values and
// the message/sipfrag bodies of the NOTIFYs that report a referral's
// progress. It holds no state and sends nothing; the session layer uses it
// to build and read its requests.
//
// Every parser reads values from the network: it refuses garbage with a
// *SyntaxError that wraps one of the sentinels of errors.go (all of them
// wrap ErrMalformed) and never panics. What a parser accepts, the matching
// String or Marshal writes back in a canonical form that parses to the
// same value; Validate checks the same of values built by hand.
//
// # Refer-To (RFC 3515 §2.1)
//
// [ParseReferTo] reads a name-addr or addr-spec and its parameters into a
// [ReferTo], whose URI is a sipgo sip.Uri (SIP and SIPS URIs are checked
// against the grammar of RFC 3261 §25.1; other schemes are kept as sipgo
// keeps them). [ReferTo.Destination] is the target without parameters or
// headers (the reference's transfer_destination), [ReferTo.Method] the
// method asked for (RFC 4579 §5.5: "BYE" removes a conference participant)
// and [ReferTo.Replaces] the dialog an attended transfer replaces, carried
// as an escaped URI header (RFC 3891 §7, RFC 3261 §19.1.1).
//
// To write one: [NewReferTo] for a blind transfer, then
// [ReferTo.WithReplaces] for an attended transfer or [ReferTo.WithMethod]
// for conference participant control.
//
// # Replaces (RFC 3891)
//
// [Replaces] is a dialog identifier seen from the recipient of the INVITE:
// [ReplacesFor] builds it from the transferor's own dialog (swapping the
// tags) and [Replaces.Matches] applies the reference's matching rule on
// the recipient's side, where from-tag "0" is a wildcard
// (sipsimple-behaviour.md §2.8).
//
// # Referred-By (RFC 3892 §3)
//
// [ParseReferredBy] and [NewReferredBy]; the cid parameter is read by
// [ReferredBy.CID].
//
// # Subscription progress (RFC 3515 §2.4, RFC 3420, RFC 6665)
//
// A REFER creates an implicit subscription to the "refer" event package;
// its NOTIFYs carry [ContentTypeSipfrag] bodies that [ParseSipfrag] reads
// into a [Sipfrag] status line ("SIP/2.0 180 Ringing") and [NewSipfrag]
// writes. [ParseEvent] / [NewReferEvent] handle "Event: refer;id=<cseq>"
// (RFC 3515 §2.4.6); [ParseSubscriptionState], [Active] and [Terminated]
// handle "Subscription-State: active;expires=90" and
// "terminated;reason=noresource" (RFC 6665 §8.2.3). The same Event helpers
// serve the conference package subscription ([EventConference]).
package refer
