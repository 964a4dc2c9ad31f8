package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// flowWait bounds every wait for a process's output in the flow tests.
const flowWait = 20 * time.Second

var (
	flowBuildOnce sync.Once
	flowBin       string
	flowPlugins   string
	flowBuildErr  error
	flowDir       string // removed by TestMain
)

// flowBinary builds sipstreams next to plugins/ with the echo plugin once
// for all the flow tests.
func flowBinary(t *testing.T) (bin, plugins string) {
	t.Helper()
	flowBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sipstreams-flows-")
		if err != nil {
			flowBuildErr = err
			return
		}
		flowDir = dir
		bin := filepath.Join(dir, "sipstreams")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/sipstreams/sipstreams/cmd/host").CombinedOutput(); err != nil {
			flowBuildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		plugins := filepath.Join(dir, "plugins")
		if err := os.Mkdir(plugins, 0o755); err != nil {
			flowBuildErr = err
			return
		}
		b, err := os.ReadFile(echoBin)
		if err == nil {
			err = os.WriteFile(filepath.Join(plugins, "sipstreams-plugin-echo"), b, 0o755)
		}
		if err != nil {
			flowBuildErr = err
			return
		}
		flowBin, flowPlugins = bin, plugins
	})
	if flowBuildErr != nil {
		t.Fatal(flowBuildErr)
	}
	return flowBin, flowPlugins
}

// proc is one sipstreams process driven through its stdin and read
// through its --json stdout.
type proc struct {
	who   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan jsonLine // stdout's JSON lines, closed at EOF
	out   lockedBuffer  // stdout as printed
	errb  lockedBuffer  // stderr
	seen  []jsonLine    // the lines the test has read
	exit  chan struct{} // closed when the process exited
	err   error         // the result of Wait, once exit is closed
}

func startProc(t *testing.T, who string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, who, nil, args...)
}

// startProcEnv is startProc with env as the process's environment (nil:
// the test's).
func startProcEnv(t *testing.T, who string, env []string, args ...string) *proc {
	t.Helper()
	bin, _ := flowBinary(t)
	p := &proc{who: who, cmd: exec.Command(bin, args...), lines: make(chan jsonLine, 4096), exit: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = &p.errb
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			_, _ = p.out.Write(append(sc.Bytes(), '\n'))
			var l jsonLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				p.lines <- l
			}
		}
	}()
	go func() {
		<-read
		p.err = p.cmd.Wait()
		close(p.exit)
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-p.exit:
		case <-time.After(flowWait):
			_ = p.cmd.Process.Kill()
			<-p.exit
		}
	})
	return p
}

// flow is one listener and one caller, and more processes of the test.
type flow struct {
	t      *testing.T
	tc     transportCase
	l, c   *proc
	more   []*proc // dumped with l and c
	failed bool
}

// dump is every process's full output.
func (f *flow) dump() string {
	var b strings.Builder
	for _, p := range append([]*proc{f.l, f.c}, f.more...) {
		if p == nil {
			continue
		}
		fmt.Fprintf(&b, "\n===== %s stdout =====\n%s===== %s stderr =====\n%s", p.who, p.out.String(), p.who, p.errb.String())
	}
	return b.String()
}

func (f *flow) fatalf(format string, args ...any) {
	f.t.Helper()
	f.t.Fatalf(format+"%s", append(args, f.dump())...)
}

// await reads p's lines until one satisfies pred, within flowWait.
func (f *flow) await(p *proc, what string, pred func(jsonLine) bool) jsonLine {
	f.t.Helper()
	timeout := time.After(flowWait)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				f.fatalf("%s exited while waiting for %s", p.who, what)
			}
			p.seen = append(p.seen, l)
			if pred(l) {
				return l
			}
		case <-timeout:
			f.fatalf("%s: no %s within %v", p.who, what, flowWait)
		}
	}
}

func (f *flow) awaitName(p *proc, name string) jsonLine {
	f.t.Helper()
	return f.await(p, name, named(name))
}

func (f *flow) awaitHold(p *proc, onHold bool) jsonLine {
	f.t.Helper()
	return f.await(p, fmt.Sprintf("hold state %v", onHold), func(l jsonLine) bool {
		return l.Name == "SIPSessionDidChangeHoldState" && l.Data["on_hold"] == onHold
	})
}

