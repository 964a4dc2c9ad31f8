// Package sipptest runs the real sipp (Debian package sip-tester, sipp
// 3.6.1) against our SIP host on loopback, so the host's tests talk to a
// third-party SIP implementation instead of only to themselves.
//
// # Concept
//
// sipp plays a scenario: an XML script of SIP messages to send and to
// expect (https://sipp.sourceforge.net/doc/reference.html). A UAC
// scenario places calls at a target ("host:port"); a UAS scenario waits
// for calls on a local port. sipp counts each scenario run ("call") as
// successful when it reaches the end, and as failed when an expected
// message does not come in time, an unexpected one comes, or a check in
// the scenario fails. This package starts sipp with bounded runs (a call
// count, a rate, a global timeout and a Go-side kill deadline), on
// loopback only, with every log in a per-run temporary directory, and
// reads back sipp's final statistics and its message trace.
//
// # API
//
// [Binary] finds sipp, or fails the test with how to install it (tests
// never skip for a missing peer: CI must fail loudly; run .ci/deps).
// [Run] plays a scenario to its end and returns a [Result]: exit code,
// successful and failed call counts, the last statistics line, the trace
// of every SIP message, the error log and the screen. [Start] starts one
// in the background and returns once sipp has bound its sockets
// (typically a UAS: point the host at [Process.Port], then call
// [Process.Wait]; [Process.Stop] ends a UAS that waits for more calls).
// When the test fails, the tails of each run's logs are logged; the end
// of the test kills a run still going. [FreePort] picks a free port.
//
//	uas := sipptest.Start(t, ctx, sipptest.Options{Scenario: "uas_echo.xml"})
//	// ... make the host call 127.0.0.1:uas.Port() and hang up ...
//	if r := uas.Wait(); r.Successful != 1 || r.Failed != 0 {
//		t.Errorf("sipp: %d ok, %d failed\n%s", r.Successful, r.Failed, r.Errors)
//	}
//
//	r := sipptest.Run(t, ctx, sipptest.Options{Scenario: "bad_sdp.xml", Remote: hostAddr})
//
// Options.Scenario names either a built-in scenario ("uac", "uas"), a
// file of this package's scenarios/ directory ("uac_echo.xml"), a path
// relative to the test's working directory ("testdata/x.xml"), or an
// absolute path. The scenarios/ files are found from this source file's
// location ([ScenarioDir]), so tests in any package can use them (not in
// a test binary built with -trimpath).
//
// # Scenarios
//
// All keep every wait bounded (10 s for a response, 20 s for a request
// that the host sends when its test decides). The echo stream's SDP is
//
//	m=application PORT UDP x-sipstreams-echo
//	c=IN IP4 ADDR   (or IP6)
//	a=sendrecv      (or sendonly, recvonly, inactive)
//
// Calls to the host (UAC scenarios, Remote = the host's address):
//
//   - uac_echo.xml: INVITE offering one echo stream; optional 100/180/183;
//     200 whose SDP has an echo m-line; ACK; 500 ms; BYE; 200.
//   - uac_echo_hold.xml: as uac_echo, then a re-INVITE with a=sendonly
//     answered by a 200 with a=recvonly, ACK, a re-INVITE with
//     a=sendrecv answered with a=sendrecv, ACK, BYE, 200.
//   - bad_sdp.xml: INVITE whose body is not SDP; 400 or 488, then ACK. A
//     2xx or any other final response fails the call.
//   - unknown_stream.xml: INVITE offering only m=video RTP/AVP VP8; 488;
//     ACK.
//   - bye_no_dialog.xml: BYE outside any dialog; 481.
//   - reinvite_no_dialog.xml: re-INVITE (To tag set) for an unknown
//     dialog; 481; ACK.
//   - uac_refer_bad.xml: a call (200, ACK), then REFERs the host must
//     refuse: a malformed Refer-To and none at all (400 with a Warning),
//     a good one (202 and the host's NOTIFY "SIP/2.0 100 ...", answered
//     200), another while that transfer waits (480); BYE, 200.
//   - uac_replaces_nomatch.xml: INVITE with "Replaces: [replaces]" (Vars
//     "replaces") naming no dialog of the host, or unparsable; 481; ACK.
//
// Calls from the host (UAS scenarios, the host calls [Process.Port]):
//
//   - uas_echo.xml: INVITE offering an echo stream; 180; 200 answering
//     one echo m-line at sipp's media port with a=sendrecv; ACK; BYE;
//     200.
//   - uas_notify_garbage.xml: answers the host's call (200), takes
//     its REFER (202), NOTIFYs a body that is no message/sipfrag and
//     expects 400; then BYE, 200.
//   - uas_notify_garbage_early.xml: as uas_notify_garbage.xml, the
//     NOTIFY sent before the 202 (a NOTIFY may overtake it).
//   - uas_hold.xml: as uas_echo, then a re-INVITE offering a=sendonly
//     (hold) answered with a=recvonly, ACK, a re-INVITE offering
//     a=sendrecv (resume) answered with a=sendrecv, ACK, BYE, 200.
//   - registrar_digest.xml: a registrar for one registration (one
//     Call-ID, RFC 3261 section 10.2): challenges with 401 Digest MD5
//     qop="auth" realm "sipstreams.test", verifies credentials against
//     Vars "username" and "password", answers 200 with the Contact and
//     ;expires=<Vars "expires">, then expects a refresh and an
//     unregistration (Expires: 0). It needs the three Vars.
//
// Each scenario file starts with a comment telling exactly what it
// expects.
//
// # sipp 3.6.1 facts this package relies on
//
// Each was seen on Debian 12's sip-tester 3.6.1; a newer sipp may differ.
//
//   - Its control socket binds 0.0.0.0:8888 unless told otherwise: every
//     run gets -ci 127.0.0.1 and a free -cp.
//   - Its media echo binds -mp and -mp+2 (6000 and up by default): Start
//     picks a free pair, so [media_port] and [echo_port] are ports sipp
//     holds. sipp refuses [media_port] on an SDP line without "audio" or
//     "video" ("media_port keyword with no audio or video on the current
//     line"), hence [echo_port] on the echo stream's m=application line.
//   - Exit codes: 0 all calls succeeded (also after Stop), 1 a call failed
//     or the scenario did not load, 97 internal command, 99 no call
//     processed, 255 fatal error or -timeout reached with
//     -timeout_error, 254 a socket could not be bound (Start then retries
//     with other ports).
//   - A [keyword] that is neither built in nor given by -key makes sipp
//     refuse the scenario ("Unsupported keyword"): pass Options.Vars. A
//     response's status code must be literal, not a keyword.
//   - A recv's timeout counts only while the call waits on that recv:
//     in a run of optional recvs the call waits on the first one, so
//     every recv carries its own timeout.
//   - <verifyauth> works without OpenSSL and checks Digest MD5 with
//     qop=auth. A <test check_it="true"> only logs a warning and
//     <exec int_cmd="stop_call"/> in a <nop> does nothing, so a scenario
//     fails a call on its own conditions with a recv that cannot match
//     and times out after 1 ms (registrar_digest.xml).
//   - <ereg case_indep="true"> is about header names, not the regexp.
//   - Every variable must appear at least twice in a scenario, or sipp
//     refuses it ("Variable $x is referenced 1 times").
//   - On an unexpected final response a UAC aborts the call with a BYE,
//     even for a REGISTER; -default_behaviors all,-bye stops that.
//   - Over TCP, sipp fails the calls of a connection the peer closes,
//     even those waiting out their end; Start passes -reconnect_close
//     false. With a socket per call ("tn") sipp does not start unless
//     -max_socket is below the open-files limit; Start passes 1000.
//   - Debian's build has no TLS: transport "l1" does not start.
package sipptest
