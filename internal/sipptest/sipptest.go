package sipptest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// DefaultTimeout is Options.Timeout when it is zero.
	DefaultTimeout = 30 * time.Second
	// KillGrace is how long past Options.Timeout sipp may run before
	// the Go side kills it.
	KillGrace = 10 * time.Second

	readyTimeout = 10 * time.Second     // for sipp to bind its sockets
	pollEvery    = 5 * time.Millisecond // readiness polling period
	bindAttempts = 3                    // tries when a chosen port was taken
	tailBytes    = 4000                 // log tail printed for a failed test

	exitBindFailed = 254  // sipp's exit code when it cannot bind a socket
	maxSockets     = 1000 // -max_socket for the socket-per-call transports
)

// EchoPortVar is the scenario keyword ([echo_port]) that Start sets to
// sipp's media port unless Options.Vars sets it: sipp 3.6.1 refuses
// [media_port] on an SDP line that has neither "audio" nor "video", so
// the echo stream's "m=application [echo_port] UDP x-sipstreams-echo"
// cannot use it.
const EchoPortVar = "echo_port"

// Options tell Start and Run what to play and how.
type Options struct {
	// Scenario is a built-in scenario ("uac", "uas", "regexp",
	// "branchc", "branchs"), a file name of this package's scenarios
	// directory ("uac_echo.xml"), a path relative to the working
	// directory ("testdata/x.xml"), or an absolute path.
	Scenario string
	// Remote is the "host:port" target of a UAC scenario ("[::1]:5060"
	// for IPv6); empty for a UAS.
	Remote string
	// LocalIP is the address sipp binds and advertises (-i, with
	// -bind_local); "127.0.0.1" when empty, "::1" works.
	LocalIP string
	// LocalPort is sipp's SIP port (-p); 0 picks a free one.
	LocalPort int
	// Transport is sipp's -t: "u1" (UDP, the default), "t1" (TCP, one
	// socket), "tn" (TCP, a socket per call), "l1" (TLS: not in
	// Debian's build, sipp refuses it). Over TCP Start adds
	// -reconnect_close false (else sipp fails the calls of a connection
	// the peer closes once done, even calls that merely wait out their
	// end); for a socket per call it adds -max_socket 1000 (else sipp
	// does not start under an open-files limit below 50000). Extra
	// overrides both.
	Transport string
	// Calls is how many calls sipp places or takes before it exits
	// (-m); 1 when zero.
	Calls int
	// Rate is the call rate in calls per second (-r, with -rp 1000);
	// 10 when zero.
	Rate float64
	// Limit caps simultaneous calls (-l); 0 keeps sipp's default.
	Limit int
	// Vars give the scenario's custom [name] keywords (-key name value).
	Vars map[string]string
	// Timeout bounds the whole run (-timeout, with -timeout_error so
	// reaching it is an error); DefaultTimeout when zero. The Go side
	// kills sipp KillGrace after it.
	Timeout time.Duration
	// Extra arguments are appended to sipp's command line.
	Extra []string
}

// Result is what a finished sipp run reports.
type Result struct {
	// ExitCode is sipp's: 0 all calls succeeded (also after Stop), 1 at
	// least one failed or the scenario did not load, 97 exit on an
	// internal command, 99 no call processed, 255 fatal error or
	// -timeout reached, 254 a socket could not be bound; -1 if killed.
	ExitCode int
	// Successful and Failed are the cumulative call counts of sipp's
	// last statistics line (SuccessfulCall(C) and FailedCall(C)).
	Successful, Failed int
	// Stats is sipp's last statistics line, column name to value.
	Stats map[string]string
	// Messages is the trace of every SIP message sipp sent and
	// received (-trace_msg).
	Messages string
	// Errors is sipp's error log (-trace_err): unexpected messages,
	// failed checks, warnings.
	Errors string
	// Screen is sipp's standard output and error.
	Screen string
	// Dir is the directory holding the run's logs.
	Dir string
}

// Process is a sipp run started by Start.
type Process struct {
	t         testing.TB
	name      string
	args      []string
	dir       string
	port      int
	mediaPort int
	cmd       *exec.Cmd
	done      chan struct{} // closed once cmd.Wait returned
	timer     *time.Timer   // the Go-side kill deadline
	overdue   atomic.Bool   // the deadline killed sipp
	waitErr   error         // cmd.Wait's, readable once done is closed
	collect   sync.Once
	result    Result
}

