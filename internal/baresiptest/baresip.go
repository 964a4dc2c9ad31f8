package baresiptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// DefaultLifetime is Options.Lifetime when it is zero.
	DefaultLifetime = 60 * time.Second
	// KillGrace is how long past its lifetime baresip may run before
	// the Go side kills it and fails the test.
	KillGrace = 10 * time.Second

	readyTimeout = 10 * time.Second // for "baresip is ready."
	quitTimeout  = 10 * time.Second // for baresip to exit after /quit
	startTries   = 3                // when a chosen port was taken
	rtpPortCount = 20               // RTP/RTCP ports per instance
	tailLines    = 60               // lines of output logged for a failed test
	pollEvery    = 20 * time.Millisecond
)

// Log lines baresip 1.0.0 prints (colour escapes removed), as seen with
// this package's configuration. Each is a regular expression for
// WaitLog.
const (
	// LogReady: started, the SIP socket is bound.
	LogReady = `^baresip is ready\.$`
	// LogIncoming: an incoming call waits for /accept (answermode
	// manual). "sip:baresip@127.0.0.1: Incoming call from: NAME URI -
	// (press 'a' to accept)".
	LogIncoming = `: Incoming call from: `
	// LogAnswering: an incoming call is being answered (either mode).
	// "call: answering call on line 1 from sip:baresip@127.0.0.1 with 200".
	LogAnswering = `^call: answering call on line \d+ from \S+ with 200$`
	// LogRinging: an outgoing call got 180. "call: SIP Progress: 180
	// Ringing (/)".
	LogRinging = `^call: SIP Progress: 180 `
	// LogEstablished: a call got or sent its 200 and ACK. Caller:
	// "baresip@127.0.0.1: Call established: sip:baresip@127.0.0.1:PORT";
	// callee: "baresip@127.0.0.1: Call established: sip:baresip@127.0.0.1".
	LogEstablished = `: Call established: `
	// LogRTPEstablished: the first RTP packet of the call's audio came
	// in. "stream: incoming rtp for 'audio' established, receiving from
	// 127.0.0.1:PORT".
	LogRTPEstablished = `^stream: incoming rtp for 'audio' established`
	// LogDTMFSent: /sndcode sent a digit as RFC 4733 events. "audio:
	// send DTMF digit: '1'".
	LogDTMFSent = `^audio: send DTMF digit: '(.)'$`
	// LogDTMFReceived: an RFC 4733 event came in; baresip prints it at
	// its start (end=0) and end (end=1). "received event: '1' (end=1)".
	LogDTMFReceived = `^received event: '(.)' \(end=(\d)\)$`
	// LogHold: /hold sent a re-INVITE (a=sendonly). "call: hold URI".
	LogHold = `^call: hold `
	// LogResume: /resume sent a re-INVITE (a=sendrecv). "call: resume URI".
	LogResume = `^call: resume `
	// LogReINVITE: the peer sent a re-INVITE with an offer (its hold or
	// resume); baresip 1.0 prints nothing more specific. "call: got
	// re-INVITE (SDP Offer)".
	LogReINVITE = `^call: got re-INVITE \(SDP Offer\)$`
	// LogPeerHangup: the peer's BYE ended the call (re reports it as
	// ECONNRESET). "sip:baresip@127.0.0.1: session closed: Connection
	// reset by peer".
	LogPeerHangup = `: session closed: Connection reset by peer$`
	// LogTerminated: a call ended, either side hung up. "sip:baresip@
	// 127.0.0.1: Call with sip:baresip@127.0.0.1:PORT terminated
	// (duration: 2 secs)".
	LogTerminated = `: Call with \S+ terminated \(duration: `
	// LogClosed: the call was refused or failed before it was set up,
	// e.g. "sip:...: session closed: 488 Not Acceptable Here".
	LogClosed = `: session closed: `
	// LogSRTP: SDES-SRTP is on for the call's audio. "srtp: audio: SRTP
	// is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)".
	LogSRTP = `^srtp: audio: SRTP is Enabled \(cryptosuite=(\S+)\)$`
	// LogRecording: sndfile opened a recording. "sndfile: dumping
	// decode audio to DIR/dump-2026-11-26-01-26-38-dec.wav".
	LogRecording = `^sndfile: dumping (encode|decode) audio to (\S+)$`
)

