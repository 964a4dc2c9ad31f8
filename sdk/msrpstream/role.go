package msrpstream

import (
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
)

// Setup is the value of the a=setup attribute (RFC 4145 §4, used for MSRP
// by RFC 6135): which end opens the TCP connection.
type Setup string

// Setup values.
const (
	SetupActive  Setup = "active"  // we connect
	SetupPassive Setup = "passive" // we accept
	SetupActPass Setup = "actpass" // offer only: either, the answerer picks
)

// String returns the attribute value.
func (s Setup) String() string { return string(s) }

// ParseSetup reads an a=setup value. The empty string (no attribute) is
// returned as "" for the caller to apply its default; "holdconn" and
// unknown values give an error wrapping sdk.ErrInvalidStream.
func ParseSetup(v string) (Setup, error) {
	switch s := Setup(strings.ToLower(strings.TrimSpace(v))); s {
	case "", SetupActive, SetupPassive, SetupActPass:
		return s, nil
	}
	return "", sdk.Errorf(sdk.ErrInvalidStream, "unsupported a=setup:%s", v)
}

// ConnectionModel is the msrp.connection_model setting.
type ConnectionModel string

// Connection models of the reference.
const (
	// ModelRelay prefers connecting out and falls back to a relay
	// (RFC 4976) when it must wait for the peer (the default).
	ModelRelay ConnectionModel = "relay"
	// ModelACM prefers connecting out and otherwise listens
	// (RFC 6135, alternative connection model).
	ModelACM ConnectionModel = "acm"
)

// Connect is how the local end gets its MSRP connection.
type Connect int

// Ways to connect.
const (
	// Dial opens a TCP/TLS connection to the remote path and sends the
	// binding empty SEND.
	Dial Connect = iota + 1
	// Listen accepts the peer's connection on a local port.
	Listen
	// Relay reserves a session on the MSRP relay (RFC 4976) and waits for
	// the peer there.
	Relay
)

// String names the way to connect.
func (c Connect) String() string {
	switch c {
	case Dial:
		return "dial"
	case Listen:
		return "listen"
	case Relay:
		return "relay"
	}
	return "invalid"
}

// Role is the local end's part in connection setup: how it connects and
// what it puts in its a=setup.
type Role struct {
	Connect Connect
	Setup   Setup
}

// RoleInput is what the role decision depends on.
type RoleInput struct {
	// PeerToPeer is true for the peer-to-peer account (the reference's
	// BonjourAccount).
	PeerToPeer bool
	// Model is the account's connection model; "" means ModelRelay.
	Model ConnectionModel
	// Offerer is true when we build the offer, false when we answer.
	Offerer bool
	// RemoteSetup is the offer's a=setup when we answer; "" (absent) reads
	// as active, as the reference reads it.
	RemoteSetup Setup
	// RelayConfigured is true when the account has an MSRP relay.
	RelayConfigured bool
	// RelayForOutbound is nat_traversal.use_msrp_relay_for_outbound.
	RelayForOutbound bool
}

// DecideRole picks the local role at initialization, following the table
// of the reference's MSRPStreamBase.initialize with the setup values compared
// as they were meant to be (the reference's Python 3 port compares bytes
// with str, so its answerer never goes active):
//
//	peer-to-peer  offerer                          dial    active
//	peer-to-peer  answerer, offer passive          dial    active
//	peer-to-peer  answerer, otherwise              listen  passive
//	relay / acm   answerer, offer actpass|passive  dial    active
//	relay         offerer, no relay for outbound   dial    active
//	relay         otherwise, relay configured      relay   actpass (offer) / passive (answer)
//	relay / acm   otherwise                        listen  actpass (offer) / passive (answer)
//
// Two departures, both so that two ends never wait for each other: a
// peer-to-peer answerer facing a passive offer connects (the reference
// would listen too), and the relay model without a configured relay listens
// instead of looking the relay up from the account's domain.
func DecideRole(in RoleInput) Role {
	remote := in.RemoteSetup
	if remote == "" {
		remote = SetupActive
	}
	if in.PeerToPeer {
		if in.Offerer || remote == SetupPassive {
			return Role{Dial, SetupActive}
		}
		return Role{Listen, SetupPassive}
	}
	if !in.Offerer && (remote == SetupActPass || remote == SetupPassive) {
		return Role{Dial, SetupActive}
	}
	if in.Offerer && in.Model != ModelACM && !in.RelayForOutbound {
		return Role{Dial, SetupActive}
	}
	setup := SetupPassive
	if in.Offerer {
		setup = SetupActPass
	}
	if in.Model != ModelACM && in.RelayConfigured {
		return Role{Relay, setup}
	}
	return Role{Listen, setup}
}

// ResolveAnswer settles the offerer's role once the answer is in (the
// reference's start(), step 5). An actpass offer becomes active when the
// answer is passive (the default when the answer has no a=setup) — a relay
// reservation then connects out through the relay, a listener dials — and
// stays waiting when the answer is active. An answer that cannot pair with
// the offer gives an error wrapping sdk.ErrInvalidStream.
func ResolveAnswer(local Role, answer Setup) (Role, error) {
	if answer == "" {
		answer = SetupPassive
	}
	switch local.Setup {
	case SetupActPass:
		switch answer {
		case SetupPassive:
			if local.Connect == Listen {
				local.Connect = Dial
			}
			local.Setup = SetupActive
			return local, nil
		case SetupActive:
			local.Setup = SetupPassive
			return local, nil
		}
	case SetupActive:
		if answer == SetupPassive {
			return local, nil
		}
	case SetupPassive:
		if answer == SetupActive {
			return local, nil
		}
	}
	return Role{}, sdk.Errorf(sdk.ErrInvalidStream, "a=setup:%s does not pair with our a=setup:%s", answer, local.Setup)
}