// Binary returns the path of sipp, or fails the test with how to install
// it: tests never skip for a missing peer.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipptest: %v: install the Debian package sip-tester (as root: bash .ci/deps, or apt-get install sip-tester)", err)
	}
	return path
}

// FreePort returns a port that was free on ip for network "udp" or
// "tcp" a moment ago: it listens on port 0 and closes.
func FreePort(t testing.TB, network, ip string) int {
	t.Helper()
	addr := net.JoinHostPort(ip, "0")
	switch network {
	case "udp":
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatalf("sipptest: FreePort: %v", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	case "tcp":
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Fatalf("sipptest: FreePort: %v", err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	default:
		t.Fatalf("sipptest: FreePort: network %q, want udp or tcp", network)
	}
	return 0
}

// Run plays a scenario to its end (Start, then Wait).
func Run(t testing.TB, ctx context.Context, o Options) Result {
	t.Helper()
	return Start(t, ctx, o).Wait()
}

// Start starts sipp in the background and returns once sipp has bound
// its sockets (a UAS is then ready for calls at Port) or has exited.
// Cancelling ctx kills sipp; so does the end of the test. Call Start from
// the test's goroutine: it fails the test with t.Fatalf when it cannot
// start sipp. When the test fails, the tails of sipp's logs are logged.
func Start(t testing.TB, ctx context.Context, o Options) *Process {
	t.Helper()
	bin := Binary(t)
	o = withDefaults(o)
	scenario := scenarioArgs(t, o.Scenario)
	for attempt := 1; ; attempt++ {
		p := start(t, ctx, bin, scenario, o)
		if !p.bindFailed() || attempt == bindAttempts {
			return p
		}
		t.Logf("sipptest: a port was taken before sipp bound it; trying other ports")
	}
}

// Port returns the local port sipp listens on, for pointing the host at
// a UAS scenario.
func (p *Process) Port() int { return p.port }

// MediaPort returns sipp's media port (-mp): it binds it and the port
// two above it, and scenarios advertise it as [echo_port] or, on audio
// and video lines, [media_port].
func (p *Process) MediaPort() int { return p.mediaPort }

// Dir returns the directory that holds the run's logs.
func (p *Process) Dir() string { return p.dir }

// Stop asks sipp to take or place no new calls and to exit once the calls
// in progress end (SIGUSR1). Wait then returns its result.
func (p *Process) Stop() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(softExit())
	}
}

// Wait waits for sipp to exit and returns its result. sipp ends by its
// own -timeout; past it by KillGrace the Go side kills it and fails the
// test. Wait may be called more than once and from any goroutine.
func (p *Process) Wait() Result {
	p.t.Helper()
	<-p.done
	p.collect.Do(p.collectResult)
	return p.result
}

func withDefaults(o Options) Options {
	if o.LocalIP == "" {
		o.LocalIP = "127.0.0.1"
	}
	if o.Transport == "" {
		o.Transport = "u1"
	}
	if o.Calls == 0 {
		o.Calls = 1
	}
	if o.Rate == 0 {
		o.Rate = 10
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// isBuiltin reports whether name is a scenario embedded in sipp 3.6.
func isBuiltin(name string) bool {
	switch name {
	case "uac", "uas", "regexp", "branchc", "branchs",
		"3pcc-C-A", "3pcc-C-B", "3pcc-A", "3pcc-B":
		return true
	}
	return false
}

// scenarioArgs returns the sipp arguments that load the scenario name.
func scenarioArgs(t testing.TB, name string) []string {
	t.Helper()
	if name == "" {
		t.Fatalf("sipptest: Options.Scenario is empty")
	}
	if isBuiltin(name) {
		return []string{"-sn", name}
	}
	path := name
	switch {
	case filepath.IsAbs(name):
	case strings.ContainsRune(name, filepath.Separator) || strings.ContainsRune(name, '/'):
		abs, err := filepath.Abs(name)
		if err != nil {
			t.Fatalf("sipptest: scenario %s: %v", name, err)
		}
		path = abs
	default:
		path = filepath.Join(ScenarioDir(t), name)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("sipptest: scenario %s: %v", name, err)
	}
	return []string{"-sf", path}
}

// ScenarioDir returns the absolute path of this package's scenarios
// directory, found from this source file's location.
func ScenarioDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		t.Fatalf("sipptest: cannot locate the scenarios directory from %q (built with -trimpath?)", file)
	}
	return filepath.Join(filepath.Dir(file), "scenarios")
}

