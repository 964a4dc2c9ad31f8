// Package icetransport negotiates the media path of an RTP stream with ICE
// (RFC 5245, as the reference SDK does through pjnath) on top of
// github.com/pion/ice/v2.
//
// A [Transport] has one pion agent per component: component 1 carries RTP
// and component 2 RTCP, unless rtcp-mux leaves a single component. Both
// agents share the stream's ice-ufrag/ice-pwd. Candidates are host
// candidates (loopback included only with Config.IncludeLoopback, which
// tests on 127.0.0.1 need) and, when STUN servers are configured,
// server-reflexive ones.
//
// The SDP side is plain text in RFC 5245 §15 syntax:
//
//	a=ice-ufrag:2701ed80
//	a=ice-pwd:6f8f8281...
//	a=candidate:H 1 UDP 2130706431 192.168.1.6 55328 typ host
//	a=candidate:S 2 UDP 1694498814 80.101.96.20 55329 typ srflx raddr 192.168.1.6 rport 55329
//
// [Transport.Attributes] produces the local attribute values,
// [ParseAttributes] reads the remote ones and [ParseCandidate] one
// candidate. [Transport.Connect] runs the connectivity checks (the offerer is
// controlling) and returns one connected net.Conn per component, which
// rtpsession.ConnTransport turns into the session's transports.
// [Transport.Selected] reports the chosen pair's candidate types for the
// stream's local/remote_rtp_candidate_type attributes, and
// Config.OnStateChange follows each component's ICE state for the
// RTPStreamICENegotiationStateDidChange notification.
package icetransport
