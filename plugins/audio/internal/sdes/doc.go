// Package sdes parses and builds SDP Security Descriptions for SRTP
// (RFC 4568), the a=crypto attribute:
//
//	a=crypto:TAG SUITE inline:KEY||SALT[|LIFETIME][|MKI:LENGTH] [SESSION-PARAMS]
//
// Two suites are supported, AES_CM_128_HMAC_SHA1_80 (the only one the
// reference SDK offers) and AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2); both use
// a 16-byte master key and a 14-byte master salt, carried base64-encoded as
// 30 bytes. Only one key parameter per line is accepted, which is all that
// SIP peers send in practice.
//
// [Parse] reads an attribute, [Crypto.String] writes it back, [New] makes a
// line with a fresh key, [Answer] picks the answer's line from an offer's
// lines (RFC 4568 §7.1.2: the first supported suite, same tag, our own key)
// and [Suite.Profile] maps a suite to its pion/srtp protection profile.
package sdes
