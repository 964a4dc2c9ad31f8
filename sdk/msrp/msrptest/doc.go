// Package msrptest provides an MSRP relay (RFC 4976) on a real socket for
// tests: the relay side of AUTH with a digest challenge, a Use-Path per
// authenticated client, and forwarding of requests and their transaction
// responses between client connections by To-Path. It is enough for two
// MSRP sessions, each behind the relay or one of them connecting to it
// directly, to talk through it.
//
// It is an emulation for tests, not a relay to deploy: it forwards only to
// the clients that authenticated with it and to peers that sent requests
// through it before (it never opens connections; a To-Path leading
// elsewhere is answered 481), keeps whole chunks in memory, and never
// expires a reservation.
//
// Stream vendors can use it to test their MSRP streams behind a relay:
//
//	r, err := msrptest.StartRelay(msrptest.RelayConfig{Username: "alice", Password: "secret"})
//	...
//	defer r.Close()
//	// account setting nat_traversal.msrp_relay = r.Setting()
//
// [Relay.Records] lists what the relay saw, for assertions.
package msrptest