// localNetwork is the network of sipp's SIP socket for transport tr.
func localNetwork(tr string) string {
	if strings.HasPrefix(tr, "t") || strings.HasPrefix(tr, "l") {
		return "tcp"
	}
	return "udp"
}

// start makes one attempt at starting sipp and waits until it is ready
// or has exited.
func start(t testing.TB, ctx context.Context, bin string, scenario []string, o Options) *Process {
	t.Helper()
	dir := t.TempDir()
	port := o.LocalPort
	if port == 0 {
		port = FreePort(t, localNetwork(o.Transport), o.LocalIP)
	}
	mediaPort := freeMediaPort(t, o.LocalIP)
	secs := int(math.Ceil(o.Timeout.Seconds()))
	if secs < 1 {
		secs = 1
	}
	args := slices.Clone(scenario)
	if o.Remote != "" {
		args = append(args, o.Remote)
	}
	args = append(args,
		"-t", o.Transport,
		"-i", o.LocalIP,
		"-p", strconv.Itoa(port),
		"-bind_local",
		"-mp", strconv.Itoa(mediaPort),
		"-ci", "127.0.0.1",
		"-cp", strconv.Itoa(FreePort(t, "udp", "127.0.0.1")),
		"-m", strconv.Itoa(o.Calls),
		"-r", strconv.FormatFloat(o.Rate, 'f', -1, 64),
		"-rp", "1000",
		"-timeout", strconv.Itoa(secs)+"s",
		"-timeout_error",
		// sipp's sockets with room for bursts, as the host's: under a
		// busy machine the kernel's default buffers drop datagrams,
		// and a scenario request sent without retransmission is lost.
		"-buff_size", strconv.Itoa(4<<20),
		"-nostdin",
		"-trace_stat", "-fd", "1", "-stf", filepath.Join(dir, "stat.csv"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log"),
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_logs", "-log_file", filepath.Join(dir, "log.log"),
	)
	if strings.HasSuffix(o.Transport, "n") && !slices.Contains(o.Extra, "-max_socket") {
		// A socket per call: sipp refuses to start while its socket cap
		// (50000) is not below the open-files limit.
		args = append(args, "-max_socket", strconv.Itoa(maxSockets))
	}
	if localNetwork(o.Transport) == "tcp" && !slices.Contains(o.Extra, "-reconnect_close") {
		// Calls must not fail just because the peer closed its
		// connection once done (sipp fails the calls of a closed socket,
		// even one in its final timewait, unless told not to).
		args = append(args, "-reconnect_close", "false")
	}
	if o.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(o.Limit))
	}
	vars := maps.Clone(o.Vars)
	if _, ok := vars[EchoPortVar]; !ok {
		if vars == nil {
			vars = make(map[string]string)
		}
		vars[EchoPortVar] = strconv.Itoa(mediaPort)
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		args = append(args, "-key", k, vars[k])
	}
	args = append(args, o.Extra...)

	screen, err := os.Create(filepath.Join(dir, "screen.log"))
	if err != nil {
		t.Fatalf("sipptest: %v", err)
	}
	defer screen.Close() // the child keeps its own descriptor
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout = screen
	cmd.Stderr = screen
	p := &Process{
		t:         t,
		name:      o.Scenario,
		args:      args,
		dir:       dir,
		port:      port,
		mediaPort: mediaPort,
		cmd:       cmd,
		done:      make(chan struct{}),
	}
	t.Logf("sipptest: %s %s", bin, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		t.Fatalf("sipptest: starting sipp: %v", err)
	}
	p.timer = time.AfterFunc(time.Duration(secs)*time.Second+KillGrace, func() {
		p.overdue.Store(true)
		_ = cmd.Process.Kill()
	})
	go func() {
		p.waitErr = cmd.Wait()
		p.timer.Stop()
		close(p.done)
	}()
	t.Cleanup(p.cleanup)
	p.awaitReady()
	return p
}

