package system

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/spectrum"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/tone"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const sinkName = "sipstreams_test"

// startPulse starts a private PulseAudio daemon with a null sink, points
// this process's PulseAudio clients at it and kills it when the test ends.
// It returns a function that kills the daemon early.
// A machine without PulseAudio fails the test: the real-device path must be
// proven, not skipped.
func startPulse(t *testing.T) (kill func()) {
	t.Helper()
	bin, err := exec.LookPath("pulseaudio")
	if err != nil {
		t.Fatalf("pulseaudio is required for the real-device test (apt-get install pulseaudio pulseaudio-utils): %v", err)
	}
	if _, err := exec.LookPath("parec"); err != nil {
		t.Fatalf("parec (pulseaudio-utils) is required: %v", err)
	}
	dir, err := os.MkdirTemp("", "pulse") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("HOME", dir)
	t.Setenv("PULSE_SERVER", "unix:"+filepath.Join(dir, "pulse", "native"))
	cmd := exec.Command(bin, "--daemonize=yes", "--exit-idle-time=-1", "-n",
		"--load=module-null-sink sink_name="+sinkName, "--load=module-native-protocol-unix")
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("pulseaudio: %v\n%s", err, out)
	}
	pidFile := filepath.Join(dir, "pulse", "pid")
	b, err := os.ReadFile(pidFile)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		t.Fatalf("no pid for the pulseaudio daemon in %s: %v %v", pidFile, err, perr)
	}
	t.Cleanup(func() {
		killPID(pid)
		os.RemoveAll(dir)
	})
	// Wait for the sink to be listed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("pactl", "list", "short", "sinks").CombinedOutput()
		if err == nil && strings.Contains(string(out), sinkName) {
			return func() { killPID(pid) }
		}
		if time.Now().After(deadline) {
			t.Fatalf("null sink not listed: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killPID ends the process pid (a daemon the test started) and waits for it.
func killPID(pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// record runs parec on the sink's monitor into a raw file until stop is
// called, which returns the samples.
func record(t *testing.T, rate int) (stop func() []int16) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "monitor.raw")
	cmd := exec.Command("parec", "-d", sinkName+".monitor", "--rate="+strconv.Itoa(rate),
		"--channels=1", "--format=s16le", "--raw", path)
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatalf("parec: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return func() []int16 {
		t.Helper()
		stopped = true
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		samples, _ := pcm.Decode(nil, b[:len(b)/2*2])
		return samples
	}
}

func sinkID(t *testing.T, b *Backend) string {
	t.Helper()
	devs, err := device.List(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		raw, _ := hex.DecodeString(d.ID)
		if d.Output && string(raw) == sinkName {
			return d.ID
		}
	}
	t.Fatalf("null sink %q not among the devices %+v", sinkName, devs)
	return ""
}

// TestPulseNullSinkTone plays a 440 Hz tone through an alert mixer into a
// PulseAudio null sink, reads the sink's monitor back with parec and finds
// the tone's frequency. On the way it switches devices at run time: to a
// device that does not exist (the mixer falls back to the null clock) and
// back to the sink. At the end it kills the sound server: the mixer notices
// and goes on with the null clock.
func TestPulseNullSinkTone(t *testing.T) {
	killPulse := startPulse(t)
	b, err := New(WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id := sinkID(t, b)

	ctx := context.Background()
	m, err := mixer.NewAlert(mixer.WithBackend(b), mixer.WithDevices(device.None, id), mixer.WithSampleRate(48000), mixer.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(ctx); err != nil || m.OnNullDevice() {
		t.Fatalf("Start on the null sink = %v (on null %v)", err, m.OnNullDevice())
	}
	err = m.SetDevices(ctx, device.None, "no-such-speaker")
	var oe *device.OpenError
	if !errors.As(err, &oe) || !errors.Is(err, device.ErrDeviceNotFound) || !m.OnNullDevice() {
		t.Fatalf("SetDevices(missing) = %v (on null %v)", err, m.OnNullDevice())
	}
	if err := m.SetDevices(ctx, device.None, id); err != nil || m.OnNullDevice() {
		t.Fatalf("SetDevices(sink) = %v (on null %v)", err, m.OnNullDevice())
	}

	const recRate = 16000
	stop := record(t, recRate)
	tg, err := mixer.NewToneGenerator("tone", m.SampleRate(), tone.WithVolume(50))
	if err != nil {
		t.Fatal(err)
	}
	m.Add(tg)
	m.Connect(tg, m.Device())
	done := tg.PlayTones(tone.Pause(300*time.Millisecond), tone.Tone{F1: 440, Duration: 1500 * time.Millisecond}, tone.Pause(300*time.Millisecond))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the device clock did not play the tones out")
	}
	samples := stop()

	// The sound server going away moves the mixer to the null clock.
	killPulse()
	deadline := time.Now().Add(15 * time.Second)
	for !m.OnNullDevice() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !m.OnNullDevice() || !errors.Is(m.DeviceLost(), device.ErrDeviceLost) {
		t.Fatalf("after the sound server died: on null %v, DeviceLost %v", m.OnNullDevice(), m.DeviceLost())
	}
	again := tg.PlayTones(tone.Tone{F1: 440, Duration: 100 * time.Millisecond})
	select {
	case <-again:
	case <-time.After(30 * time.Second):
		t.Fatal("the null clock does not tick after the device was lost")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// The loudest second of the recording carries the tone.
	block := recRate
	if len(samples) < block {
		t.Fatalf("recorded %d samples, want at least %d", len(samples), block)
	}
	best, bestRMS := 0, 0.0
	for at := 0; at+block <= len(samples); at += recRate / 10 {
		if r := spectrum.RMS(samples[at : at+block]); r > bestRMS {
			best, bestRMS = at, r
		}
	}
	if bestRMS < 1000 {
		t.Fatalf("recording is silent (RMS %.0f over %d samples)", bestRMS, len(samples))
	}
	f, amp := spectrum.Dominant(samples[best:best+block], recRate)
	t.Logf("monitor: dominant %.1f Hz, amplitude %.0f, RMS %.0f", f, amp, bestRMS)
	if f < 435 || f > 445 {
		t.Fatalf("dominant frequency %.1f Hz, want 440", f)
	}
}

// TestPulseDuplexLoop opens a voice mixer whose microphone is the sink's
// monitor: a tone played to the speaker comes back at the microphone and a
// WAVRecorder connected to the device hears it.
func TestPulseDuplexLoop(t *testing.T) {
	startPulse(t)
	b, err := New(WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id := sinkID(t, b)
	var monitor string
	devs, _ := b.Devices(context.Background())
	for _, d := range devs {
		raw, _ := hex.DecodeString(d.ID)
		if d.Input && string(raw) == sinkName+".monitor" {
			monitor = d.ID
		}
	}
	if monitor == "" {
		t.Fatalf("no monitor source among %+v", devs)
	}
	m, err := mixer.NewVoice(mixer.WithBackend(b), mixer.WithDevices(monitor, id), mixer.WithSampleRate(32000), mixer.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "loop.wav")
	rec, err := mixer.NewWAVRecorder(path, m.SampleRate())
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := mixer.NewToneGenerator("tone", m.SampleRate(), tone.WithVolume(50))
	for _, p := range []mixer.Port{rec, tg} {
		m.Add(p)
	}
	m.Connect(tg, m.Device())
	m.Connect(m.Device(), rec)
	done := tg.PlayTones(tone.Tone{F1: 1000, Duration: 1500 * time.Millisecond}, tone.Pause(500*time.Millisecond))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("tones not played out")
	}
	m.Close()
	m.Remove(rec)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := wavOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	f, amp := spectrum.Dominant(r, 32000)
	t.Logf("microphone: dominant %.1f Hz, amplitude %.0f over %d samples", f, amp, len(r))
	if f < 990 || f > 1010 || amp < 1000 {
		t.Fatalf("microphone heard %.1f Hz at %.0f, want the 1000 Hz tone", f, amp)
	}
}
