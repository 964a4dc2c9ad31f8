package sipptest

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runTimeout bounds each sipp run of these tests.
const runTimeout = 20 * time.Second

func target(ip string, port int) string {
	return net.JoinHostPort(ip, strconv.Itoa(port))
}

// wantCalls fails the test unless r reports want successful calls, no
// failed one and exit code 0.
func wantCalls(t *testing.T, side string, r Result, want int) {
	t.Helper()
	if r.ExitCode != 0 || r.Successful != want || r.Failed != 0 {
		t.Errorf("%s: exit %d, %d successful, %d failed calls; want exit 0, %d successful, 0 failed\nerrors:\n%s",
			side, r.ExitCode, r.Successful, r.Failed, want, tail(r.Errors, tailBytes))
	}
}

// wantFailure fails the test unless r reports exactly one failed call,
// counted in the statistics column col.
func wantFailure(t *testing.T, side string, r Result, col string) {
	t.Helper()
	if r.ExitCode != 1 || r.Successful != 0 || r.Failed != 1 || r.Stats[col] != "1" {
		t.Errorf("%s: exit %d, %d successful, %d failed calls, %s=%q; want exit 1, 0 successful, 1 failed, %s=1\nerrors:\n%s",
			side, r.ExitCode, r.Successful, r.Failed, col, r.Stats[col], col, tail(r.Errors, tailBytes))
	}
}

func TestBuiltinUACAgainstUAS(t *testing.T) {
	for _, tc := range []struct {
		name, ip, transport string
	}{
		{"udp", "127.0.0.1", "u1"},
		{"tcp", "127.0.0.1", "t1"},
		{"udp-ipv6", "::1", "u1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			uas := Start(t, t.Context(), Options{Scenario: "uas", LocalIP: tc.ip, Transport: tc.transport, Calls: 5, Timeout: runTimeout})
			uac := Run(t, t.Context(), Options{
				Scenario: "uac", Remote: target(tc.ip, uas.Port()),
				LocalIP: tc.ip, Transport: tc.transport, Calls: 5, Timeout: runTimeout,
			})
			wantCalls(t, "uac", uac, 5)
			wantCalls(t, "uas", uas.Wait(), 5)
			if n := strings.Count(uac.Messages, "INVITE sip:"); n != 5 {
				t.Errorf("uac message trace has %d INVITEs, want 5", n)
			}
		})
	}
}

