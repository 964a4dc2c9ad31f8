package baresiptest

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestOutputLines(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"a\nb\n"}, []string{"a", "b"}},
		{"split across writes", []string{"baresip is ", "ready.", "\n"}, []string{"baresip is ready."}},
		{"carriage returns", []string{"[0:00:01] audio=0/0\r[0:00:02] audio=1/1\rreceived event: '1' (end=0)\n"},
			[]string{"[0:00:01] audio=0/0", "[0:00:02] audio=1/1", "received event: '1' (end=0)"}},
		{"empty lines dropped", []string{"\r\n\na\r\n"}, []string{"a"}},
		{"colour escapes removed", []string{"\x1b[31mausine: supports only 48kHz samplerate\x1b[;m\x1b[31maudio: x\n"},
			[]string{"ausine: supports only 48kHz samplerateaudio: x"}},
		{"last line without newline", []string{"a\nQuit"}, []string{"a", "Quit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var file bytes.Buffer
			o := newOutput(&file)
			for _, w := range tc.writes {
				if n, err := o.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			o.close()
			if got := strings.Split(strings.TrimSuffix(o.text(), "\n"), "\n"); !slices.Equal(got, tc.want) {
				t.Errorf("lines %q, want %q", got, tc.want)
			}
			if file.String() != strings.Join(tc.writes, "") {
				t.Errorf("log file %q, want the bytes as written", file.String())
			}
		})
	}
}

func TestOutputWait(t *testing.T) {
	o := newOutput(&bytes.Buffer{})
	re := regexp.MustCompile(`^received event: '(.)' \(end=1\)$`)
	type result struct {
		lines []string
		err   error
	}
	done := make(chan result)
	go func() {
		lines, err := o.wait(context.Background(), re, 2)
		done <- result{lines, err}
	}()
	o.Write([]byte("received event: '1' (end=0)\nreceived event: '1' (end=1)\n"))
	o.Write([]byte("received event: '2' (end=0)\rreceived event: '2' (end=1)\r"))
	r := <-done
	if r.err != nil || !slices.Equal(r.lines, []string{"received event: '1' (end=1)", "received event: '2' (end=1)"}) {
		t.Errorf("wait = %q, %v", r.lines, r.err)
	}

	// Lines already there count: a second wait returns at once.
	if lines, err := o.wait(context.Background(), re, 1); err != nil || len(lines) != 1 {
		t.Errorf("wait on past lines = %q, %v", lines, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		lines, err := o.wait(ctx, re, 3)
		done <- result{lines, err}
	}()
	cancel()
	if r := <-done; !errors.Is(r.err, context.Canceled) || len(r.lines) != 2 {
		t.Errorf("wait after cancel = %q, %v, want 2 lines and context.Canceled", r.lines, r.err)
	}

	go func() {
		lines, err := o.wait(context.Background(), regexp.MustCompile(`never`), 1)
		done <- result{lines, err}
	}()
	o.Write([]byte("Quit"))
	o.close()
	if r := <-done; !errors.Is(r.err, ErrExited) {
		t.Errorf("wait after close = %q, %v, want ErrExited", r.lines, r.err)
	}
}