// Codecs for Options.Codecs, in baresip 1.0's spelling.
const (
	CodecPCMU = "pcmu/8000/1"
	CodecPCMA = "pcma/8000/1"
	CodecG722 = "g722/16000/1" // RTP clock 8000, audio 16 kHz
	CodecOpus = "opus/48000/2"
	// CodecG726 is G.726 at 32 kbit/s (g726 module, spandsp), which
	// baresip 1.0 sends with the AAL2 packing (I.366.2, the first
	// codeword in the high nibble), not RFC 3551's.
	CodecG726 = "g726-32/8000/1"
)

// Options tell Start how to configure baresip.
type Options struct {
	// Name labels the instance in logs and names its aubridge devices;
	// "baresip" when empty.
	Name string
	// Port is the SIP port on 127.0.0.1 (UDP and TCP); baresip also
	// listens for TLS on TCP Port+1. 0 picks a free even port whose
	// neighbour is free too.
	Port int
	// RTPMin and RTPMax bound the RTP and RTCP ports; both 0 picks a
	// free range of 20 ports.
	RTPMin, RTPMax int
	// ToneHz is the frequency of the sine baresip sends (ausine); 440
	// when zero and WAV is empty.
	ToneHz int
	// WAV, when set, is a WAV file baresip sends instead of a sine
	// (aufile), once: at its end baresip hangs up the call.
	WAV string
	// AutoAnswer answers incoming calls at once (answermode=auto);
	// otherwise they wait for Accept.
	AutoAnswer bool
	// Codecs restricts the account's audio codecs, in order of
	// preference (audio_codecs=), as baresip names them:
	// name/rate/channels, such as CodecPCMU. A bare name means rate 8000
	// and one channel to baresip, so "opus" or "g722" alone match nothing
	// (Start fails then). Empty leaves all: opus, G722, G726-40/32/24/16,
	// PCMU, PCMA.
	Codecs []string
	// MediaEnc is the account's media encryption (mediaenc=): "srtp"
	// (offer RTP/AVP with crypto, take either), "srtp-mand" (offer
	// RTP/SAVP, refuse plain RTP with 488), "srtp-mandf"; empty for
	// plain RTP.
	MediaEnc string
	// Lifetime bounds baresip's run (-t, whole seconds);
	// DefaultLifetime when zero. The Go side kills it KillGrace later.
	Lifetime time.Duration
	// Verbose adds baresip's debug output (-v); SIPTrace adds every SIP
	// message (-s).
	Verbose, SIPTrace bool
	// ConfigExtra are lines appended to the config file.
	ConfigExtra []string
	// AccountExtra are parameters appended to the account
	// ("ptime=30").
	AccountExtra []string
}

// Baresip is a baresip process started by Start.
type Baresip struct {
	t       testing.TB
	name    string
	dir     string
	port    int
	rtp     [2]int // RTP port range
	args    []string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *output
	logPath string
	done    chan struct{} // closed once cmd.Wait returned
	timer   *time.Timer
	overdue atomic.Bool
	mu      sync.Mutex // serialises commands on stdin
}

// Recording is a pair of WAV files sndfile wrote for one call: the
// decoded audio baresip received and the audio it sent (before
// encoding), at the codec's rate.
type Recording struct {
	// Received is the "-dec.wav" file; Sent is the "-enc.wav" file.
	Received, Sent string
}

// Binary returns the path of baresip, or fails the test with how to
// install it: tests never skip for a missing peer.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatalf("baresiptest: %v: install the Debian package baresip-core (as root: bash .ci/deps, or apt-get install baresip-core)", err)
	}
	return path
}

// Start writes a private configuration directory, starts baresip on it
// with its standard input as a command pipe, and returns once baresip
// says it is ready. Cancelling ctx kills baresip; so does the end of the
// test (after a /quit). When the test fails, the tail of its output is
// logged. Call Start from the test's goroutine: it fails the test with
// t.Fatalf when baresip does not start.
func Start(t testing.TB, ctx context.Context, o Options) *Baresip {
	t.Helper()
	bin := Binary(t)
	if o.Name == "" {
		o.Name = "baresip"
	}
	if o.ToneHz == 0 {
		o.ToneHz = 440
	}
	if o.Lifetime == 0 {
		o.Lifetime = DefaultLifetime
	}
	for try := 1; ; try++ {
		b, err := start(t, ctx, bin, o)
		if err == nil {
			return b
		}
		if !errors.Is(err, errPortTaken) || try == startTries || o.Port != 0 {
			t.Fatalf("baresiptest: %s: %v", o.Name, err)
		}
		t.Logf("baresiptest: %s: %v; trying other ports", o.Name, err)
	}
}

