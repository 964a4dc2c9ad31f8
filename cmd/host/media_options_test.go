package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// soxFile makes a WAV file with Debian's sox (installed by .ci/deps):
// args are sox's arguments after "-n -D", then the file, then the effects.
func soxFile(t *testing.T, name string, opts []string, effects ...string) string {
	t.Helper()
	bin, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox is needed (.ci/deps installs it): %v", err)
	}
	path := filepath.Join(t.TempDir(), name)
	args := append(append(append([]string{"-n", "-D"}, opts...), path), effects...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v\n%s", args, err, out)
	}
	return path
}

// exitCode is a finished process's exit code (-1 when it did not exit).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// TestPlaySoxDefaultWAV: `call --play` with the file sox writes by default
// (32-bit WAVE_FORMAT_EXTENSIBLE, 48 kHz), which was refused while the call
// went on and exited 0: the call carries it (the callee's recording holds
// the tone, not the silence of the null microphone) and nothing is
// refused.
func TestPlaySoxDefaultWAV(t *testing.T) {
	tone := soxFile(t, "tone.wav", nil, "synth", "10", "sine", "440", "vol", "0.5")
	rec := filepath.Join(t.TempDir(), "rec.wav")
	f := &flow{t: t, tc: udp4}
	uri := startMediaListener(t, f, "--record", rec)
	f.c = startProc(t, "caller", "call", uri, "--audio", "--play", tone, "--hangup-after", "2s", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("call exit: %v", err)
	}
	if strings.Contains(f.c.errb.String(), "--play") {
		f.fatalf("--play refused")
	}
	f.awaitName(f.l, "SIPSessionDidEnd")
	f.quit()
	// sox's own measure of the recording: the tone peaks near 0.5 of full
	// scale (through the codec), the callee's null microphone adds
	// nothing; a call without the file is silent.
	out, err := exec.Command("sox", rec, "-n", "stat").CombinedOutput()
	if err != nil {
		t.Fatalf("sox stat: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Maximum\s+amplitude:\s+([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no maximum amplitude in sox stat:\n%s", out)
	}
	if peak, _ := strconv.ParseFloat(string(m[1]), 64); peak < 0.3 || peak > 0.7 {
		t.Fatalf("the callee recorded a peak of %.3f, want about 0.5: the file was not played\n%s%s", peak, out, f.dump())
	}
}

// TestMediaOptionFailsCommand: a --play or --record that cannot work fails
// the command with exit 1 and says why: at once when the file cannot be
// read or written, before any call or listening; and when the audio plugin
// refuses the file as the session starts (µ-law WAV), the session is ended
// and the command exits 1 — the caller's and the callee's.
func TestMediaOptionFailsCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.wav")
	noDir := filepath.Join(t.TempDir(), "no", "such", "dir", "rec.wav")
	t.Run("at the start", func(t *testing.T) {
		dir := mediaPlugins(t)
		tests := []struct {
			name string
			args []string
			want string
		}{
			{"call --play missing", []string{"call", "sip:bob@127.0.0.1:9", "--audio", "--play", missing}, "--play: open " + missing},
			{"call --record unwritable", []string{"call", "sip:bob@127.0.0.1:9", "--audio", "--record", noDir}, "--record: open " + noDir},
			{"listen --play missing", []string{"listen", "--auto-answer", "--listen", "udp:127.0.0.1:0", "--play", missing}, "--play: open " + missing},
			{"listen --record unwritable", []string{"listen", "--auto-answer", "--listen", "udp:127.0.0.1:0", "--record", noDir}, "--record: open " + noDir},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out, errs := runCLI(t, append(tt.args, "--plugin-dir", dir)...)
				if code != 1 || !strings.Contains(errs, tt.want) {
					t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errs, tt.want)
				}
				if strings.Contains(out, "listening") || strings.Contains(out, "calling") {
					t.Fatalf("went on after the failure:\n%s", out)
				}
			})
		}
		if _, err := os.Stat(filepath.Dir(noDir)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the check made %s", filepath.Dir(noDir))
		}
	})

	ulaw := soxFile(t, "ulaw.wav", []string{"-r", "8000", "-e", "u-law"}, "synth", "1", "sine", "440")
	t.Run("refused by the plugin, caller", func(t *testing.T) {
		f := &flow{t: t, tc: udp4}
		uri := startMediaListener(t, f)
		f.c = startProc(t, "caller", "call", uri, "--audio", "--play", ulaw, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
		err := f.waitExit(f.c)
		if code := exitCode(err); code != 1 {
			f.fatalf("call exit %d (%v), want 1", code, err)
		}
		if errs := f.c.errb.String(); !strings.Contains(errs, "--play:") || !strings.Contains(errs, "unsupported format") {
			f.fatalf("caller's stderr does not say why")
		}
		f.awaitName(f.l, "SIPSessionDidEnd")
		f.quit()
	})
	t.Run("refused by the plugin, callee", func(t *testing.T) {
		f := &flow{t: t, tc: udp4}
		uri := startMediaListener(t, f, "--play", ulaw)
		f.c = startProc(t, "caller", "call", uri, "--audio", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
		f.awaitName(f.c, "SIPSessionDidStart")
		err := f.waitExit(f.l)
		if code := exitCode(err); code != 1 {
			f.fatalf("listen exit %d (%v), want 1", code, err)
		}
		if errs := f.l.errb.String(); !strings.Contains(errs, "--play:") || !strings.Contains(errs, "unsupported format") {
			f.fatalf("listener's stderr does not say why")
		}
		f.awaitName(f.c, "SIPSessionDidEnd")
		if err := f.waitExit(f.c); err != nil {
			f.fatalf("caller exit: %v (the callee ended a started call)", err)
		}
	})
}

// TestMediaFlagsApplies: a session started without a media option costs
// the listener nothing (no goroutine, timer or plugin call), and each
// option, alone, still has sessionStarted apply it.
func TestMediaFlagsApplies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		m        mediaFlags
		record   string
		messages bool
		want     bool
	}{
		{name: "none", want: false},
		{name: "none, messages asked", messages: true, want: false},
		{name: "play", m: mediaFlags{play: "a.wav"}, want: true},
		{name: "record", record: "rec-2.wav", want: true},
		{name: "dtmf", m: mediaFlags{dtmf: "12"}, want: true},
		{name: "messages", m: mediaFlags{messages: stringList{"hi"}}, messages: true, want: true},
		{name: "messages not asked", m: mediaFlags{messages: stringList{"hi"}}, want: false},
		{name: "messages queued already", m: mediaFlags{messages: stringList{"hi"}, queued: true}, messages: true, want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.applies(tc.record, tc.messages); got != tc.want {
				t.Errorf("applies(%q, %v) = %v, want %v", tc.record, tc.messages, got, tc.want)
			}
			// Without anything to apply, sessionStarted returns before it
			// looks at the session (nil here).
			if !tc.want {
				if ids, err := tc.m.sessionStarted(context.Background(), nil, tc.record, tc.messages, nil, io.Discard); ids != nil || err != nil {
					t.Errorf("sessionStarted = %v, %v", ids, err)
				}
			}
		})
	}
}
