// Package rtpsession is the RTP/RTCP media transport of one audio stream:
// it sends and receives RTP (RFC 3550) over a packet transport, optionally
// protected with SRTP/SRTCP (RFC 3711, keys from SDES), and runs RTCP
// reporting. It carries payload bytes; codecs live elsewhere.
//
// A [Session] is built from a [Config]: the local transports (two UDP
// sockets from package ports, one with rtcp-mux (RFC 5761), or ICE
// connections wrapped with [ConnTransport]), the remote RTP and RTCP
// addresses from SDP, SRTP keys, clock rate and callbacks. [Session.Start]
// launches its reader (none for a transport that delivers its datagrams
// itself, [PushTransport]: many sessions on shared sockets) and its timers
// (runtime timers, no goroutine of the session's while they wait);
// [Session.Close] stops them and closes the transports, which the Session
// owns from New on.
//
// Sending: [Session.Send] builds an RTP packet with the session's SSRC, the
// next sequence number and the current timestamp, then advances the
// timestamp by the given amount. RTP is symmetric (RFC 4961): packets leave
// from the socket they are received on. With Config.Latch the session also
// sends to the source address of incoming packets when it differs from the
// SDP address; both addresses are reported in [Stats], as the reference
// SDK's remote_rtp_address_sdp and remote_rtp_address_received. A new
// source is followed only after a short probation (Config.LatchAfter
// packets in sequence), and once the peer's stream is known only if its
// packets continue that stream (same SSRC, next sequence numbers) or, with
// SRTP, authenticate: a spoofer who cannot see the peer's packets cannot
// divert ours. RTCP without rtcp-mux follows its source on the same terms
// (the peer's SSRC from the peer's IP, or SRTCP).
// [Session.SetSending](false) holds the stream: no media is sent, but an
// empty RTP packet (the reference's PJMEDIA_STREAM_KA_EMPTY_RTP keep-alive)
// goes out every Config.KeepAlive to keep NAT bindings open.
//
// Receiving: each packet is decrypted (packets failing SRTP authentication
// or replay checks are dropped and counted in Stats.SRTPFailures, never
// delivered), checked against the accepted payload types and handed to
// Config.OnPacket. Reception statistics follow RFC 3550 appendix A.3
// (cumulative and fractional loss) and A.8 (interarrival jitter).
//
// RTCP: every Config.RTCPInterval (5 s by default, randomized to 0.5–1.5
// times that as RFC 3550 §6.3.1 asks) the session sends a
// compound packet: a sender report while it is sending, else a receiver
// report, with one reception report block for the remote source and an SDES
// CNAME. Reports from the peer give the round-trip time (RFC 3550 §6.4.1:
// now − LSR − DLSR).
//
// RTP timeout: when Config.Timeout is set and no RTP arrived during a whole
// timeout period, Config.OnTimeout is called (the reference's
// RTPStreamDidTimeout, setting rtp.timeout, default 30 s). The caller
// decides whether it applies (the reference only posts it for sendrecv).
//
// Callbacks run on the session's reader, its transport's or its timers:
// they must not block and must not call Close.
package rtpsession
