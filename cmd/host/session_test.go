package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// jsonLine is one line of --json output.
type jsonLine struct {
	Name   string `json:"name"`
	Sender string `json:"sender"`
	Port   int    `json:"port"`
	IP     string `json:"ip"`
	// Transport is the listening line's.
	Transport string         `json:"transport"`
	Data      map[string]any `json:"data"`
	// Statistics and Attributes are the /stats line's.
	Statistics map[string]any `json:"statistics"`
	// URL is the debug line's (listen --debug-addr).
	URL string `json:"url"`
	// Sessions is the /sessions line's.
	Sessions   []map[string]any `json:"sessions"`
	Attributes map[string]any   `json:"attributes"`
	// Codecs and Changed are the /refresh-codecs line's.
	Codecs  []string `json:"codecs"`
	Changed bool     `json:"changed"`
	// The file transfer lines' (file_progress, file_received, …).
	File             string `json:"file"`
	Path             string `json:"path"`
	Hash             string `json:"hash"`
	Verified         bool   `json:"verified"`
	Error            bool   `json:"error"`
	Reason           string `json:"reason"`
	TransferredBytes int64  `json:"transferred_bytes"`
	ResumedFrom      int64  `json:"resumed_from"`
	// Content is the chat lines' (message_sent, message_queued).
	Content string `json:"content"`
}

// buildHost builds the sipstreams binary into a temporary directory next
// to plugins/ with the echo plugin, as `make` lays them out.
func buildHost(t *testing.T) (bin, plugins string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "sipstreams")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/sipstreams/sipstreams/cmd/host").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	plugins = filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(echoBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, "sipstreams-plugin-echo"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, plugins
}

// readJSONLines sends the JSON lines of r on a channel closed at EOF;
// other lines fail the test.
func readJSONLines(t *testing.T, who string, r io.Reader) <-chan jsonLine {
	out := make(chan jsonLine, 1024)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l jsonLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("%s: not a JSON line: %q", who, sc.Text())
				continue
			}
			out <- l
		}
	}()
	return out
}

// next returns the next line, failing after the deadline.
func next(t *testing.T, who string, lines <-chan jsonLine, deadline <-chan time.Time) (jsonLine, bool) {
	t.Helper()
	select {
	case l, ok := <-lines:
		return l, ok
	case <-deadline:
		t.Fatalf("%s: timed out waiting for output", who)
	}
	return jsonLine{}, false
}

// sessionNames are the names of the SIPSession* notifications of sessions
// (not the session manager's).
func sessionNames(lines []jsonLine) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l.Name, "SIPSession") && !strings.HasPrefix(l.Name, "SIPSessionManager") {
			out = append(out, l.Name)
		}
	}
	return out
}

func find(lines []jsonLine, name string) (jsonLine, bool) {
	for _, l := range lines {
		if l.Name == name {
			return l, true
		}
	}
	return jsonLine{}, false
}

// pluginProcesses lists the processes running a binary of dir (Linux).
func pluginProcesses(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var found []string
	for _, e := range ents {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.HasPrefix(string(cmd), dir) {
			found = append(found, e.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return found
}

// TestListenAndCall runs `sipstreams listen --auto-answer` and `sipstreams
// call` as two separate processes on loopback, with the echo plugin.
func TestListenAndCall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process test on Linux only")
	}
	bin, plugins := buildHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	deadline := time.After(80 * time.Second)

	listen := exec.CommandContext(ctx, bin, "listen", "--auto-answer", "--json", "--listen", "udp:127.0.0.1:0", "--user", "bob")
	listen.Stdin = nil // /dev/null: EOF at once, which must not stop it
	lout, err := listen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var lerr strings.Builder
	listen.Stderr = &lerr
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listen.Process.Kill() }()
	llines := readJSONLines(t, "listener", lout)
	first, ok := next(t, "listener", llines, deadline)
	if !ok || first.Name != "listening" || first.IP != "127.0.0.1" || first.Port == 0 {
		t.Fatalf("listener's first line = %+v (stderr %s)", first, lerr.String())
	}

	call := exec.CommandContext(ctx, bin, "call", fmt.Sprintf("sip:bob@127.0.0.1:%d", first.Port), "--stream", "echo", "--hangup-after", "1s", "--json", "--user", "alice")
	var cerr strings.Builder
	call.Stderr = &cerr
	cout, err := call.Output()
	if err != nil {
		t.Fatalf("call: %v\nstderr: %s\nstdout: %s", err, cerr.String(), cout)
	}
	var caller []jsonLine
	for l := range readJSONLines(t, "caller", strings.NewReader(string(cout))) {
		caller = append(caller, l)
	}
	want := []string{"SIPSessionNewOutgoing", "SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart",
		"SIPSessionWillEnd", "SIPSessionDidProcessTransaction", "SIPSessionDidEnd"}
	if got := sessionNames(caller); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("caller's session notifications:\n got  %v\n want %v", got, want)
	}
	if end, _ := find(caller, "SIPSessionDidEnd"); end.Data["originator"] != "local" {
		t.Errorf("caller's DidEnd = %+v", end)
	}
	if _, ok := find(caller, "MediaStreamDidStart"); !ok {
		t.Error("caller's echo stream never started")
	}

	// The listener saw the whole session, ended by the caller.
	var listener []jsonLine
	for {
		l, ok := next(t, "listener", llines, deadline)
		if !ok {
			t.Fatalf("listener exited early: %s", lerr.String())
		}
		listener = append(listener, l)
		if l.Name == "SIPSessionDidEnd" {
			break
		}
	}
	want = []string{"SIPSessionNewIncoming", "SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart",
		"SIPSessionWillEnd", "SIPSessionDidProcessTransaction", "SIPSessionDidEnd"}
	if got := sessionNames(listener); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listener's session notifications:\n got  %v\n want %v", got, want)
	}
	if end, _ := find(listener, "SIPSessionDidEnd"); end.Data["originator"] != "remote" {
		t.Errorf("listener's DidEnd = %+v", end)
	}
	if in, _ := find(listener, "SIPSessionNewIncoming"); !strings.Contains(fmt.Sprint(in.Data["from"]), "sip:alice@127.0.0.1") {
		t.Errorf("listener's NewIncoming = %+v", in)
	}

	// SIGTERM stops it cleanly, with its plugin.
	if err := listen.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		l, ok := next(t, "listener", llines, deadline)
		if !ok {
			break
		}
		listener = append(listener, l)
	}
	if err := listen.Wait(); err != nil {
		t.Fatalf("listener exit: %v\n%s", err, lerr.String())
	}
	if _, ok := find(listener, "SIPApplicationDidEnd"); !ok {
		t.Error("listener did not post SIPApplicationDidEnd")
	}
	if left := pluginProcesses(t, plugins); len(left) > 0 {
		t.Errorf("plugin processes left: %v", left)
	}
}