var errPortTaken = errors.New("a port was taken")

func start(t testing.TB, ctx context.Context, bin string, o Options) (*Baresip, error) {
	t.Helper()
	dir := t.TempDir()
	s := settings{
		dir:          dir,
		port:         o.Port,
		rtpMin:       o.RTPMin,
		rtpMax:       o.RTPMax,
		toneHz:       o.ToneHz,
		wav:          o.WAV,
		name:         o.Name,
		autoAnswer:   o.AutoAnswer,
		codecs:       o.Codecs,
		mediaEnc:     o.MediaEnc,
		configExtra:  o.ConfigExtra,
		accountExtra: o.AccountExtra,
	}
	if s.port == 0 {
		p, err := freeSIPPort()
		if err != nil {
			return nil, err
		}
		s.port = p
	}
	if s.rtpMin == 0 && s.rtpMax == 0 {
		p, err := freeUDPRange(rtpPortCount)
		if err != nil {
			return nil, err
		}
		s.rtpMin, s.rtpMax = p, p+rtpPortCount-1
	}
	if o.WAV != "" {
		abs, err := filepath.Abs(o.WAV)
		if err != nil {
			return nil, err
		}
		s.wav = abs
	}
	if err := os.Mkdir(filepath.Join(dir, "recordings"), 0o755); err != nil {
		return nil, err
	}
	for name, body := range map[string]string{"config": s.configFile(), "accounts": s.accountsFile()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	secs := int(math.Ceil(o.Lifetime.Seconds()))
	args := []string{"-f", dir, "-t", strconv.Itoa(secs)}
	if o.Verbose {
		args = append(args, "-v")
	}
	if o.SIPTrace {
		args = append(args, "-s")
	}
	logPath := filepath.Join(dir, "baresip.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	b := &Baresip{
		t:       t,
		name:    o.Name,
		dir:     dir,
		port:    s.port,
		rtp:     [2]int{s.rtpMin, s.rtpMax},
		args:    args,
		out:     newOutput(logFile),
		logPath: logPath,
		done:    make(chan struct{}),
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// baresip must never read or write the user's files.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd.Stdout = b.out
	cmd.Stderr = b.out
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	b.cmd, b.stdin = cmd, stdin
	t.Logf("baresiptest: %s: %s %s (SIP 127.0.0.1:%d, RTP %d-%d)", o.Name, bin, strings.Join(args, " "), s.port, s.rtpMin, s.rtpMax)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting baresip: %w", err)
	}
	b.timer = time.AfterFunc(time.Duration(secs)*time.Second+KillGrace, func() {
		b.overdue.Store(true)
		_ = cmd.Process.Kill()
	})
	go func() {
		defer close(b.done)
		_ = cmd.Wait()
		b.timer.Stop()
		b.out.close()
		logFile.Close()
	}()
	t.Cleanup(b.cleanup)

	rctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if _, err := b.WaitLog(rctx, LogReady); err != nil {
		b.kill()
		if line, ok := b.out.find(regexp.MustCompile(`Address already in use`)); ok {
			return nil, fmt.Errorf("%w: %s", errPortTaken, line)
		}
		return nil, fmt.Errorf("not ready: %w\n%s", err, tailOf(b.out.text(), tailLines))
	}
	// A codec name baresip does not know would silently leave every
	// codec enabled.
	if line, ok := b.out.find(regexp.MustCompile(`^account: audio codec not found: `)); ok {
		b.kill()
		return nil, fmt.Errorf("Options.Codecs %q: %s", o.Codecs, line)
	}
	return b, nil
}

// Port returns baresip's SIP port on 127.0.0.1.
func (b *Baresip) Port() int { return b.port }

// RTPPorts returns the range baresip takes its RTP and RTCP ports from.
func (b *Baresip) RTPPorts() (lo, hi int) { return b.rtp[0], b.rtp[1] }

// URI returns the SIP URI that reaches baresip's account:
// "sip:baresip@127.0.0.1:PORT".
func (b *Baresip) URI() string { return "sip:baresip@127.0.0.1:" + strconv.Itoa(b.port) }

// Dir returns baresip's configuration directory, which also holds its
// log (baresip.log) and recordings (recordings/).
func (b *Baresip) Dir() string { return b.dir }

// LogFile returns the path of the file that holds baresip's raw
// standard output and error.
func (b *Baresip) LogFile() string { return b.logPath }

// Log returns baresip's output so far, one line per "\n" or "\r" (its
// status line redraws with "\r"), colour escapes removed.
func (b *Baresip) Log() string { return b.out.text() }

// Command sends a menu command line ("/dial sip:x@127.0.0.1:5060") on
// baresip's standard input. The stdio module reads it key by key, so the
// log shows it echoed as it is typed.
func (b *Baresip) Command(line string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.done:
		return fmt.Errorf("baresiptest: %s: command %q: %w", b.name, line, ErrExited)
	default:
	}
	if _, err := io.WriteString(b.stdin, line+"\n"); err != nil {
		return fmt.Errorf("baresiptest: %s: command %q: %w", b.name, line, err)
	}
	return nil
}

