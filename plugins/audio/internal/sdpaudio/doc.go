// Package sdpaudio reads and writes the SDP media section of an RTP audio
// stream (RFC 4566, RFC 3264, RFC 3551), and holds the offer/answer rules of
// the reference SDK's AudioStream that depend on nothing but SDP.
//
// A [Media] is one audio m-line as the stream sees it:
//
//	m=audio 50000 RTP/AVP 111 9 0 8 101
//	c=IN IP4 192.0.2.10
//	a=rtcp:50001
//	a=rtpmap:111 opus/48000/2
//	a=fmtp:111 stereo=0;sprop-stereo=0;useinbandfec=1
//	a=rtpmap:9 G722/8000
//	a=rtpmap:0 PCMU/8000
//	a=rtpmap:8 PCMA/8000
//	a=rtpmap:101 telephone-event/8000
//	a=fmtp:101 0-15
//	a=ptime:20
//	a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:...
//	a=sendrecv
//
// [Parse] reads a remote one (static payload types without a=rtpmap get their
// RFC 3551 names, a=rtcp keeps only the port as the reference does,
// a=crypto lines are parsed with package sdes, ICE lines are kept as text
// for package icetransport) and fails with an error wrapping
// [ErrInvalidMedia] on anything unusable; it never panics on network input
// and is fuzzed. [Media.Build] writes a local one.
//
// The direction rules of reference §3.5 are the SDK's (sdk.OfferDirection,
// sdk.AnswerDirection, sdk.NegotiatedDirection, sdk.HoldState); [Parse]
// reads an old-style hold (c=0.0.0.0) as a direction without "recv", as
// sdk.ParseEndpoint does.
package sdpaudio