// TestCallNobodyListening calls a closed TCP port: the call fails at
// once with the reason.
func TestCallNobodyListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := pluginDir(t)
	start := time.Now()
	code, _, errs := runCLI(t, "call", fmt.Sprintf("sip:bob@127.0.0.1:%d;transport=tcp", port), "--stream", "echo", "--plugin-dir", dir)
	if code != 1 {
		t.Fatalf("code %d, want 1: %s", code, errs)
	}
	if !strings.Contains(errs, "failed") || !strings.Contains(errs, "connection refused") {
		t.Errorf("stderr does not say why: %q", errs)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestCallUsage(t *testing.T) {
	dir := pluginDir(t)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"call"}, 2, "usage"},
		{[]string{"call", "sip:bob@127.0.0.1:5060"}, 2, "--stream"},
		{[]string{"call", "sip:bob@127.0.0.1:5060", "--stream", "echo", "--route", "carrier-pigeon:1"}, 2, "transport:ip:port"},
		{[]string{"call", "sip:bob@127.0.0.1:5060", "--stream", "nosuch", "--plugin-dir", dir}, 1, "cannot create a nosuch stream"},
		{[]string{"listen", "--listen", "sctp:127.0.0.1:0"}, 2, "transport:ip:port"},
		{[]string{"listen", "--offer"}, 2, "flag needs an argument"},
		// Without starting a plugin.
		{[]string{"audio", "frobnicate", "--plugin-dir", dir}, 2, "unknown subcommand \"frobnicate\""},
		// message has flags of its own, shared with call where they mean
		// the same.
		{[]string{"message", "sip:bob@127.0.0.1:5060"}, 2, "usage: sipstreams message"},
		{[]string{"message", "sip:bob@127.0.0.1:5060", "hi", "--stream", "echo"}, 2, "flag provided but not defined: -stream"},
		{[]string{"message", "sip:bob@127.0.0.1:5060", "hi", "--hangup-after", "1s"}, 2, "flag provided but not defined: -hangup-after"},
		{[]string{"message", "sip:bob@127.0.0.1:5060", "hi", "--route", "carrier-pigeon:1"}, 2, "transport:ip:port"},
		{[]string{"message", "sip:bob@127.0.0.1:5060", "--json", "hi", "--plugin-dir", dir}, 1, "cannot create a chat stream"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: code %d, stderr %q", tc.args, code, errs)
		}
	}
}

func TestListenConfigError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("rtp:\n    port_range = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "listen", "--config-dir", dir, "--listen", "udp:127.0.0.1:0", "--plugin-dir", pluginDir(t))
	if code != 1 || !strings.Contains(errs, "port_range") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}

// lineWriter is an io.Writer that parses each JSON line written to it
// onto a channel.
type lineWriter struct {
	t     *testing.T
	who   string
	mu    sync.Mutex
	buf   []byte
	lines chan jsonLine
}