// rejectInvite writes testdata/reject_invite.xml.in with the status line
// status ("488 Not Acceptable Here") into a temporary file and returns
// its path. The response adds a To tag unless the INVITE is in-dialog.
func rejectInvite(t *testing.T, status string, inDialog bool) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reject_invite.xml.in"))
	if err != nil {
		t.Fatal(err)
	}
	to := "[last_To:];tag=[pid]SIPpTag01[call_number]"
	if inDialog {
		to = "[last_To:]"
	}
	xml := strings.NewReplacer("@STATUS@", status, "@TO@", to).Replace(string(b))
	path := filepath.Join(t.TempDir(), "reject_invite.xml")
	if err := os.WriteFile(path, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pair is a UAS scenario and the UAC scenario that plays against it.
type pair struct {
	name           string
	uas, uac       string
	reject         string // the UAS is reject_invite.xml.in with this status line
	inDialog       bool   // the rejected INVITE has a To tag
	ip, transport  string
	uasVars        map[string]string
	uacExtra       []string
	wantInMessages []string // in the UAC's message trace
}

// pairs make each of this package's scenarios play against a counterpart
// that behaves as the host should: both sides must succeed.
var pairs = []pair{
	{
		name: "echo", uas: "uas_echo.xml", uac: "uac_echo.xml",
		wantInMessages: []string{"SIP/2.0 180 Ringing", "UDP x-sipstreams-echo", "BYE sip:"},
	},
	{name: "echo-tcp", uas: "uas_echo.xml", uac: "uac_echo.xml", transport: "t1"},
	{
		name: "echo-ipv6", uas: "uas_echo.xml", uac: "uac_echo.xml", ip: "::1",
		wantInMessages: []string{"c=IN IP6 ::1"},
	},
	{
		name: "hold", uas: "uas_hold.xml", uac: "uac_echo_hold.xml",
		wantInMessages: []string{"CSeq: 2 INVITE", "a=recvonly", "CSeq: 3 INVITE", "CSeq: 4 BYE"},
	},
	{
		name: "bad_sdp-488", reject: "488 Not Acceptable Here", uac: "bad_sdp.xml",
		wantInMessages: []string{"this is not sdp", "CSeq: 1 ACK"},
	},
	{
		name: "bad_sdp-400", reject: "400 Bad Request", uac: "bad_sdp.xml",
	},
	{
		name: "unknown_stream", reject: "488 Not Acceptable Here", uac: "unknown_stream.xml",
		wantInMessages: []string{"m=video", "VP8/90000"},
	},
	{name: "bye_no_dialog", uas: "testdata/reject_bye.xml", uac: "bye_no_dialog.xml"},
	{
		name: "reinvite_no_dialog", reject: "481 Call/Transaction Does Not Exist", inDialog: true,
		uac:            "reinvite_no_dialog.xml",
		wantInMessages: []string{";tag=nodialog-", "CSeq: 2 ACK"},
	},
	{
		name: "registrar_digest", uas: "registrar_digest.xml", uac: "testdata/register_digest_uac.xml",
		uasVars:        map[string]string{"username": "alice", "password": "secret", "expires": "3"},
		uacExtra:       []string{"-s", "alice", "-au", "alice", "-ap", "secret"},
		wantInMessages: []string{`realm="sipstreams.test"`, "qop=auth", ";expires=3", "Expires: 0"},
	},
	{
		name: "uas_auth", uas: "uas_auth.xml", uac: "testdata/invite_auth_uac.xml",
		uasVars:        map[string]string{"username": "alice", "password": "secret"},
		uacExtra:       []string{"-au", "alice", "-ap", "secret"},
		wantInMessages: []string{"SIP/2.0 401 Unauthorized", "Authorization: Digest", "CSeq: 3 BYE"},
	},
	{
		name: "uas_bye_at_once", uas: "uas_bye_at_once.xml", uac: "testdata/uac_called_off.xml",
		wantInMessages: []string{"CSeq: 1 BYE"},
	},
	{
		name: "uac_no_ack", uas: "testdata/missing_ack_uas.xml", uac: "uac_no_ack.xml",
		wantInMessages: []string{`text="Missing ACK"`},
	},
	{
		name: "uac_no_sdp", uas: "testdata/offer_in_200_uas.xml", uac: "uac_no_sdp.xml",
		wantInMessages: []string{"CSeq: 1 ACK", "Content-Type: application/sdp", "CSeq: 2 BYE"},
	},
	{
		name: "uas_never_answers", uas: "uas_never_answers.xml", uac: "testdata/uac_gives_up.xml",
		wantInMessages: []string{"CANCEL sip:", "SIP/2.0 487 Request Terminated"},
	},
	{
		name: "uac_404", reject: "404 Not Found", uac: "uac_404.xml",
		wantInMessages: []string{"SIP/2.0 404 Not Found", "CSeq: 1 ACK"},
	},
	{
		name: "uac_message", uas: "testdata/message_uas.xml", uac: "uac_message.xml",
		wantInMessages: []string{"CSeq: 2 MESSAGE", "hello in the dialog", "CSeq: 3 BYE"},
	},
	{
		name: "uac_refer_bad", uas: "testdata/refer_bad_uas.xml", uac: "uac_refer_bad.xml",
		wantInMessages: []string{"Refer-To: <sip:carol@\r\n", "SIP/2.0 400 Bad Request", "CSeq: 4 REFER", "SIP/2.0 202 Accepted",
			"Event: refer;id=4", "SIP/2.0 100 Trying", "SIP/2.0 480 Temporarily Unavailable", "CSeq: 6 BYE"},
	},
	{
		name: "uac_replaces_nomatch", reject: "481 Call/Transaction Does Not Exist", uac: "uac_replaces_nomatch.xml",
		uacExtra:       []string{"-key", "replaces", "nosuchcall;to-tag=a;from-tag=b"},
		wantInMessages: []string{"Replaces: nosuchcall;to-tag=a;from-tag=b", "SIP/2.0 481 ", "CSeq: 1 ACK"},
	},
	{
		name: "uas_notify_garbage", uas: "uas_notify_garbage.xml", uac: "testdata/notify_garbage_uac.xml",
		wantInMessages: []string{"CSeq: 2 REFER", "SIP/2.0 202 Accepted", "Event: refer;id=2", "this is not a sipfrag", "SIP/2.0 400 Bad Request", "CSeq: 3 BYE"},
	},
	{
		name: "uas_notify_garbage_early", uas: "uas_notify_garbage_early.xml", uac: "testdata/notify_garbage_early_uac.xml",
		wantInMessages: []string{"CSeq: 2 REFER", "Event: refer;id=2", "this is not a sipfrag", "SIP/2.0 202 Accepted", "SIP/2.0 400 Bad Request", "CSeq: 3 BYE"},
	},
	{
		name: "uas_hold_during_proposal", uas: "uas_hold_during_proposal.xml", uac: "testdata/uac_proposal_then_hold.xml",
		wantInMessages: []string{"CSeq: 2 INVITE", "CSeq: 3 INVITE", "a=sendonly", "a=recvonly", "CSeq: 4 BYE"},
	},
}

func TestScenarioPairs(t *testing.T) {
	for _, pc := range pairs {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			ip := pc.ip
			if ip == "" {
				ip = "127.0.0.1"
			}
			if pc.reject != "" {
				pc.uas = rejectInvite(t, pc.reject, pc.inDialog)
			}
			uas := Start(t, t.Context(), Options{
				Scenario: pc.uas, LocalIP: ip, Transport: pc.transport,
				Vars: pc.uasVars, Timeout: runTimeout,
			})
			uac := Run(t, t.Context(), Options{
				Scenario: pc.uac, Remote: target(ip, uas.Port()), LocalIP: ip,
				Transport: pc.transport, Extra: pc.uacExtra, Timeout: runTimeout,
			})
			wantCalls(t, "uac "+pc.uac, uac, 1)
			wantCalls(t, "uas "+pc.uas, uas.Wait(), 1)
			for _, s := range pc.wantInMessages {
				if !strings.Contains(uac.Messages, s) {
					t.Errorf("uac message trace lacks %q", s)
				}
			}
		})
	}
}

