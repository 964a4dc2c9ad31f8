package application

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The seed's middleware API text (shared/seed/middleware-api.txt, the
// reference SDK's Middleware API wiki page flattened to text), copied
// here so that the test reads nothing outside the repository, and the
// notification names extracted from it.
const (
	seedTextFile  = "testdata/middleware-api.txt"
	seedNamesFile = "testdata/seed-notification-names.golden"
)

// seedNameLine matches a line that is a notification name of the seed,
// once trimmed of blanks: an identifier starting with the name of one of
// the middleware's senders — SIPApplication, SIPSession (which covers
// SIPSessionTransfer), MediaStream, AudioStream, ChatStream and the MSRP
// transport and library (MSRPTransportTrace, MSRPLibraryLog) — followed
// by at least one capitalised word (DidStart, GotDTMF, FailedToStartTLS,
// ICENegotiationDidFail, …). The wiki's emphasis markup may surround it:
// one leading '*' or '_' and one trailing '*' or '_' (the seed writes
// "*AudioStreamWillStartRecordingAudio_"); submatch 1 is the bare name.
var seedNameLine = regexp.MustCompile(`^[*_]?((?:SIPApplication|SIPSession|MediaStream|AudioStream|ChatStream|MSRP)[A-Z][A-Za-z]*)[*_]?$`)

// seedNotificationNames extracts the notification names of the seed's API
// text. The rule:
//
//  1. The text is read line by line; each line is trimmed of blanks
//     (CR included).
//  2. A line ending in "¶" is a heading (the flattened wiki's anchor
//     mark). The lines after the heading "notifications¶" up to the next
//     heading form a notification section; the seed has one per class
//     (SIPApplication, Session, IMediaStream, AudioStream, MSRPStreamBase,
//     ChatStream).
//  3. In a notification section, a line that matches seedNameLine in full
//     is a notification name. Names mentioned in prose ("a
//     SIPSessionDidFail notification") or in methods and attributes
//     sections (ChatStreamError, MSRPSession, the stray
//     SIPSessionWillStartRecordingAudio of AudioStream.start_recording)
//     are not: notification sections list each notification as a line of
//     its own, followed by its description and data.
//  4. Names are listed once, in the order they first appear.
func seedNotificationNames(text string) []string {
	var names []string
	inSection := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasSuffix(line, "¶") {
			inSection = line == "notifications¶"
			continue
		}
		if !inSection {
			continue
		}
		m := seedNameLine.FindStringSubmatch(line)
		if m != nil && !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// TestSeedNotificationNamesRule pins the extraction rule on small texts.
func TestSeedNotificationNamesRule(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{
			name: "a name on its own line in a notification section",
			text: "Session¶\nnotifications¶\nSIPSessionDidStart\nWill be sent when a\nSession\ncompletes negotiation.\n",
			want: []string{"SIPSessionDidStart"},
		},
		{
			name: "every sender's prefix",
			text: "notifications¶\nSIPApplicationFailedToStartTLS\nSIPSessionTransferDidFail\nMediaStreamDidInitialize\nAudioStreamICENegotiationDidFail\nChatStreamGotMessage\nMSRPTransportTrace\nMSRPLibraryLog\n",
			want: []string{"SIPApplicationFailedToStartTLS", "SIPSessionTransferDidFail", "MediaStreamDidInitialize", "AudioStreamICENegotiationDidFail", "ChatStreamGotMessage", "MSRPTransportTrace", "MSRPLibraryLog"},
		},
		{
			name: "emphasis markup is dropped",
			text: "notifications¶\n*AudioStreamWillStartRecordingAudio_\n_AudioStreamGotDTMF_\n",
			want: []string{"AudioStreamWillStartRecordingAudio", "AudioStreamGotDTMF"},
		},
		{
			name: "blanks and CRLF around the line",
			text: "notifications¶\r\n  ChatStreamDidSendMessage \r\n",
			want: []string{"ChatStreamDidSendMessage"},
		},
		{
			name: "names outside notification sections are not taken",
			text: "methods¶\nSIPApplicationDidEnd\nChatStreamError\nattributes¶\nMSRPSession\n",
			want: nil,
		},
		{
			name: "a section ends at the next heading",
			text: "notifications¶\nMSRPTransportTrace\nChatStream¶\nChatStreamGotMessage\nmethods¶\nChatStreamError\n",
			want: []string{"MSRPTransportTrace"},
		},
		{
			name: "names in prose are not taken",
			text: "notifications¶\nRight before starting the recording aSIPSessionWillStartRecordingAudio\nnotification will be emitted, orSIPSessionDidFail\nSIPSessionDidFail notification\n",
			want: nil,
		},
		{
			name: "other identifiers of a notification section are not taken",
			text: "notifications¶\nAudioStreamICENegotiationDidSucceed\nThis notification is proxied from the\nRTPTransport\nA\nTrue\nNone\nDEBUG\nSession\nChatIdentity\norCPIMIdentity\nSIPSession\nAudioStream_\n",
			want: []string{"AudioStreamICENegotiationDidSucceed"},
		},
		{
			name: "a name listed twice is taken once, in order of first appearance",
			text: "notifications¶\nSIPSessionGotProposal\nSIPSessionGotRejectProposal\nnotifications¶\nSIPSessionGotProposal\n",
			want: []string{"SIPSessionGotProposal", "SIPSessionGotRejectProposal"},
		},
		{
			name: "a heading with another name is not a notification section",
			text: "notifications of the session¶\nSIPSessionDidStart\n",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := seedNotificationNames(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("names %q, want %q", got, tc.want)
			}
		})
	}
}

// loadSeedNames extracts the notification names of the seed's API text in
// testdata.
func loadSeedNames(t *testing.T) []string {
	t.Helper()
	text, err := os.ReadFile(seedTextFile)
	if err != nil {
		t.Fatal(err)
	}
	names := seedNotificationNames(string(text))
	if len(names) == 0 {
		t.Fatalf("no notification name in %s", seedTextFile)
	}
	return names
}

// TestSeedNotificationNamesGolden: the names extracted from the seed's
// text are those of the golden file, so that an edit of the text (or of
// the rule) is noticed. -update rewrites the golden file.
func TestSeedNotificationNamesGolden(t *testing.T) {
	got := strings.Join(loadSeedNames(t), "\n") + "\n"
	if *update {
		if err := os.WriteFile(seedNamesFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(seedNamesFile)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("names extracted from %s differ from %s (run with -update once the change is understood):\ngot:\n%swant:\n%s",
			seedTextFile, filepath.Base(seedNamesFile), got, want)
	}
}
