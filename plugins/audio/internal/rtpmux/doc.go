// Package rtpmux shares UDP sockets among the RTP sessions of the audio
// plugin: the media engine for many calls.
//
// With a socket pair per call, every packet costs a system call to send,
// another to receive and a goroutine woken to read it. A [Mux] instead
// owns a few RTP/RTCP socket pairs and hands each call an [Endpoint] pair
// on one of them, so that calls advertise the same local ports. Each
// socket has one reader, which takes up to a batch of datagrams per system
// call (recvmmsg on Linux) and routes each to its session, and one writer,
// which sends what the sessions queued since its last round in one system
// call (sendmmsg); datagrams of one size to one destination (calls between
// two hosts that both share their sockets) go as one GSO message
// (UDP_SEGMENT) that the kernel cuts up after its IP path, until a kernel
// or route refuses it. Elsewhere than Linux the same code reads and writes
// one datagram per call.
//
// Routing (demultiplexing): a datagram goes to the endpoint whose peer
// (where its session sends, rtpsession.PeerTransport) is the datagram's
// source. Several endpoints with one peer (two calls with a peer that
// shares its ports too) are told apart by the SSRC each learned from the
// packets it accepted or was told (SetRemoteSSRC, from a=ssrc); an SSRC
// none has learned is tried on the endpoints that have learned none, and
// the first whose session accepts it (SRTP authenticates) keeps it. A
// datagram from an unknown source goes to the endpoints that learned its
// SSRC, whose sessions decide whether to latch to the new address (the
// rules of package rtpsession); anything else is dropped and counted
// ([Mux.Stats]). Datagrams that are not RTP or RTCP never reach a
// session.
//
// The Mux does not own the sessions; each session owns its endpoints and
// closes them. The Mux's goroutines stop at [Mux.Close].
package rtpmux
