package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// mediaHelp lists the stdin commands for audio and chat streams.
const mediaHelp = `/dtmf DIGITS, /record [FILE], /stop-recording, /stats, /refresh-codecs, /msg TEXT (or any line not starting with /), /composing, ` + conferenceHelp

// mediaFlags are what call and listen do with audio and chat streams.
type mediaFlags struct {
	play     string     // WAV file sent on audio streams instead of the microphone
	record   string     // WAV file recording audio streams from their start
	dtmf     string     // digits sent once an audio stream started
	messages stringList // chat messages sent on the chat stream (queued until it starts)
	queued   bool       // the messages were handed to the stream before the session started
}

func (m *mediaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.play, "play", "", "send this `WAV` file (looped) on audio streams instead of the microphone")
	fs.StringVar(&m.record, "record", "", "record audio streams, both directions, to this `WAV` file")
	fs.StringVar(&m.dtmf, "dtmf", "", "send these `DIGITS` as RFC 4733 DTMF once the audio stream started")
	fs.Var(&m.messages, "message", "send this `TEXT` on the chat stream (repeatable)")
}

// check fails early for a media option that cannot work: a --play file
// that cannot be read, a --record file that cannot be written. The WAV
// format itself is the audio plugin's to judge, when the session starts.
func (m *mediaFlags) check() error {
	if m.play != "" {
		f, err := os.Open(m.play)
		if err != nil {
			return &mediaOptionError{"--play", err}
		}
		f.Close()
	}
	if m.record != "" {
		_, statErr := os.Stat(m.record)
		f, err := os.OpenFile(m.record, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return &mediaOptionError{"--record", err}
		}
		f.Close()
		if errors.Is(statErr, fs.ErrNotExist) {
			_ = os.Remove(m.record) // the recording creates it
		}
	}
	return nil
}

// mediaOptionError is a media option (--play, --record) that failed: at
// the start of the command, or when it was applied to a started session.
// Either fails the command.
type mediaOptionError struct {
	flag string
	err  error
}

func (e *mediaOptionError) Error() string { return e.flag + ": " + e.err.Error() }
func (e *mediaOptionError) Unwrap() error { return e.err }

// streamsOf returns the session's active streams of type typ.
func streamsOf(s *session.Session, typ string) []session.Stream {
	var out []session.Stream
	for _, st := range s.Streams() {
		if st.Type() == typ {
			out = append(out, st)
		}
	}
	return out
}

// applies reports whether sessionStarted has anything to do for a
// session: a --play, a recording (record), DTMF digits or, with messages,
// chat messages not queued already. A session started without any of
// them costs no goroutine, timer or plugin call (a listener answering
// calls by the thousand starts many).
func (m *mediaFlags) applies(record string, messages bool) bool {
	return m.play != "" || record != "" || m.dtmf != "" ||
		(messages && !m.queued && len(m.messages) > 0)
}