// awaitReady polls until sipp has written its first statistics line,
// which it does after binding its sockets, or has exited.
func (p *Process) awaitReady() {
	p.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(filepath.Join(p.dir, "stat.csv")); err == nil && strings.Count(string(data), "\n") >= 2 {
			if !p.logsSay("Unable to bind") {
				return
			}
			<-p.done // a bind failure ends sipp at once
			return
		}
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			p.t.Logf("sipptest: sipp %s not ready after %v; going on", p.name, readyTimeout)
			return
		}
	}
}

// bindFailed reports whether sipp exited because one of its ports was
// taken.
func (p *Process) bindFailed() bool {
	select {
	case <-p.done:
	default:
		return false
	}
	return p.cmd.ProcessState != nil && p.cmd.ProcessState.ExitCode() == exitBindFailed
}

// freeMediaPort returns a UDP port P on ip such that P and P+2 were free a
// moment ago: sipp's media echo binds both.
func freeMediaPort(t testing.TB, ip string) int {
	t.Helper()
	for range 20 {
		p := FreePort(t, "udp", ip)
		if p+2 > 65535 {
			continue
		}
		c, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(p+2)))
		if err != nil {
			continue
		}
		c.Close()
		return p
	}
	t.Fatalf("sipptest: found no free UDP port pair P, P+2 on %s", ip)
	return 0
}

// logsSay reports whether sipp's screen or error log contains s.
func (p *Process) logsSay(s string) bool {
	return strings.Contains(readFile(p.dir, "screen.log"), s) || strings.Contains(readFile(p.dir, "err.log"), s)
}

func (p *Process) collectResult() {
	r := Result{
		ExitCode: -1,
		Stats:    parseStats(readFile(p.dir, "stat.csv")),
		Messages: readFile(p.dir, "msg.log"),
		Errors:   readFile(p.dir, "err.log"),
		Screen:   readFile(p.dir, "screen.log"),
		Dir:      p.dir,
	}
	if st := p.cmd.ProcessState; st != nil {
		r.ExitCode = st.ExitCode()
	}
	r.Successful, _ = strconv.Atoi(r.Stats["SuccessfulCall(C)"])
	r.Failed, _ = strconv.Atoi(r.Stats["FailedCall(C)"])
	p.result = r
	var exitErr *exec.ExitError
	switch {
	case p.overdue.Load():
		p.t.Errorf("sipptest: sipp %s ran past its -timeout by %v and was killed", p.name, KillGrace)
	case p.waitErr != nil && !errors.As(p.waitErr, &exitErr):
		p.t.Errorf("sipptest: sipp %s: %v", p.name, p.waitErr)
	case r.Stats == nil && r.ExitCode >= 0:
		p.t.Errorf("sipptest: sipp %s did not run the scenario (exit %d):\n%s\n%s",
			p.name, r.ExitCode, tail(r.Screen, tailBytes), tail(r.Errors, tailBytes))
	}
}

// cleanup kills sipp if it still runs and, when the test failed, logs
// the tails of its logs.
func (p *Process) cleanup() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.timer.Stop()
	if !p.t.Failed() {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sipptest: sipp %s (port %d, logs in %s):\n  sipp %s\n", p.name, p.port, p.dir, strings.Join(p.args, " "))
	if st := p.cmd.ProcessState; st != nil {
		fmt.Fprintf(&b, "exit: %s\n", st)
	}
	for _, f := range []string{"screen.log", "err.log", "msg.log"} {
		if s := readFile(p.dir, f); s != "" {
			fmt.Fprintf(&b, "--- tail of %s ---\n%s\n", f, tail(s, tailBytes))
		}
	}
	p.t.Log(b.String())
}

// parseStats returns the last line of sipp's -trace_stat CSV file by
// column name, or nil if there is none.
func parseStats(csv string) map[string]string {
	var lines []string
	for _, l := range strings.Split(csv, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		return nil
	}
	cols := strings.Split(lines[0], ";")
	vals := strings.Split(lines[len(lines)-1], ";")
	m := make(map[string]string, len(cols))
	for i, c := range cols {
		if c != "" && i < len(vals) {
			m[c] = vals[i]
		}
	}
	return m
}

func readFile(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return string(b)
}

// tail returns about the last n bytes of s, from a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "[...]\n" + s
}
