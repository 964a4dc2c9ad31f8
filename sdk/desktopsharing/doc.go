// Package desktopsharing is the caller's contract of the "desktop-sharing"
// stream type: the reference's DesktopSharingStream (named
// ScreenSharingStream since 2013), a VNC desktop — the RFB protocol,
// RFC 6143 — tunnelled over MSRP, as served by the
// sipstreams-plugin-desktopsharing plugin.
//
// # Wire format
//
// The stream is an MSRP stream in raw mode (sdk/msrpstream.Raw): an
// m=application line with TCP/MSRP or TCP/TLS/MSRP and the format "*",
// a=accept-types:application/x-rfb, and a=rfbsetup:active|passive, where
// passive is the side whose screen is shared (the VNC server side) and
// active the viewer. Every read from the local VNC socket travels as one
// SEND (Success-Report no, Failure-Report partial, a fresh Message-ID,
// Byte-Range 1-n/n); SENDs of another content type are answered 415,
// other methods 501.
//
// # Roles and handlers
//
// A stream has a [Role] and a [Handler]. For an outgoing stream both come
// from the [Params] of sdk.CreateRequest: [RoleServer] shares our screen
// (we offer rfbsetup:passive), [RoleViewer] views the peer's (we offer
// rfbsetup:active). For an incoming stream the role follows the offer: a
// remote rfbsetup of active (the default) makes us the server, passive the
// viewer; the handler is the account's [SettingHandler].
//
//   - [HandlerExternal] as server connects to the VNC server at
//     Params.VNCServer or the account's [SettingVNCServer] (default
//     [DefaultVNCServer]) within [ConnectTimeout] — never to an address
//     taken from the network.
//   - [HandlerExternal] as viewer listens on a loopback port, posts
//     [HandlerDidStartListening] with its address (also in [Attributes]),
//     and accepts one VNC viewer within the viewer timeout.
//   - [HandlerInternal] leaves the RFB bytes to the application: [SendData]
//     sends them, [GotData] brings the peer's, and [AckData] tells the
//     stream they were consumed (at most [SettingInternalWindow] bytes are
//     delivered and not acknowledged).
//
// # Notifications
//
// Besides the generic MediaStream* ones: [HandlerDidStartListening] and
// [HandlerDidConnect] ([AddressData]), [GotData] ([DataData]),
// [HandlerDidFail] ([FailData]: context connecting, reading or sending,
// followed by MediaStreamDidFail with the same data) and [HandlerDidEnd]
// ([EndData]: the local VNC viewer closed its connection, and the
// application should end the session).
package desktopsharing