// Dial places a call to uri (/dial).
func (b *Baresip) Dial(uri string) error { return b.Command("/dial " + uri) }

// Accept answers the incoming call that waits (/accept), when
// AutoAnswer is off.
func (b *Baresip) Accept() error { return b.Command("/accept") }

// Hangup ends the current call (/hangup).
func (b *Baresip) Hangup() error { return b.Command("/hangup") }

// Hold puts the current call on hold (/hold: a re-INVITE with
// a=sendonly).
func (b *Baresip) Hold() error { return b.Command("/hold") }

// Resume takes the current call off hold (/resume: a re-INVITE with
// a=sendrecv).
func (b *Baresip) Resume() error { return b.Command("/resume") }

// SendDTMF sends digits (0-9, *, #, A-D) on the current call as RFC 4733
// telephone-events (/sndcode, a command of baresip 1.0's menu during a
// call). It fails for other characters.
func (b *Baresip) SendDTMF(digits string) error {
	if digits == "" || strings.Trim(digits, "0123456789*#ABCDabcd") != "" {
		return fmt.Errorf("baresiptest: SendDTMF %q: digits must be 0-9, *, #, A-D", digits)
	}
	return b.Command("/sndcode " + digits)
}

// Quit asks baresip to end its calls and exit (/quit) and waits until it
// has exited or ctx is done.
func (b *Baresip) Quit(ctx context.Context) error {
	if err := b.Command("/quit"); err != nil && !errors.Is(err, ErrExited) {
		return err
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("baresiptest: %s: waiting for exit: %w", b.name, context.Cause(ctx))
	}
}

// Done is closed once baresip has exited.
func (b *Baresip) Done() <-chan struct{} { return b.done }

// WaitLog waits until a line of baresip's output, from its start,
// matches the regular expression pattern (such as LogEstablished), and
// returns the line. It fails with ErrExited if baresip exits first, or
// with ctx's error.
func (b *Baresip) WaitLog(ctx context.Context, pattern string) (string, error) {
	lines, err := b.WaitLogN(ctx, pattern, 1)
	if err != nil {
		return "", err
	}
	return lines[0], nil
}

// WaitLogN waits until n lines of baresip's output, from its start,
// match pattern, and returns them (the second "Call established" of two
// calls, three DTMF digits).
func (b *Baresip) WaitLogN(ctx context.Context, pattern string, n int) ([]string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("baresiptest: %w", err)
	}
	lines, err := b.out.wait(ctx, re, n)
	if err != nil {
		return lines, fmt.Errorf("baresiptest: %s: %w", b.name, err)
	}
	return lines, nil
}