func newLineWriter(t *testing.T, who string) *lineWriter {
	return &lineWriter{t: t, who: who, lines: make(chan jsonLine, 4096)}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		var l jsonLine
		if err := json.Unmarshal(w.buf[:i], &l); err != nil {
			w.t.Errorf("%s: not a JSON line: %q", w.who, w.buf[:i])
		} else {
			w.lines <- l
		}
		w.buf = w.buf[i+1:]
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed at the next write
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.b.Write(p)
}

// waitFor waits until the buffer holds s, or ctx ends (false).
func (b *lockedBuffer) waitFor(ctx context.Context, s string) bool {
	for {
		b.mu.Lock()
		if strings.Contains(b.b.String(), s) {
			b.mu.Unlock()
			return true
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// await reads lines until one satisfies pred, returning the lines read.
func await(t *testing.T, who string, w *lineWriter, deadline <-chan time.Time, pred func(jsonLine) bool) []jsonLine {
	t.Helper()
	var seen []jsonLine
	for {
		select {
		case l := <-w.lines:
			seen = append(seen, l)
			if pred(l) {
				return seen
			}
		case <-deadline:
			t.Fatalf("%s: timed out; saw %v", who, sessionNames(seen))
		}
	}
}

func named(name string) func(jsonLine) bool {
	return func(l jsonLine) bool { return l.Name == name }
}

// TestInteractive drives listen (no auto-answer) and call through their
// stdin commands, in process: ring, /accept, /hold, /unhold, /end, and
// the listener's stop at the end of its stdin.
func TestInteractive(t *testing.T) {
	dir := pluginDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	deadline := time.After(80 * time.Second)

	lin, lstdin := io.Pipe()
	lw, lerr := newLineWriter(t, "listener"), &lockedBuffer{}
	lcode := make(chan int, 1)
	go func() {
		lcode <- run(ctx, []string{"listen", "--json", "--listen", "udp:127.0.0.1:0", "--plugin-dir", dir, "--user", "bob"}, lin, lw, lerr)
	}()
	defer lstdin.Close()
	first := await(t, "listener", lw, deadline, named("listening"))[0]

	cin, cstdin := io.Pipe()
	cw, cerr := newLineWriter(t, "caller"), &lockedBuffer{}
	ccode := make(chan int, 1)
	go func() {
		ccode <- run(ctx, []string{"call", fmt.Sprintf("bob@127.0.0.1:%d", first.Port), "--stream", "echo", "--json", "--plugin-dir", dir, "--user", "alice"}, cin, cw, cerr)
	}()
	defer cstdin.Close()
	write := func(w io.Writer, line string) {
		t.Helper()
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}

	await(t, "listener", lw, deadline, named("SIPSessionNewIncoming"))
	caller := await(t, "caller", cw, deadline, named("SIPSessionGotRingIndication"))
	write(lstdin, "/accept")
	caller = append(caller, await(t, "caller", cw, deadline, named("SIPSessionDidStart"))...)
	write(cstdin, `/invoke send {"payload":"over SIP"}`)
	caller = append(caller, await(t, "caller", cw, deadline, func(l jsonLine) bool {
		return l.Name == "EchoStreamGotEcho" && l.Data["payload"] == "over SIP"
	})...)
	write(cstdin, "/hold")
	onHold := func(want bool) func(jsonLine) bool {
		return func(l jsonLine) bool { return l.Name == "SIPSessionDidChangeHoldState" && l.Data["on_hold"] == want }
	}
	caller = append(caller, await(t, "caller", cw, deadline, onHold(true))...)
	write(cstdin, "/unhold")
	caller = append(caller, await(t, "caller", cw, deadline, onHold(false))...)
	write(cstdin, "/end")
	select {
	case code := <-ccode:
		if code != 0 {
			t.Fatalf("call exited %d: %s", code, cerr.String())
		}
	case <-deadline:
		t.Fatal("call did not exit")
	}
	for len(cw.lines) > 0 {
		caller = append(caller, <-cw.lines)
	}
	want := []string{"SIPSessionNewOutgoing", "SIPSessionGotRingIndication", "SIPSessionGotProvisionalResponse",
		"SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart",
		"SIPSessionDidChangeHoldState", "SIPSessionDidChangeHoldState",
		"SIPSessionWillEnd", "SIPSessionDidProcessTransaction", "SIPSessionDidEnd"}
	if got := sessionNames(caller); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("caller's session notifications:\n got  %v\n want %v", got, want)
	}
	end := await(t, "listener", lw, deadline, named("SIPSessionDidEnd"))
	if d := end[len(end)-1].Data; d["originator"] != "remote" {
		t.Errorf("listener's DidEnd = %v", d)
	}
	// Without --auto-answer the end of stdin stops the listener.
	lstdin.Close()
	select {
	case code := <-lcode:
		if code != 0 {
			t.Fatalf("listen exited %d: %s", code, lerr.String())
		}
	case <-deadline:
		t.Fatal("listen did not exit at the end of stdin")
	}
}
