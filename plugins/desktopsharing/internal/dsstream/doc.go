// Package dsstream is the "desktop-sharing" stream type: the reference's
// DesktopSharingStream (ScreenSharingStream since 2013), RFB bytes
// tunnelled over MSRP in raw mode (sdk/msrpstream.Raw), with the wire
// format of the reference so that its clients interoperate:
// m=application, a=accept-types:application/x-rfb, a=rfbsetup:active|passive.
//
// A stream has a role (server: our screen is shared; viewer) and a handler
// (see sdk/desktopsharing):
//
//   - the external server handler connects to the configured VNC server
//     (never to an address from the network) within 5 s;
//   - the external viewer handler listens on a loopback ephemeral port and
//     accepts one VNC viewer within the viewer timeout;
//   - the internal handler hands the bytes to the application (send_data,
//     DesktopSharingStreamGotData, ack_data).
//
// Latency comes first: TCP_NODELAY on every socket (Go's default, set
// again on the local ones), each read from the local socket goes out at
// once as one SEND (up to 64 KiB), and each SEND's body is written to the
// local socket as it arrives. Nothing is queued: a side that does not read
// blocks the other's pump — the MSRP connection's reader, then the peer's
// writer, then its VNC socket — so memory stays bounded by the socket
// buffers and one 64 KiB buffer per direction.
//
// Failures of the local socket fail the stream: DesktopSharingHandlerDidFail
// (context connecting, reading or sending, with a reason that names the
// VNC address) then MediaStreamDidFail with the same data. A VNC viewer
// that closes its connection is no failure: the stream posts
// DesktopSharingHandlerDidEnd, and the application ends the session.
package dsstream
