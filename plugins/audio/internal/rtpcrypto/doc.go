// Package rtpcrypto protects RTP packets with SRTP (RFC 3711) in the
// AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 suites, the ones SDES
// negotiates (RFC 4568), without allocating per packet: the session keys
// are derived once, the cipher, the HMAC and every buffer are reused.
//
// A [Context] serves one direction of one RTP session: Protect for what is
// sent, Unprotect for what is received (authentication, replay window of
// 128 packets, rollover counter estimated as RFC 3711 Appendix A says).
// Contexts are not safe for concurrent use. SRTCP is left to
// github.com/pion/srtp (a packet every few seconds); this package exists
// for the media path, where pion's per-packet allocations and lookups were
// a quarter of the audio plugin's CPU at a thousand calls.
package rtpcrypto
