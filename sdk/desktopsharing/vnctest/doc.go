// Package vnctest gives desktop sharing tests and benchmarks real VNC
// parts to run against: [StartServer] runs TigerVNC's Xvnc (Debian's
// tigervnc-standalone-server) on a private display, listening on loopback
// only with no authentication, and paints a known picture on it
// ([Picture]); [Client] is a small RFB client (RFC 6143, protocol 3.8,
// security type None) decoding Raw and ZRLE updates into exact pixels, and
// [Snapshot] runs Debian's vncsnapshot, a third-party RFB client, to take
// a picture of a server through any address.
//
// Tests never skip for a missing peer: without Xvnc, xsetroot
// (x11-xserver-utils) or vncsnapshot they fail, naming the Debian package
// and .ci/deps, which installs them.
//
// Reference: RFC 6143, The Remote Framebuffer Protocol:
// https://www.rfc-editor.org/rfc/rfc6143
package vnctest