// Recordings returns the WAV files sndfile wrote, one pair per call, in
// the order of the calls. sndfile completes a file's header when the
// call ends, so read them after LogTerminated. Its file names have
// one-second resolution: two calls starting within the same second
// share (and overwrite) one pair. baresip 1.0's sndfile stops writing
// received audio at the call's first re-INVITE (hold) although RTP goes
// on.
func (b *Baresip) Recordings() ([]Recording, error) {
	dir := filepath.Join(b.dir, "recordings")
	dec, err := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if err != nil {
		return nil, err
	}
	if len(dec) == 0 {
		return nil, fmt.Errorf("baresiptest: %s: %w in %s", b.name, ErrNoRecording, dir)
	}
	slices.Sort(dec)
	recs := make([]Recording, 0, len(dec))
	for _, d := range dec {
		r := Recording{Received: d, Sent: strings.TrimSuffix(d, "-dec.wav") + "-enc.wav"}
		if _, err := os.Stat(r.Sent); err != nil {
			return nil, fmt.Errorf("baresiptest: %s: %w: %v", b.name, ErrNoRecording, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// WaitRecorded waits until the latest recording pair holds at least
// seconds of received and of sent audio, polling the files' sizes: a
// measure of media that does not depend on how fast the machine runs
// baresip. It fails with ErrExited if baresip exits first, or with
// ctx's error.
func (b *Baresip) WaitRecorded(ctx context.Context, seconds float64) error {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		state, err := b.recorded()
		if err == nil && state.rx >= seconds && state.tx >= seconds {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("received %.2f s, sent %.2f s", state.rx, state.tx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("baresiptest: %s: waiting for %.1f s of recorded audio: %v: %w", b.name, seconds, err, context.Cause(ctx))
		case <-b.done:
			return fmt.Errorf("baresiptest: %s: waiting for %.1f s of recorded audio: %v: %w", b.name, seconds, err, ErrExited)
		case <-tick.C:
		}
	}
}

// recorded returns how much audio the latest recording pair holds.
func (b *Baresip) recorded() (struct{ rx, tx float64 }, error) {
	var s struct{ rx, tx float64 }
	recs, err := b.Recordings()
	if err != nil {
		return s, err
	}
	r := recs[len(recs)-1]
	if s.rx, err = RecordedSeconds(r.Received); err != nil {
		return s, err
	}
	s.tx, err = RecordedSeconds(r.Sent)
	return s, err
}

// kill kills baresip and waits for it.
func (b *Baresip) kill() {
	select {
	case <-b.done:
	default:
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// cleanup asks baresip to quit, kills it if it does not, and logs the
// tail of its output when the test failed.
func (b *Baresip) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), quitTimeout)
	defer cancel()
	if err := b.Quit(ctx); err != nil {
		b.kill()
	}
	b.stdin.Close()
	b.timer.Stop()
	if b.overdue.Load() {
		b.t.Errorf("baresiptest: %s ran past its -t lifetime by %v and was killed", b.name, KillGrace)
	}
	if !b.t.Failed() {
		return
	}
	b.t.Logf("baresiptest: %s (SIP port %d, dir %s):\n  baresip %s\nexit: %v\n--- tail of its output ---\n%s",
		b.name, b.port, b.dir, strings.Join(b.args, " "), b.cmd.ProcessState, tailOf(b.out.text(), tailLines))
}

// tailOf returns the last n lines of text.
func tailOf(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) <= n {
		return text
	}
	return "[...]\n" + strings.Join(lines[len(lines)-n:], "")
}

// freeSIPPort returns an even port P such that UDP and TCP P and TCP P+1
// were free on 127.0.0.1 a moment ago: baresip listens on all three.
func freeSIPPort() (int, error) {
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if p%2 != 0 {
			p--
		}
		if portsFree(p, "udp", "tcp") && portsFree(p+1, "tcp") {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: no free SIP port pair on 127.0.0.1", errPortTaken)
}

// freeUDPRange returns a port P such that UDP ports P to P+n-1 were free
// on 127.0.0.1 a moment ago.
func freeUDPRange(n int) (int, error) {
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if p+n > 65535 {
			continue
		}
		ok := true
		for q := p; q < p+n && ok; q++ {
			ok = portsFree(q, "udp")
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: no free range of %d UDP ports on 127.0.0.1", errPortTaken, n)
}

// portsFree reports whether port can be bound on 127.0.0.1 for each
// network.
func portsFree(port int, networks ...string) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, network := range networks {
		switch network {
		case "udp":
			c, err := net.ListenPacket(network, addr)
			if err != nil {
				return false
			}
			c.Close()
		default:
			l, err := net.Listen(network, addr)
			if err != nil {
				return false
			}
			l.Close()
		}
	}
	return true
}
