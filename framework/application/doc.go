// Package application is the reference's SIPApplication
// (shared/reference/sipsimple-behaviour.md §6.1): the object that starts
// and stops, in order, everything a SIP SIMPLE client runs — the
// configuration from a storage, the SIP engine, the MediaStreamRegistry
// with its stream plugins and the session manager — and tells observers
// about it through the notification center.
//
// # Life cycle
//
// [Application.Start] moves the application from [StateStopped] to
// [StateStarting]; it
//
//  1. loads the configuration [config.Document] from the storage (an error
//     is returned as is, wrapped, and the application stays stopped and may
//     be started again);
//  2. posts SIPApplicationWillStart;
//  3. builds and starts the [engine.Engine] on the listen addresses of
//     [WithListen], or else those the settings give (sip.listen_addresses,
//     sip.transport_list, sip.udp_port, tcp_port, tls_port). When the TLS
//     listeners cannot start ([engine.ErrTLS]: no usable certificate) it
//     posts SIPApplicationFailedToStartTLS with a [FailedToStartTLSData] and
//     starts again without them, as the reference goes on without TLS;
//  4. builds the [registry.Registry] on the plugin directory
//     ([WithPluginDir]), sharing the application's [notify.Center], and
//     discovers the plugins;
//  5. builds the [session.Manager] for the peer-to-peer account (the
//     reference's BonjourAccount role): URI sip:<user>@<listen IP>:<port>,
//     display name and flattened settings from the document;
//  6. loads every account of the document into an [account.Manager]
//     ([Application.Accounts]) and starts it: enabled SIP accounts with
//     sip.register begin registering (their SIPAccount* notifications go
//     to the same center);
//  7. moves to [StateStarted] and posts SIPApplicationDidStart.
//
// If a step after the first fails, what was started is closed again, the
// application goes back to [StateStopped] and Start returns the error.
//
// [Application.Stop] posts SIPApplicationWillEnd, stops the account
// manager (unregistering, while the engine still runs), closes the session
// manager (ending every session and waiting for it), the registry (ending
// the plugin processes) and the engine, moves to [StateStopped] and posts
// SIPApplicationDidEnd. A stopped application may be started again.
//
// Every notification of this package has the *Application as sender.
//
// # Embedding: calls and streams
//
// A running application places and answers calls with streams of any
// loaded type, made with the settings of the account the session is for;
// a program needs no registry request, no sdk.Account or sdk.SessionInfo
// of its own (the Example places a call with audio and chat).
//
//   - [Application.NewCall] prepares an outgoing call: the account
//     ([WithAccount], else the peer-to-peer one), the routes ([WithRoutes],
//     else the account's outbound proxy, else RFC 3263 on the target), the
//     local address that reaches them, and the [session.Session].
//     [Call.AddStream] creates a stream of a type ([WithParams] for its
//     constructor's parameters), initialized and holding its offer; the
//     stream can be used before the call starts (a chat stream queues the
//     messages sent to it). [Call.Connect] sends the INVITE;
//     [Call.Close] abandons a call not connected.
//   - [Application.Call] does the three in one call.
//   - [Application.NewStream] creates a stream for a session that exists:
//     a proposal to the peer (Session.AddStreams), or the offer the
//     application makes to an INVITE without SDP (Session.Accept).
//   - [Application.Answer] accepts an incoming session: with the streams
//     the peer proposed, or, for an INVITE without SDP, with new streams
//     ([DefaultOfferType], else every type that can be created without
//     parameters, or the types given) whose offer goes in the 200.
//
// Errors are typed: [ErrNotRunning], [ErrUnreachable]
// (*[UnreachableError]), [ErrCallPlaced], *[StreamError] wrapping the
// registry's or plugin's error (sdk.ErrUnknownStream, …), and the
// session's and engine's (session.ErrNoStreams, engine.ErrNoRoute).
//
// [RegistryNotifier] and [StreamSource] are the two adapters between the
// registry, which depends on no framework package, and the framework: the
// application uses them, and so does a program running a registry of its
// own.
//
// # Singleton
//
// The reference's SIPApplication is a process-wide singleton. Here
// [Default] returns an explicit default instance, like slog.Default, for
// programs that want one; everything else (and every test) constructs its
// own with [New]. The default instance posts to [notify.Default].
package application
