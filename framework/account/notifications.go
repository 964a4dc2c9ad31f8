package account

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// Notification names, verbatim from the reference (§6.4). The Manager's
// have the *Manager as sender, the Account's the *Account.
const (
	SIPAccountManagerWillStart     = "SIPAccountManagerWillStart"
	SIPAccountManagerDidStart      = "SIPAccountManagerDidStart"
	SIPAccountManagerWillEnd       = "SIPAccountManagerWillEnd"
	SIPAccountManagerDidEnd        = "SIPAccountManagerDidEnd"
	SIPAccountManagerDidAddAccount = "SIPAccountManagerDidAddAccount"

	SIPAccountWillActivate           = "SIPAccountWillActivate"
	SIPAccountDidActivate            = "SIPAccountDidActivate"
	SIPAccountWillDeactivate         = "SIPAccountWillDeactivate"
	SIPAccountDidDeactivate          = "SIPAccountDidDeactivate"
	SIPAccountRegistrationGotAnswer  = "SIPAccountRegistrationGotAnswer"
	SIPAccountRegistrationDidSucceed = "SIPAccountRegistrationDidSucceed"
	SIPAccountRegistrationDidFail    = "SIPAccountRegistrationDidFail"
	SIPAccountRegistrationDidEnd     = "SIPAccountRegistrationDidEnd"
)

// ManagerWillStartData is the data of SIPAccountManagerWillStart.
type ManagerWillStartData struct {
	// PeerToPeerAvailable is the reference's bonjour_available: whether
	// the peer-to-peer account is loaded and enabled.
	PeerToPeerAvailable bool
	// Accounts are the loaded accounts, in load order.
	Accounts []*Account
}

// DidAddAccountData is the data of SIPAccountManagerDidAddAccount.
type DidAddAccountData struct {
	Account *Account
}

// RegistrationGotAnswerData is the data of
// SIPAccountRegistrationGotAnswer, posted for every final response to a
// REGISTER (challenges included).
type RegistrationGotAnswerData struct {
	Code   int
	Reason string
}

// RegistrationDidSucceedData is the data of
// SIPAccountRegistrationDidSucceed, posted after every successful
// registration and refresh.
type RegistrationDidSucceedData struct {
	Code   int
	Reason string
	// Contact is the contact URI that was registered.
	Contact sip.Uri
	// Expires is the lifetime the registrar granted.
	Expires time.Duration
	// Registrar is the route the REGISTER went over
	// ("udp:127.0.0.1:5060").
	Registrar string
}

// RegistrationDidFailData is the data of SIPAccountRegistrationDidFail.
type RegistrationDidFailData struct {
	// Code and Reason are the final response's, 408 "Request Timeout"
	// when the registrar did not answer, 0 and a description for other
	// failures (no route, network error).
	Code   int
	Reason string
	// Error is a *RegistrationError for a refusal, else the failure
	// (matching [ErrTimeout], engine.ErrNoRoute, ...).
	Error error
	// RetryAfter is how long the account waits before it tries again.
	RetryAfter time.Duration
}

// RegistrationDidEndData is the data of SIPAccountRegistrationDidEnd,
// posted when the account has unregistered (Code 0 and a description
// when the unregistration got no answer).
type RegistrationDidEndData struct {
	Code   int
	Reason string
}