func (f *flow) send(p *proc, line string) {
	f.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		f.fatalf("%s: writing %q: %v", p.who, line, err)
	}
}

// waitExit waits for p to exit, returning its error.
func (f *flow) waitExit(p *proc) error {
	f.t.Helper()
	timeout := time.After(flowWait)
	for {
		select {
		case l, ok := <-p.lines:
			if ok {
				p.seen = append(p.seen, l)
				continue
			}
			p.lines = nil
		case <-p.exit:
			if p.lines != nil {
				for l := range p.lines {
					p.seen = append(p.seen, l)
				}
			}
			return p.err
		case <-timeout:
			f.fatalf("%s did not exit within %v", p.who, flowWait)
		}
	}
}

// check compares p's session notifications with want, exactly.
func (f *flow) check(p *proc, want []string) {
	f.t.Helper()
	if got := sessionNames(p.seen); fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Errorf("%s's session notifications:\n got  %v\n want %v", p.who, got, want)
		f.failed = true
	}
}

// data checks the fields of the i-th (from 0; -1: the last) notification
// named name that p printed.
func (f *flow) data(p *proc, name string, i int, want map[string]any) {
	f.t.Helper()
	var all []jsonLine
	for _, l := range p.seen {
		if l.Name == name {
			all = append(all, l)
		}
	}
	if i < 0 {
		i += len(all)
	}
	if i < 0 || i >= len(all) {
		f.t.Errorf("%s printed %d %s, want #%d", p.who, len(all), name, i)
		f.failed = true
		return
	}
	for k, v := range want {
		if got := fmt.Sprint(all[i].Data[k]); got != fmt.Sprint(v) {
			f.t.Errorf("%s's %s #%d: %s = %s, want %v (data %v)", p.who, name, i, k, got, v, all[i].Data)
			f.failed = true
		}
	}
}

// transportCase is where the listener listens and how the caller reaches it.
type transportCase struct {
	name   string
	listen string
	uri    func(port int) string
	extra  func(t *testing.T) []string // more flags for both processes
	caller []string                    // more caller flags
}

var (
	udp4 = transportCase{name: "udp", listen: "udp:127.0.0.1:0", uri: func(p int) string { return fmt.Sprintf("sip:bob@127.0.0.1:%d", p) }}
	tcp4 = transportCase{name: "tcp", listen: "tcp:127.0.0.1:0", uri: func(p int) string { return fmt.Sprintf("sip:bob@127.0.0.1:%d;transport=tcp", p) }}
	udp6 = transportCase{name: "udp6", listen: "udp:[::1]:0", uri: func(p int) string { return fmt.Sprintf("sip:bob@[::1]:%d", p) }}
	tls4 = transportCase{name: "tls", listen: "tls:127.0.0.1:0", uri: func(p int) string { return fmt.Sprintf("sip:bob@127.0.0.1:%d;transport=tls", p) },
		// The engine routes over TLS only when it has a TLS listener:
		// the caller needs one too (and so a certificate).
		extra: tlsConfigDir, caller: []string{"--listen", "tls:127.0.0.1:0"}}
	tcp6 = transportCase{name: "tcp6", listen: "tcp:[::1]:0", uri: func(p int) string { return fmt.Sprintf("sip:bob@[::1]:%d;transport=tcp", p) }}
	tls6 = transportCase{name: "tls6", listen: "tls:[::1]:0", uri: func(p int) string { return fmt.Sprintf("sip:bob@[::1]:%d;transport=tls", p) },
		extra: tlsConfigDir, caller: []string{"--listen", "tls:[::1]:0"}}

	// everyTransport is what done-when 2 of the sessions issue asks: every
	// flow over UDP, TCP and TLS, on IPv4 and IPv6 loopback.
	everyTransport = []transportCase{udp4, tcp4, tls4, udp6, tcp6, tls6}
)

// tlsConfigDir writes a self-signed certificate for 127.0.0.1 and ::1 and a
// configuration naming it as the host's own (tls.certificate,
// tls.private_key) and as the one authority it trusts (tls.ca_list): the
// listener and the caller of a flow share it, and each verifies the
// other's certificate as a host does by default.
func tlsConfigDir(t *testing.T) []string {
	t.Helper()
	return tlsConfig(t, true)
}