// TestEveryScenarioHasAPair keeps TestScenarioPairs covering every file of
// scenarios/.
func TestEveryScenarioHasAPair(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(ScenarioDir(t), "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	var played []string
	for _, pc := range pairs {
		played = append(played, pc.uas, pc.uac)
	}
	for _, f := range files {
		if !slices.Contains(played, filepath.Base(f)) {
			t.Errorf("scenario %s is played by no pair in TestScenarioPairs", filepath.Base(f))
		}
	}
}

// TestFailingExpectations shows that a scenario whose expectation is not
// met makes the harness report a failed call.
func TestFailingExpectations(t *testing.T) {
	for _, tc := range []struct {
		name      string
		uas, uac  string
		uasVars   map[string]string
		uacExtra  []string
		uacFailed string // the UAC's failure column, "" if it must succeed
		uasFailed string // the UAS's failure column, "" if not checked
	}{
		{
			name: "bad_sdp answered 200", uas: "testdata/answer_audio.xml", uac: "bad_sdp.xml",
			uacFailed: "FailedUnexpectedMessage(C)",
		},
		{
			name: "uac_echo answered with audio", uas: "testdata/answer_audio.xml", uac: "uac_echo.xml",
			uacFailed: "FailedRegexpDoesntMatch(C)",
		},
		{
			name: "uas_hold never put on hold", uas: "uas_hold.xml", uac: "uac_echo.xml",
			uasFailed: "FailedUnexpectedMessage(C)",
		},
		{
			name: "registrar_digest wrong password", uas: "registrar_digest.xml", uac: "testdata/register_digest_uac.xml",
			uasVars: map[string]string{"username": "alice", "password": "secret", "expires": "3"},
			// -bye: no BYE after the unexpected 403, as a host would not.
			uacExtra:  []string{"-s", "alice", "-au", "alice", "-ap", "wrong", "-default_behaviors", "all,-bye"},
			uacFailed: "FailedUnexpectedMessage(C)",
			uasFailed: "FailedTimeoutOnRecv(C)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			uas := Start(t, t.Context(), Options{Scenario: tc.uas, Vars: tc.uasVars, Timeout: runTimeout})
			uac := Run(t, t.Context(), Options{
				Scenario: tc.uac, Remote: target("127.0.0.1", uas.Port()),
				Extra: tc.uacExtra, Timeout: runTimeout,
			})
			if tc.uacFailed != "" {
				wantFailure(t, "uac "+tc.uac, uac, tc.uacFailed)
			} else {
				wantCalls(t, "uac "+tc.uac, uac, 1)
			}
			srv := uas.Wait()
			if tc.uasFailed != "" {
				wantFailure(t, "uas "+tc.uas, srv, tc.uasFailed)
			}
		})
	}
}

