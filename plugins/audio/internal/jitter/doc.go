// Package jitter provides a playout (jitter) buffer for fixed-duration audio
// frames carried in RTP, one frame per packet (20 ms by default).
//
// The network goroutine calls [Buffer.Push] for every received packet of
// the stream; the audio clock calls [Buffer.Pop] once per frame tick. Pop
// returns the next packet in sequence order, [StatusLost] when the packet due
// now is missing (the caller runs its decoder's packet-loss concealment), or
// [StatusEmpty] while the buffer is (re)filling.
//
// Packets are ordered by their extended RTP sequence number (RFC 3550 §A.1
// style unwrapping, so the 16-bit wraparound is transparent). Duplicates and
// packets arriving after their playout time are dropped and counted; a new
// SSRC or a large sequence jump resets the buffer (the sender restarted).
//
// Playout starts once the buffered span reaches the target delay. With
// Config.Adaptive the target follows the measured interarrival jitter
// (RFC 3550 §6.4.1, §A.8) between MinDelay and MaxDelay; otherwise it is
// fixed at MinDelay. When the buffered span grows past the limit, the oldest
// frame is discarded at the next Pop to bring latency back down.
//
// A Buffer is safe for concurrent use by one pushing and one popping
// goroutine; it starts no goroutines of its own.
package jitter