// tlsConfig is tlsConfigDir; trust false leaves tls.ca_list out, and
// tlsLines are more lines of the tls group ("verify_server = no").
func tlsConfig(t *testing.T, trust bool, tlsLines ...string) []string {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("tls:\n    certificate = %s\n    private_key = %s\n", cert, keyFile)
	if trust {
		conf += fmt.Sprintf("    ca_list = %s\n", cert)
	}
	for _, l := range tlsLines {
		conf += "    " + l + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config-dir", dir}
}

// startFlow starts the listener (without --auto-answer) on tc and the
// caller to it with an echo stream; it returns when the listener rings.
func startFlow(t *testing.T, tc transportCase) *flow {
	t.Helper()
	_, plugins := flowBinary(t)
	f := &flow{t: t, tc: tc}
	largs := []string{"listen", "--json", "--trace-sip", "--listen", tc.listen, "--user", "bob", "--plugin-dir", plugins}
	var extra []string // one configuration for both: the TLS flows share a certificate
	if tc.extra != nil {
		extra = tc.extra(t)
		largs = append(largs, extra...)
	}
	f.l = startProc(t, "listener", largs...)
	first := f.awaitName(f.l, "listening")
	if first.Port == 0 {
		f.fatalf("listener's first line: %+v", first)
	}
	cargs := []string{"call", tc.uri(first.Port), "--stream", "echo", "--json", "--trace-sip", "--user", "alice", "--plugin-dir", plugins}
	cargs = append(cargs, extra...)
	f.c = startProc(t, "caller", append(cargs, tc.caller...)...)
	f.awaitName(f.l, "SIPSessionNewIncoming")
	f.awaitName(f.c, "SIPSessionGotRingIndication")
	return f
}

// answer accepts on the listener and waits for both sides to start.
func (f *flow) answer() {
	f.t.Helper()
	f.send(f.l, "/accept")
	f.awaitName(f.c, "SIPSessionDidStart")
	f.awaitName(f.l, "SIPSessionDidStart")
}

// endByCaller ends from the caller, which must exit 0.
func (f *flow) endByCaller() {
	f.t.Helper()
	f.send(f.c, "/end")
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("caller exit: %v", err)
	}
	f.awaitName(f.l, "SIPSessionDidEnd")
}

// endByCallee ends from the listener; the caller exits 0.
func (f *flow) endByCallee() {
	f.t.Helper()
	f.send(f.l, "/end")
	f.awaitName(f.l, "SIPSessionDidEnd")
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("caller exit: %v", err)
	}
}

// stop closes the listener's stdin, which stops it with exit status 0.
func (f *flow) stop() {
	f.t.Helper()
	_ = f.l.stdin.Close()
	if err := f.waitExit(f.l); err != nil {
		f.fatalf("listener exit: %v", err)
	}
	f.checkWire()
	if f.failed || os.Getenv("SIPSTREAMS_FLOWS_DUMP") != "" {
		f.t.Log(f.dump())
	}
}

// checkWire proves from both processes' SIP traces that every message of
// the flow travelled on the flow's transport and address family, and that
// the INVITE did.
func (f *flow) checkWire() {
	f.t.Helper()
	want := strings.TrimSuffix(f.tc.name, "6")
	loop := "127.0.0.1"
	if strings.HasSuffix(f.tc.name, "6") {
		loop = "::1"
	}
	for _, p := range []*proc{f.l, f.c} {
		methods := map[string]bool{}
		n := 0
		for _, l := range p.seen {
			if l.Name != "SIPEngineSIPTrace" {
				continue
			}
			n++
			tr, src, dst := fmt.Sprint(l.Data["transport"]), fmt.Sprint(l.Data["source"]), fmt.Sprint(l.Data["destination"])
			srcHost, _, _ := net.SplitHostPort(src)
			dstHost, _, _ := net.SplitHostPort(dst)
			if tr != want || dstHost != loop || (srcHost != loop && !net.ParseIP(srcHost).IsUnspecified()) {
				f.t.Errorf("%s traced a message on %s from %s to %s, want %s over %s", p.who, tr, src, dst, want, loop)
				f.failed = true
			}
			first, _, _ := strings.Cut(fmt.Sprint(l.Data["data"]), "\r\n")
			if m, _, _ := strings.Cut(first, " "); m != "SIP/2.0" {
				methods[m] = true
			}
		}
		if n == 0 || !methods["INVITE"] {
			f.t.Errorf("%s traced %d SIP messages, methods %v: want the INVITE among them", p.who, n, methods)
			f.failed = true
		}
	}
}