func TestStop(t *testing.T) {
	t.Parallel()
	uas := Start(t, t.Context(), Options{Scenario: "uas", Calls: 100, Timeout: runTimeout})
	start := time.Now()
	uas.Stop()
	r := uas.Wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sipp took %v to stop", d)
	}
	if r.Successful != 0 || r.Failed != 0 || r.Stats == nil {
		t.Errorf("stopped idle uas: %d successful, %d failed, stats %v", r.Successful, r.Failed, r.Stats != nil)
	}
	t.Logf("exit code after Stop: %d", r.ExitCode)
}

func TestTimeoutBoundsRun(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := Run(t, t.Context(), Options{Scenario: "uas", Timeout: time.Second})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a 1 s run took %v", d)
	}
	if r.ExitCode != 255 {
		t.Errorf("exit code %d at -timeout with -timeout_error, want 255", r.ExitCode)
	}
}

func TestPortsAndDir(t *testing.T) {
	t.Parallel()
	port := FreePort(t, "udp", "127.0.0.1")
	uas := Start(t, t.Context(), Options{Scenario: "uas", LocalPort: port, Timeout: runTimeout})
	if uas.Port() != port {
		t.Errorf("Port() = %d, want %d", uas.Port(), port)
	}
	for _, p := range []int{port, uas.MediaPort(), uas.MediaPort() + 2} {
		if c, err := net.ListenPacket("udp", target("127.0.0.1", p)); err == nil {
			c.Close()
			t.Errorf("port %d is free after Start: sipp has not bound it", p)
		}
	}
	uas.Stop()
	r := uas.Wait()
	if r.Dir != uas.Dir() {
		t.Errorf("Result.Dir %q, Process.Dir %q", r.Dir, uas.Dir())
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "stat.csv")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(r.Screen, "Test Terminated") {
		t.Errorf("screen output lacks the final report:\n%s", tail(r.Screen, 500))
	}
}

func TestParseStats(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      map[string]string
	}{
		{"empty", "", nil},
		{"header only", "A;B;\n", nil},
		{"last line wins", "A;SuccessfulCall(C);\n1;2;\n3;4;\n", map[string]string{"A": "3", "SuccessfulCall(C)": "4"}},
		{"short line", "A;B;C;\n1;\n\n", map[string]string{"A": "1", "B": ""}},
		{"crlf", "A;B\r\n5;6\r\n", map[string]string{"A": "5", "B": "6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseStats(tc.csv)
			if len(got) != len(tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("parseStats = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestTail(t *testing.T) {
	if got := tail("short", 10); got != "short" {
		t.Errorf("tail(short) = %q", got)
	}
	got := tail("line1\nline2\nline3\n", 8)
	if got != "[...]\nline3\n" {
		t.Errorf("tail = %q", got)
	}
}