// sessionStarted applies the media flags to s's streams once it started:
// the WAV input, the recording (to record: recordName of --record for
// the session's number), the DTMF digits and, with messages, the chat
// messages. A --play or --record that fails is printed and returned as a
// *mediaOptionError, at once: the caller ends the session and fails the
// command. Other errors are printed; the session goes on.
// It returns the Message-IDs of the chat messages sent.
func (m *mediaFlags) sessionStarted(ctx context.Context, s *session.Session, record string, messages bool, pr *printer, stderr io.Writer) ([]string, error) {
	if !m.applies(record, messages) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, st := range streamsOf(s, audio.Type) {
		if m.play != "" {
			if err := audio.SetInput(ctx, st, m.play, 0); err != nil {
				printCommandError(stderr, "--play", err)
				return nil, &mediaOptionError{"--play", err}
			}
		}
		if record != "" {
			name, err := audio.StartRecording(ctx, st, record)
			if err != nil {
				printCommandError(stderr, "--record", err)
				return nil, &mediaOptionError{"--record", err}
			}
			pr.event("recording", map[string]any{"filename": name}, "recording to %s", name)
		}
		if m.dtmf != "" {
			sendDTMF(ctx, st, m.dtmf, stderr)
		}
	}
	if m.queued || !messages {
		return nil, nil
	}
	var ids []string
	for _, text := range m.messages {
		if id := sendChat(ctx, s, text, pr, stderr); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// queueMessages hands the chat messages to the chat stream st before the
// session starts: the stream queues them and sends them in order once it
// started (the reference's send_message before start). It returns their
// Message-IDs; errors are printed.
func (m *mediaFlags) queueMessages(ctx context.Context, st sdk.Stream, pr *printer, stderr io.Writer) []string {
	m.queued = true
	var ids []string
	for _, text := range m.messages {
		id, err := chat.SendMessage(ctx, st, chat.Message{Content: []byte(text)})
		if err != nil {
			printCommandError(stderr, "--message", err)
			continue
		}
		pr.event("message_queued", map[string]any{"message_id": id, "content": text}, "me (queued until the chat starts): %s", text)
		ids = append(ids, id)
	}
	return ids
}

// sendDTMF sends digits one after the other.
func sendDTMF(ctx context.Context, st session.Stream, digits string, stderr io.Writer) {
	for _, d := range digits {
		if err := audio.SendDTMF(ctx, st, string(d)); err != nil {
			printCommandError(stderr, "/dtmf", err)
			return
		}
	}
}

// sendChat sends text on the session's first chat stream and returns its
// Message-ID ("" when it could not be sent). While the session is still
// starting (answered, its ACK or its streams on their way) the chat
// stream it is starting takes the message and sends it once it started,
// as the reference's send_message before start.
func sendChat(ctx context.Context, s *session.Session, text string, pr *printer, stderr io.Writer) string {
	chats := streamsOf(s, chat.Type)
	starting := false
	if len(chats) == 0 {
		switch s.State() {
		case session.StateConnecting, session.StateIncoming, session.StateAccepting:
			for _, st := range s.ProposedStreams() {
				if st.Type() == chat.Type {
					chats, starting = append(chats, st), true
					break
				}
			}
		}
	}
	if len(chats) == 0 {
		fmt.Fprintln(stderr, "sipstreams: the session has no chat stream")
		return ""
	}
	id, err := chat.SendMessage(ctx, chats[0], chat.Message{Content: []byte(text)})
	if err != nil {
		printCommandError(stderr, "/msg", err)
		return ""
	}
	if starting {
		pr.event("message_queued", map[string]any{"message_id": id, "content": text}, "me (queued until the chat starts): %s", text)
		return id
	}
	pr.event("message_sent", map[string]any{"message_id": id, "content": text}, "me: %s", text)
	return id
}

// mediaCommand runs one of the audio and chat stdin commands on s. A line
// that is not a command is a chat message. It reports whether line was
// handled.
func mediaCommand(ctx context.Context, s *session.Session, line string, pr *printer, stderr io.Writer) bool {
	line = strings.TrimSpace(line)
	if line != "" && !strings.HasPrefix(line, "/") {
		sendChat(ctx, s, line, pr, stderr)
		return true
	}
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	audios := streamsOf(s, audio.Type)
	needAudio := func() bool {
		if len(audios) == 0 {
			fmt.Fprintf(stderr, "sipstreams: %s: the session has no audio stream\n", cmd)
			return false
		}
		return true
	}
	switch cmd {
	case "/msg":
		sendChat(ctx, s, rest, pr, stderr)
	case "/composing":
		for _, st := range streamsOf(s, chat.Type) {
			_, err := chat.SendComposingIndication(ctx, st, chat.StateActive, 0, time.Now(), nil)
			printCommandError(stderr, cmd, err)
		}
	case "/dtmf":
		if needAudio() {
			sendDTMF(ctx, audios[0], rest, stderr)
		}
	case "/record":
		if needAudio() {
			name, err := audio.StartRecording(ctx, audios[0], rest)
			if printCommandError(stderr, cmd, err); err == nil {
				pr.event("recording", map[string]any{"filename": name}, "recording to %s", name)
			}
		}
	case "/stop-recording":
		if needAudio() {
			_, err := audio.StopRecording(ctx, audios[0])
			printCommandError(stderr, cmd, err)
		}
	case "/refresh-codecs":
		if needAudio() {
			refreshCodecs(ctx, s, audios, pr, stderr)
		}
	case "/stats":
		if needAudio() {
			_, a, err := audio.ReadAttributes(ctx, audios[0])
			if printCommandError(stderr, cmd, err); err == nil {
				printAudioStats(pr, a)
			}
		}
	default:
		return conferenceCommand(ctx, s, cmd, rest, pr, stderr)
	}
	return true
}

// refreshCodecs makes the audio streams take in the codec directory's
// modules as they are now (audio.RefreshCodecs) and re-offers the session
// (a re-INVITE, session.Renegotiate), so that the call moves onto a codec
// module just added, or off one just removed. The outcome prints as the
// re-INVITE's SIPSessionDidProcessTransaction and, when the codec
// changes, the streams' AudioStreamDidChangeRTPParameters.
func refreshCodecs(ctx context.Context, s *session.Session, audios []session.Stream, pr *printer, stderr io.Writer) {
	for _, st := range audios {
		c, err := audio.RefreshCodecs(ctx, st)
		if err != nil {
			printCommandError(stderr, "/refresh-codecs", err)
			return
		}
		what := "unchanged"
		if c.Changed {
			what = "changed"
		}
		pr.event("codecs", map[string]any{"codecs": c.Codecs, "changed": c.Changed},
			"audio codecs %s: %s; re-offering", what, strings.Join(c.Codecs, ", "))
	}
	printCommandError(stderr, "/refresh-codecs", s.Renegotiate())
}

// printAudioStats prints an audio stream's negotiated parameters and RTP
// and RTCP figures: a line a person reads, or with --json an object with
// "statistics" and "attributes".
func printAudioStats(pr *printer, a audio.Attributes) {
	st := a.Statistics
	srtp := "off"
	if a.Encryption.Active {
		srtp = "on (" + a.Encryption.Cipher + ")"
	}
	ice := "off"
	if a.ICEActive {
		ice = fmt.Sprintf("on (%s/%s)", a.LocalRTPCandidateType, a.RemoteRTPCandidateType)
	}
	toMap := func(v any) any {
		b, _ := json.Marshal(v)
		var m any
		_ = json.Unmarshal(b, &m)
		return m
	}
	codecName := a.Codec
	if a.CodecModule != "" {
		codecName = fmt.Sprintf("%s (module %s %s)", a.Codec, a.CodecModule, a.CodecVersion)
	}
	pr.event("statistics", map[string]any{"statistics": toMap(st), "attributes": toMap(a)},
		"audio: %s at %d Hz, SRTP %s, ICE %s, %s:%d -> %s:%d\n"+
			"  rx %d packets, %d lost, jitter %.2f ms, %d SRTP failures; tx %d packets; RTT %.2f ms; RTCP %d sent, %d received",
		codecName, a.SampleRate, srtp, ice, a.LocalRTPAddress, a.LocalRTPPort, a.RemoteRTPAddress, a.RemoteRTPPort,
		st.RX.Packets, st.RX.PacketsLost, st.RX.JitterMillis, st.RX.SRTPFailures, st.TX.Packets, st.RTT.LastMillis, st.RTCPSent, st.RTCPReceived)
}