// The session notifications of the start and end of an answered session.
var (
	callerStart = []string{"SIPSessionNewOutgoing", "SIPSessionGotRingIndication", "SIPSessionGotProvisionalResponse",
		"SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart"}
	calleeStart = []string{"SIPSessionNewIncoming", "SIPSessionWillStart", "SIPSessionDidProcessTransaction", "SIPSessionDidStart"}
	sessionEnd  = []string{"SIPSessionWillEnd", "SIPSessionDidProcessTransaction", "SIPSessionDidEnd"}
)

func seq(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func rep(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// holdFlow holds and unholds from holder, checking the hold state on both
// sides.
func holdFlow(f *flow, holder, other *proc) {
	f.answer()
	f.send(holder, "/hold")
	f.awaitHold(holder, true)
	f.awaitHold(other, true)
	f.send(holder, "/unhold")
	f.awaitHold(holder, false)
	f.awaitHold(other, false)
	f.endByCaller()
	hold := rep("SIPSessionDidChangeHoldState", 2)
	f.check(f.c, seq(callerStart, hold, sessionEnd))
	f.check(f.l, seq(calleeStart, hold, sessionEnd))
	for _, x := range []struct {
		p    *proc
		orig string
	}{{holder, "local"}, {other, "remote"}} {
		f.data(x.p, "SIPSessionDidChangeHoldState", 0, map[string]any{"originator": x.orig, "on_hold": true})
		f.data(x.p, "SIPSessionDidChangeHoldState", 1, map[string]any{"originator": x.orig, "on_hold": false})
	}
}

// addAccepted adds an echo stream from the caller, accepted by the
// listener.
func addAccepted(f *flow) {
	f.send(f.c, "/add echo")
	f.awaitName(f.l, "SIPSessionNewProposal")
	f.send(f.l, "/accept-proposal")
	f.awaitName(f.c, "SIPSessionDidRenegotiateStreams")
	f.awaitName(f.l, "SIPSessionDidRenegotiateStreams")
}

// TestFlows drives two separate processes, `listen --json` (no
// auto-answer) and `call --json`, through their stdin commands and checks
// the exact sequence of session notifications on both sides.
func TestFlows(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process test on Linux only")
	}
	// Each proposal notification is followed by the seed API's name for it.
	proposal := []string{"SIPSessionNewProposal", "SIPSessionGotProposal", "SIPSessionProposalAccepted", "SIPSessionGotAcceptProposal", "SIPSessionDidRenegotiateStreams"}
	for _, tc := range []struct {
		name       string
		transports []transportCase
		run        func(f *flow)
	}{
		{"accept, end by caller", everyTransport, func(f *flow) {
			f.answer()
			f.endByCaller()
			f.check(f.c, seq(callerStart, sessionEnd))
			f.check(f.l, seq(calleeStart, sessionEnd))
			f.data(f.c, "SIPSessionDidEnd", 0, map[string]any{"originator": "local"})
			f.data(f.l, "SIPSessionDidEnd", 0, map[string]any{"originator": "remote"})
			f.data(f.c, "SIPSessionDidStart", 0, map[string]any{"streams": []string{"echo"}})
			f.data(f.l, "SIPSessionDidStart", 0, map[string]any{"streams": []string{"echo"}})
		}},
		{"accept, end by callee", everyTransport, func(f *flow) {
			f.answer()
			// Illegal calls print an error and change nothing.
			f.send(f.l, "/accept-proposal")
			f.send(f.l, "/reject-proposal")
			f.send(f.c, "/cancel-proposal")
			f.send(f.c, "/remove nosuch")
			// Each process reads its stdin on its own: the refusals are
			// awaited before the callee hangs up (its BYE would otherwise
			// race the caller's commands).
			ctx, cancel := context.WithTimeout(context.Background(), flowWait)
			defer cancel()
			for _, x := range []struct {
				p    *proc
				want string
			}{{f.l, "sipstreams: /accept-proposal: no proposal to accept"}, {f.l, "sipstreams: /reject-proposal: not possible now:"}, {f.c, "sipstreams: /cancel-proposal: not possible now:"}, {f.c, "/remove: the session has no nosuch stream"}} {
				if !x.p.errb.waitFor(ctx, x.want) {
					f.t.Errorf("%s's stderr does not say %q: %q", x.p.who, x.want, x.p.errb.String())
				}
			}
			f.endByCallee()
			f.stop()
			f.check(f.c, seq(callerStart, sessionEnd))
			f.check(f.l, seq(calleeStart, sessionEnd))
			f.data(f.c, "SIPSessionDidEnd", 0, map[string]any{"originator": "remote"})
			f.data(f.l, "SIPSessionDidEnd", 0, map[string]any{"originator": "local"})
		}},
		{"reject 486", everyTransport, func(f *flow) { rejectFlow(f, 486) }},
		{"reject 603", everyTransport, func(f *flow) { rejectFlow(f, 603) }},
		{"cancel before answer", everyTransport, func(f *flow) {
			f.send(f.c, "/end")
			if err := f.waitExit(f.c); err == nil {
				f.fatalf("caller exited 0 after CANCEL")
			}
			f.awaitName(f.l, "SIPSessionDidFail")
			f.check(f.c, []string{"SIPSessionNewOutgoing", "SIPSessionGotRingIndication", "SIPSessionGotProvisionalResponse", "SIPSessionDidFail"})
			f.check(f.l, []string{"SIPSessionNewIncoming", "SIPSessionDidProcessTransaction", "SIPSessionDidFail"})
			f.data(f.l, "SIPSessionDidProcessTransaction", 0, map[string]any{"method": "INVITE", "originator": "remote", "code": 487})
			f.data(f.c, "SIPSessionDidFail", 0, map[string]any{"originator": "local", "code": 487})
			f.data(f.l, "SIPSessionDidFail", 0, map[string]any{"originator": "remote", "code": 487})
		}},
		{"add stream accepted", everyTransport, func(f *flow) {
			f.answer()
			addAccepted(f)
			f.endByCaller()
			f.check(f.c, seq(callerStart, proposal, sessionEnd))
			f.check(f.l, seq(calleeStart, proposal, sessionEnd))
			for _, x := range []struct {
				p    *proc
				orig string
			}{{f.c, "local"}, {f.l, "remote"}} {
				f.data(x.p, "SIPSessionNewProposal", 0, map[string]any{"originator": x.orig, "proposed_streams": []string{"echo"}})
				f.data(x.p, "SIPSessionProposalAccepted", 0, map[string]any{"originator": x.orig, "accepted_streams": []string{"echo"}})
				f.data(x.p, "SIPSessionDidRenegotiateStreams", 0, map[string]any{"originator": x.orig, "added_streams": []string{"echo"}, "removed_streams": []string{}})
			}
		}},
		{"add stream by callee accepted", everyTransport, func(f *flow) {
			f.answer()
			f.send(f.l, "/add echo")
			f.awaitName(f.c, "SIPSessionNewProposal")
			f.send(f.c, "/accept-proposal")
			f.awaitName(f.l, "SIPSessionDidRenegotiateStreams")
			f.awaitName(f.c, "SIPSessionDidRenegotiateStreams")
			f.endByCaller()
			f.check(f.c, seq(callerStart, proposal, sessionEnd))
			f.check(f.l, seq(calleeStart, proposal, sessionEnd))
			for _, x := range []struct {
				p    *proc
				orig string
			}{{f.l, "local"}, {f.c, "remote"}} {
				f.data(x.p, "SIPSessionProposalAccepted", 0, map[string]any{"originator": x.orig, "accepted_streams": []string{"echo"}})
				f.data(x.p, "SIPSessionDidRenegotiateStreams", 0, map[string]any{"originator": x.orig, "added_streams": []string{"echo"}})
			}
		}},
		{"add stream by callee rejected", everyTransport, func(f *flow) { rejectedProposal(f, f.l, f.c, "/reject-proposal 603", 603) }},
		{"add stream rejected", everyTransport, func(f *flow) { rejectedProposal(f, f.c, f.l, "/reject-proposal", 488) }},
		{"cancel proposal", everyTransport, func(f *flow) { rejectedProposal(f, f.c, f.c, "/cancel-proposal", 487) }},
		{"remove stream", everyTransport, func(f *flow) {
			f.answer()
			addAccepted(f)
			f.send(f.c, "/remove echo")
			f.await(f.c, "removal", func(l jsonLine) bool {
				return l.Name == "SIPSessionDidRenegotiateStreams" && fmt.Sprint(l.Data["removed_streams"]) == "[echo]"
			})
			f.await(f.l, "removal", func(l jsonLine) bool {
				return l.Name == "SIPSessionDidRenegotiateStreams" && fmt.Sprint(l.Data["removed_streams"]) == "[echo]"
			})
			f.endByCaller()
			f.check(f.c, seq(callerStart, proposal, []string{"SIPSessionDidRenegotiateStreams"}, sessionEnd))
			f.check(f.l, seq(calleeStart, proposal, []string{"SIPSessionDidRenegotiateStreams"}, sessionEnd))
			f.data(f.c, "SIPSessionDidRenegotiateStreams", 1, map[string]any{"originator": "local", "removed_streams": []string{"echo"}, "added_streams": []string{}})
			f.data(f.l, "SIPSessionDidRenegotiateStreams", 1, map[string]any{"originator": "remote", "removed_streams": []string{"echo"}, "added_streams": []string{}})
		}},
		{"hold by caller", everyTransport, func(f *flow) { holdFlow(f, f.c, f.l) }},
		{"hold by callee", everyTransport, func(f *flow) { holdFlow(f, f.l, f.c) }},
	} {
		for _, tr := range tc.transports {
			t.Run(tc.name+" over "+tr.name, func(t *testing.T) {
				f := startFlow(t, tr)
				tc.run(f)
				f.stop()
			})
		}
	}
}

// rejectedProposal answers the session, has proposer offer an echo stream
// (/add echo), and once the other side got the proposal has by (the other
// side rejecting, or the proposer cancelling) send cmd: both sides see
// SIPSessionProposalRejected with code, the proposer as originator local;
// then the caller ends the session.
func rejectedProposal(f *flow, proposer, by *proc, cmd string, code int) {
	f.t.Helper()
	other := f.l
	if proposer == f.l {
		other = f.c
	}
	f.answer()
	f.send(proposer, "/add echo")
	f.awaitName(other, "SIPSessionNewProposal")
	f.send(by, cmd)
	f.awaitName(f.c, "SIPSessionProposalRejected")
	f.awaitName(f.l, "SIPSessionProposalRejected")
	f.endByCaller()
	rejected := []string{"SIPSessionNewProposal", "SIPSessionGotProposal", "SIPSessionProposalRejected", "SIPSessionGotRejectProposal"}
	f.check(f.c, seq(callerStart, rejected, sessionEnd))
	f.check(f.l, seq(calleeStart, rejected, sessionEnd))
	f.data(proposer, "SIPSessionProposalRejected", 0, map[string]any{"originator": "local", "code": code})
	f.data(other, "SIPSessionProposalRejected", 0, map[string]any{"originator": "remote", "code": code})
}

// rejectFlow rejects with code on the listener: the caller exits 1 with
// the code in its message.
func rejectFlow(f *flow, code int) {
	f.send(f.l, fmt.Sprintf("/reject %d", code))
	if err := f.waitExit(f.c); err == nil {
		f.fatalf("caller exited 0 after /reject %d", code)
	}
	f.awaitName(f.l, "SIPSessionDidFail")
	if !strings.Contains(f.c.errb.String(), fmt.Sprint(code)) {
		f.t.Errorf("caller's stderr does not say %d: %q", code, f.c.errb.String())
	}
	f.check(f.c, []string{"SIPSessionNewOutgoing", "SIPSessionGotRingIndication", "SIPSessionGotProvisionalResponse", "SIPSessionDidFail"})
	f.check(f.l, []string{"SIPSessionNewIncoming", "SIPSessionDidProcessTransaction", "SIPSessionDidFail"})
	f.data(f.l, "SIPSessionDidProcessTransaction", 0, map[string]any{"method": "INVITE", "code": code, "ack_received": "true"})
	f.data(f.c, "SIPSessionDidFail", 0, map[string]any{"originator": "remote", "code": code})
	f.data(f.l, "SIPSessionDidFail", 0, map[string]any{"originator": "local", "code": code})
}
