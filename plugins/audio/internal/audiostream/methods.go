package audiostream

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/dtmf"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
)

// filePort is a WAV player as a mixer port with a name unique to its stream
// (two streams may play the same file).
type filePort struct {
	*mixer.WAVPlayer
	name string
}

func (f *filePort) Name() string { return f.name }

// recorderPort is a WAV recorder as a mixer port with a unique name.
type recorderPort struct {
	*mixer.WAVRecorder
	name string
	path string
}

func (r *recorderPort) Name() string { return r.name }

// Invoke serves the stream-scope methods of package sdk/audio.
func (s *stream) Invoke(ctx context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	switch req.Method {
	case sdkaudio.MethodSendDTMF:
		return sdk.HandleInvoke(req, func(a sdkaudio.SendDTMFArgs) (any, error) { return nil, s.sendDTMF(a.Digit) })
	case sdkaudio.MethodStartRecording:
		return sdk.HandleInvoke(req, s.startRecording)
	case sdkaudio.MethodStopRecording:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.recorder == nil {
			return nil, sdk.Errorf(sdk.ErrIllegalState, "not recording")
		}
		name := s.recorder.path
		s.stopRecordingLocked("")
		return sdk.Result(sdkaudio.RecordingResult{Filename: name})
	case sdkaudio.MethodStatistics:
		s.mu.Lock()
		defer s.mu.Unlock()
		return sdk.Result(s.statisticsLocked())
	case sdkaudio.MethodSetInput:
		return sdk.HandleInvoke(req, func(a sdkaudio.SetInputArgs) (any, error) { return nil, s.setInput(a.File, a.Loops) })
	case sdkaudio.MethodRefreshCodecs:
		return sdk.HandleInvoke(req, func(struct{}) (any, error) { return s.refreshCodecs(ctx) })
	}
	return s.UnimplementedStream.Invoke(ctx, req)
}

// refreshCodecs resolves rtp.audio_codec_list again against the codec
// directory as it is now: the next offer lists a module just added and no
// longer one removed. The codec in use is not touched until the next
// offer/answer changes it.
func (s *stream) refreshCodecs(ctx context.Context) (sdkaudio.Codecs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life.In(sdk.StateEnded, sdk.StateFailed) {
		return sdkaudio.Codecs{}, sdk.Errorf(sdk.ErrIllegalState, "refresh_codecs in state %s", s.life.State())
	}
	before := codecNames(s.st.codecs)
	st := s.st
	if err := s.plugin.resolveCodecs(ctx, &st); err != nil {
		return sdkaudio.Codecs{}, err
	}
	changed := !slices.Equal(before, codecNames(st.codecs))
	for i, c := range st.codecs {
		if i < len(s.st.codecs) && c != s.st.codecs[i] {
			changed = true // the same names, another module
		}
	}
	s.st = st
	return sdkaudio.Codecs{Codecs: codecNames(st.codecs), Changed: changed}, nil
}

func codecNames(cs []codec.Codec) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Info().Name)
	}
	return out
}

