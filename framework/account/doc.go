// Package account holds the accounts of the sipstreams host: the
// reference's AccountManager, Account and BonjourAccount (python3-sipsimple
// sipsimple/account, see the behaviour notes §6.4).
//
// # Concept
//
// An account is an identity the host calls from and is called at. A SIP
// account has an address of record, sip:user@domain, and usually keeps a
// binding at its domain's registrar so that calls to that address reach
// the host: it REGISTERs a contact URI on the engine's listening address
// and refreshes the binding before it runs out (RFC 3261 §10). The
// peer-to-peer account (ID "bonjour@local", the reference's
// BonjourAccount) is serverless: it never registers, has no credentials,
// and is reached directly at sip:<contact user>@<local IP>.
//
// The [Manager] holds the loaded accounts. Starting it activates every
// enabled account, which starts the registration of those with
// sip.register; stopping it deactivates them, which unregisters. For an
// incoming request it finds the account the request is for
// ([Manager.FindAccount]).
//
// # API
//
// [NewManager] takes a [ManagerConfig] (a started *engine.Engine, a
// notification center, a logger and the registration timings).
// [Manager.Load] takes the accounts' settings ([config.Account]) once,
// adding the peer-to-peer account when they lack it; [Manager.Start] and
// [Manager.Stop] activate and deactivate; [Manager.Accounts],
// [Manager.Get], [Manager.Default] and [Manager.FindAccount] look accounts
// up. An [Account] reports its [Account.ID], [Account.URI],
// [Account.DisplayName], [Account.Contact] and whether it is
// [Account.Registered].
//
// Notifications, with the reference's names: the Manager posts
// SIPAccountManagerDidAddAccount ([DidAddAccountData]) per loaded account,
// SIPAccountManagerWillStart ([ManagerWillStartData]), …DidStart,
// …WillEnd and …DidEnd. Each Account posts SIPAccountWillActivate,
// …DidActivate, …WillDeactivate, …DidDeactivate, and, while registering,
// SIPAccountRegistrationGotAnswer for every final response,
// SIPAccountRegistrationDidSucceed after every registration and refresh,
// SIPAccountRegistrationDidFail after every failed attempt and
// SIPAccountRegistrationDidEnd after the unregistration, each with a typed
// data struct (notifications.go).
//
// # Registration
//
// Each registering account owns one goroutine, started by
// [Manager.Start] and ended by [Manager.Stop], that runs RFC 3261 §10.2:
//
//   - REGISTER sip:<domain> with From and To the address of record, one
//     Call-ID and From tag for the account's whole activation and CSeq
//     increasing by one per request (§10.2: the registrar sees one
//     registration);
//   - sent to the outbound proxy if sip.outbound_proxy is set (with a
//     loose Route header naming it, RFC 3261 §8.1.2), else to the domain,
//     over the routes of engine.Lookup (RFC 3263) for the account's
//     sip.transport, tried in order: a route that does not answer or
//     cannot be reached passes to the next one, an answer ends the
//     attempt;
//   - Contact from engine.ContactFor for that route, with a user part of 8
//     random letters drawn per account (the reference's contact username,
//     used by FindAccount); Expires is sip.register_interval;
//   - a 401 or 407 is answered with Digest credentials (RFC 3261 §22.2,
//     RFC 2617: MD5, qop=auth, from auth.username — the ID's user when
//     empty — and auth.password), each challenge (nonce) once: a second
//     challenge for an answered nonce means the credentials were refused
//     and fails the attempt. Credentials are not reused on refreshes: the
//     registrar challenges each time. A 423 is retried once with its
//     Min-Expires;
//   - a 2xx grants the lifetime of our Contact's ;expires parameter (or
//     of the only Contact), else of the Expires header, else what was
//     asked (§10.2.4). The refresh is sent after max(expires/2,
//     expires−30 s): 30 s before the binding runs out, but never before
//     half of it (3 s → 1.5 s, 600 s → 570 s);
//   - any other outcome is a failure: a final response (a
//     *[RegistrationError]), no answer within [ManagerConfig.RequestTimeout]
//     (408, [ErrTimeout]; sipgo's Timer F stays at its 32 s, the timeout
//     is a context deadline on the transaction) or no route. The account
//     is no longer Registered and retries after an exponential back-off:
//     BackoffInitial (1 s), doubling to BackoffMax (5 min), reset by a
//     success, at least a 503's Retry-After; the delay is in
//     RegistrationDidFailData.RetryAfter. There is no jitter;
//   - on Stop, if registered, a REGISTER with Expires: 0 for the
//     registered contact over the route that registered it, bounded by
//     [ManagerConfig.UnregisterTimeout]; then RegistrationDidEnd with its
//     answer. A REGISTER in flight when Stop comes is abandoned.
//
// # The peer-to-peer account
//
// There is no mDNS/DNS-SD here: the peer-to-peer account does not
// advertise itself or browse for neighbours (the reference's Bonjour
// notifications are not posted); it only exists so that calls placed or
// received directly by address have an account. Its URI uses the
// address of the engine's listener (TCP first, its default transport).
//
// # Not implemented
//
// Presence publication, MWI and winfo subscriptions, accounts added or
// removed after Load (SIPAccountManagerDidRemoveAccount,
// …DidChangeDefaultAccount), re-registration on network changes, RFC 5626
// outbound and GRUU.
package account