// sendDTMF queues a digit (reference §3.7: only while established).
func (s *stream) sendDTMF(digit string) error {
	r, size := utf8.DecodeRuneInString(digit)
	if size == 0 || size != len(digit) {
		return sdk.Errorf(sdk.ErrInvalidArgument, "send_dtmf: %q is not one digit", digit)
	}
	if _, err := dtmf.Code(r); err != nil {
		return sdk.Errorf(sdk.ErrInvalidArgument, "send_dtmf: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life.State() != sdk.StateStarted || s.port == nil {
		return sdk.Errorf(sdk.ErrIllegalState, "send_dtmf in state %s", s.life.State())
	}
	if err := s.port.sendDTMF(r); err != nil {
		return sdk.Errorf(sdk.ErrInvalidArgument, "send_dtmf: %v", err)
	}
	return nil
}

// startRecording records the stream's bridge (the remote party and the
// microphone) to a WAV file, posting AudioStreamWillStartRecordingAudio and
// AudioStreamDidStartRecordingAudio (or DidStopRecordingAudio with the
// reason), each followed by the name without "Audio".
func (s *stream) startRecording(args sdkaudio.RecordingArgs) (sdkaudio.RecordingResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life.State() != sdk.StateStarted || s.mix == nil {
		return sdkaudio.RecordingResult{}, sdk.Errorf(sdk.ErrIllegalState, "start_recording in state %s", s.life.State())
	}
	if s.recorder != nil {
		return sdkaudio.RecordingResult{}, sdk.Errorf(sdk.ErrIllegalState, "already recording to %s", s.recorder.path)
	}
	filename := args.Filename
	if filename == "" {
		filename = s.defaultRecordingName()
	}
	postAll(s.env, sdkaudio.RecordingData{Filename: filename}, sdkaudio.WillStartRecordingAudio, sdkaudio.WillStartRecording)
	rec, err := mixer.NewWAVRecorder(filename, s.mix.SampleRate())
	if err == nil {
		port := &recorderPort{WAVRecorder: rec, name: "recorder:" + s.port.name, path: filename}
		if err = s.mix.Add(port); err != nil {
			_ = rec.Close()
		} else {
			s.recorder = port
		}
	}
	if err != nil {
		postAll(s.env, sdkaudio.RecordingData{Filename: filename, Reason: err.Error()}, sdkaudio.DidStopRecordingAudio, sdkaudio.DidStopRecording)
		return sdkaudio.RecordingResult{}, sdk.Errorf(sdk.ErrInvalidArgument, "start_recording %s: %v", filename, err)
	}
	s.applyLocked()
	postAll(s.env, sdkaudio.RecordingData{Filename: filename}, sdkaudio.DidStartRecordingAudio, sdkaudio.DidStartRecording)
	return sdkaudio.RecordingResult{Filename: filename}, nil
}

// stopRecordingLocked finishes the recording, if any, posting
// AudioStreamWillStopRecordingAudio and AudioStreamDidStopRecordingAudio,
// each followed by the name without "Audio".
func (s *stream) stopRecordingLocked(reason string) {
	rec := s.recorder
	if rec == nil {
		return
	}
	postAll(s.env, sdkaudio.RecordingData{Filename: rec.path}, sdkaudio.WillStopRecordingAudio, sdkaudio.WillStopRecording)
	s.recorder = nil
	s.applyLocked()
	if s.mix != nil {
		_ = s.mix.Remove(rec)
	}
	if err := rec.Close(); err != nil && reason == "" {
		reason = err.Error()
	}
	postAll(s.env, sdkaudio.RecordingData{Filename: rec.path, Reason: reason}, sdkaudio.DidStopRecordingAudio, sdkaudio.DidStopRecording)
}

// defaultRecordingName is <recordings dir>/<YYYYMMDD>/<YYYYMMDD-HHMMSS>-
// <remote>-<direction>.wav, after sip-session3's pattern.
func (s *stream) defaultRecordingName() string {
	dir := s.st.recordingsDir
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".sipstreams", "recordings")
		} else {
			dir = filepath.Join(os.TempDir(), "sipstreams-recordings")
		}
	}
	now := time.Now()
	remote := "unknown"
	if s.session != nil && s.session.RemoteIdentity != "" {
		remote = s.session.RemoteIdentity
	}
	remote = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '@', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.TrimPrefix(strings.TrimPrefix(remote, "sip:"), "sips:"))
	direction := s.sessionDir
	if direction == "" {
		direction = "outgoing"
	}
	return filepath.Join(dir, now.Format("20060102"), now.Format("20060102-150405")+"-"+remote+"-"+direction+".wav")
}

// setInput makes a WAV file the stream's input ("" goes back to the
// microphone). Before Start the file is only remembered.
func (s *stream) setInput(file string, loops int) error {
	if loops < 0 {
		return sdk.Errorf(sdk.ErrInvalidArgument, "set_input: loops %d < 0", loops)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life.In(sdk.StateEnded, sdk.StateFailed) {
		return sdk.Errorf(sdk.ErrIllegalState, "set_input in state %s", s.life.State())
	}
	if s.mix == nil {
		if file != "" {
			if _, err := os.Stat(file); err != nil {
				return sdk.Errorf(sdk.ErrInvalidArgument, "set_input: %v", err)
			}
		}
		s.inputFile, s.inputLoops = file, loops
		return nil
	}
	return s.openInputLocked(file, loops)
}

// openInputLocked replaces the input player.
func (s *stream) openInputLocked(file string, loops int) error {
	var next *filePort
	if file != "" {
		p, err := mixer.NewWAVPlayer(file, 0, mixer.WithLoopCount(loops), mixer.WithCache(s.plugin.engine.files)) // at its own rate: see RatedPort
		if err != nil {
			return sdk.Errorf(sdk.ErrInvalidArgument, "set_input: %v", err)
		}
		next = &filePort{WAVPlayer: p, name: "input:" + s.port.name}
	}
	old := s.input
	s.input = nil
	s.applyLocked()
	if old != nil {
		_ = s.mix.Remove(old)
		_ = old.Close()
	}
	if next != nil {
		if err := s.mix.Add(next); err != nil {
			_ = next.Close()
			return sdk.Errorf(sdk.ErrInternal, "set_input: %v", err)
		}
		s.input = next
	}
	s.inputFile, s.inputLoops = file, loops
	s.applyLocked()
	return nil
}
