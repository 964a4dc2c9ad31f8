package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/internal/sipptest"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
	"go.uber.org/goleak"
)

// The concurrency torture test (issue 9, done-when 2): sipp plays
// scenarios that make the session's events cross — a BYE with a re-INVITE,
// a CANCEL with the 200, two re-INVITEs (glare), a stream failing while
// re-INVITEs are in flight — with SIPSTREAMS_TORTURE_LIMIT (100)
// concurrent calls for SIPSTREAMS_TORTURE_SECONDS (30) each. The sipp
// scenarios (testdata/torture/*.xml) accept every legal outcome of their
// race, so a failed sipp call is the host's fault. seqChecker checks every
// session's notifications against the state machine of reference §2.1;
// at the end every session has ended, the manager holds none, sipp's and
// the host's counts agree, and no goroutine is left once the host closed.
// SIPSTREAMS_TORTURE=name runs one scenario; SIPSTREAMS_TORTURE_LOGS=dir
// keeps sipp's logs (with -trace_calldebug) there. TestTortureScenarios
// proves the scenarios against sipp counterparts that act as a correct
// host would (testdata/torture/peers), one legal outcome each.

// tortureCase is one scenario of the torture test: sipp calling the host
// (uac), called by it (uas), or both at once.
type tortureCase struct {
	name     string
	uac, uas *tortureSipp
	// behave installs the host's side of the scenario (answering,
	// accepting proposals, holding, …) before calls come.
	behave func(t *testing.T, h *host, errs *hostErrors)
	// during runs beside the calls until ctx ends (the plugin killer).
	during func(ctx context.Context, t *testing.T, h *host, stats *tortureStats)
	// check compares sipp's outcome with the host's sessions.
	check func(t *testing.T, out tortureOutcome)
	// regOpts configure the host's registry.
	regOpts []registry.Option
}

// tortureSipp is one sipp run of a case.
type tortureSipp struct {
	scenario string // under testdata/torture
	// rate is sipp's (UAC) or the host's (UAS) call rate, calls/s, chosen
	// with the scenario's call length so that the limit is reached.
	rate float64
}

// tortureOutcome is what a case's run produced.
type tortureOutcome struct {
	uac, uas   sipptest.Result
	uacN, uasN int // calls each sipp was to make or take
	sum        tortureSummary
	stats      *tortureStats
	uacTrace   []sippMessage
	uasTrace   []sippMessage
}

func TestTorture(t *testing.T) {
	secs := envInt("SIPSTREAMS_TORTURE_SECONDS", 30)
	limit := envInt("SIPSTREAMS_TORTURE_LIMIT", 100)
	only := os.Getenv("SIPSTREAMS_TORTURE")
	sipptest.Binary(t)
	leaks := goleak.IgnoreCurrent()
	for _, tc := range tortureCases() {
		if only != "" && only != tc.name {
			continue
		}
		t.Run(tc.name, func(t *testing.T) { tc.run(t, secs, limit) })
	}
	// Every host has closed: none of its goroutines may be left.
	if err := goleak.Find(leaks); err != nil {
		t.Errorf("goroutines left after the hosts closed: %v", err)
	}
}

func tortureCases() []tortureCase {
	return []tortureCase{
		{
			// sipp re-INVITEs (hold, or a proposal adding a stream) and
			// sends BYE at once; the host holds the calls it places as
			// soon as they start, and sipp hangs up while that hold is
			// pending.
			name: "bye crossing reinvite",
			uac:  &tortureSipp{scenario: "reinvite_bye.xml", rate: 25},
			uas:  &tortureSipp{scenario: "hold_bye_uas.xml", rate: 25},
			behave: func(t *testing.T, h *host, errs *hostErrors) {
				answerAll(t, h, errs, true)
				acceptProposals(t, h, errs)
				holdOnStart(t, h, errs, Outgoing)
			},
			check: func(t *testing.T, out tortureOutcome) {
				out.sum.want(t, "incoming sessions", out.sum.incoming, out.uacN)
				out.sum.want(t, "incoming sessions started", out.sum.startedIn, out.uacN)
				out.sum.want(t, "outgoing sessions", out.sum.outgoing, int(out.stats.placed.Load()))
				out.sum.want(t, "outgoing sessions started", out.sum.startedOut, out.uasN)
			},
		},
		{
			// sipp CANCELs each INVITE at once; the host answers at once.
			name: "cancel crossing 200",
			uac:  &tortureSipp{scenario: "cancel_200.xml", rate: 40},
			behave: func(t *testing.T, h *host, errs *hostErrors) {
				answerAll(t, h, errs, false)
			},
			check: func(t *testing.T, out tortureOutcome) {
				out.sum.want(t, "incoming sessions", out.sum.incoming, out.uacN)
				answered := answeredCalls(out.uacTrace, "1 INVITE", 200)
				out.sum.want(t, "sessions that sent their 200 (sipp's INVITEs answered 200)", out.sum.answeredIn, answered)
				out.sum.want(t, "sessions started", out.sum.startedIn, answered)
				t.Logf("INVITEs answered 200: %d, 487: %d", answered, answeredCalls(out.uacTrace, "1 INVITE", 487))
			},
		},
		{
			// sipp and the host put each call on hold at the same time.
			name: "reinvite glare",
			uac:  &tortureSipp{scenario: "glare.xml", rate: 35},
			behave: func(t *testing.T, h *host, errs *hostErrors) {
				answerAll(t, h, errs, false)
				holdOnStart(t, h, errs, Incoming)
			},
			check: func(t *testing.T, out tortureOutcome) {
				out.sum.want(t, "incoming sessions", out.sum.incoming, out.uacN)
				out.sum.want(t, "sessions started", out.sum.startedIn, out.uacN)
				t.Logf("re-INVITEs answered 491 by the host: %d, by sipp: %d",
					answeredCalls(out.uacTrace, "2 INVITE", 491), sentCount(out.uacTrace, "SIP/2.0 491"))
			},
		},
		{
			// sipp re-INVITEs in a loop; the echo plugin is SIGKILLed
			// every 3 s and restarted by the registry.
			name:    "stream failing during reinvite",
			uac:     &tortureSipp{scenario: "reinvite_kill.xml", rate: 30},
			regOpts: []registry.Option{registry.WithRestartBackoff(50*time.Millisecond, 500*time.Millisecond)},
			behave: func(t *testing.T, h *host, errs *hostErrors) {
				answerAll(t, h, errs, false)
			},
			during: killPlugin(3 * time.Second),
			check: func(t *testing.T, out tortureOutcome) {
				answered := answeredCalls(out.uacTrace, "1 INVITE", 200)
				out.sum.want(t, "sessions that sent their 200 (sipp's INVITEs answered 200)", out.sum.answeredIn, answered)
				if out.stats.kills.Load() == 0 || out.sum.streamFailed == 0 {
					t.Errorf("%d plugin kills ended %d sessions: the kills did not reach the sessions", out.stats.kills.Load(), out.sum.streamFailed)
				}
				t.Logf("sessions ended by a failed stream: %d, failed before they started: %d; INVITEs not answered 200: %d", out.sum.streamFailed, out.sum.failed, out.uacN-answered)
			},
		},
	}
}

// hostErrors collects what the host's side returned that it should not
// have: an API call refused other than for the state (the race may make
// an Accept or a Hold come too late, which ErrIllegalState says).
type hostErrors struct {
	mu   sync.Mutex
	errs map[string]int
}

func (e *hostErrors) add(call string, err error) {
	if err == nil || errors.Is(err, ErrIllegalState) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.errs == nil {
		e.errs = map[string]int{}
	}
	e.errs[call+": "+err.Error()]++
}

func (e *hostErrors) report(t *testing.T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for what, n := range e.errs {
		t.Errorf("host: %d× %s", n, what)
	}
}

// answerAll makes h accept every incoming session with all its streams,
// at once (ring first when ring is true).
func answerAll(t *testing.T, h *host, errs *hostErrors, ring bool) {
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, d := n.Sender.(*Session), n.Data.(NewIncomingData)
		if ring {
			errs.add("SendRingIndication", s.SendRingIndication())
		}
		errs.add("Accept", s.Accept(d.Streams))
	}), SIPSessionNewIncoming, nil)
	t.Cleanup(unsub)
}

// acceptProposals makes h accept every stream the peer proposes.
func acceptProposals(t *testing.T, h *host, errs *hostErrors) {
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		if d := n.Data.(NewProposalData); d.Originator == Remote {
			errs.add("AcceptProposal", n.Sender.(*Session).AcceptProposal(d.ProposedStreams))
		}
	}), SIPSessionNewProposal, nil)
	t.Cleanup(unsub)
}

// holdOnStart makes h put its sessions of direction dir on hold as soon
// as they started.
func holdOnStart(t *testing.T, h *host, errs *hostErrors, dir Direction) {
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		if s := n.Sender.(*Session); s.Direction() == dir {
			errs.add("Hold", s.Hold())
		}
	}), SIPSessionDidStart, nil)
	t.Cleanup(unsub)
}

// tortureStats counts what the test did beside the calls.
type tortureStats struct {
	kills    atomic.Int64 // plugin processes killed
	placed   atomic.Int64 // calls the host placed (UAS scenarios)
	notPlace atomic.Int64 // calls the host could not place
}

// tortureSummary is what the host's sessions did, for the cross-checks.
type tortureSummary struct {
	sessions, incoming, outgoing, startedIn, startedOut, failed, ended int
	answeredIn                                                         int // incoming sessions that sent their 200 (WillStart)
	streamFailed                                                       int // ended for a failed stream
}

func (tortureSummary) want(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %d, want %d", what, got, want)
	}
}

func summarize(c *seqChecker) tortureSummary {
	var sum tortureSummary
	for _, tr := range c.sessions() {
		sum.sessions++
		out := false
		for _, n := range tr.events {
			switch n.Name {
			case SIPSessionNewIncoming:
				sum.incoming++
			case SIPSessionNewOutgoing:
				sum.outgoing++
				out = true
			case SIPSessionWillStart:
				if !out {
					sum.answeredIn++
				}
			case SIPSessionDidStart:
				if out {
					sum.startedOut++
				} else {
					sum.startedIn++
				}
			case SIPSessionDidFail:
				sum.failed++
			case SIPSessionDidEnd:
				sum.ended++
				if d, ok := n.Data.(DidEndData); ok && strings.Contains(d.EndReason, "media stream failed") {
					sum.streamFailed++
				}
			}
		}
	}
	return sum
}

func (tc tortureCase) run(t *testing.T, secs, limit int) {
	h := newTortureHost(t, tc.regOpts...)
	chk := newSeqChecker()
	t.Cleanup(h.center.Subscribe(chk, "", nil))
	var errs hostErrors
	tc.behave(t, h, &errs)

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second+2*time.Minute)
	defer cancel()
	share := limit
	if tc.uac != nil && tc.uas != nil {
		share = limit / 2
	}
	options := func(ts *tortureSipp) (sipptest.Options, int) {
		n := int(ts.rate * float64(secs))
		var extra []string
		if os.Getenv("SIPSTREAMS_TORTURE_LOGS") != "" {
			extra = []string{"-trace_calldebug"}
		}
		return sipptest.Options{
			Scenario: "testdata/torture/" + ts.scenario, Extra: extra,
			Calls: n, Rate: ts.rate, Limit: share,
			// A call lasts a few seconds (up to 20 s when the plugin
			// restarts): 20 s past the last call is the host's fault.
			Timeout: time.Duration(secs+20) * time.Second,
		}, n
	}
	out := tortureOutcome{stats: &tortureStats{}}
	duringCtx, stopDuring := context.WithCancel(ctx)
	var bg sync.WaitGroup
	if tc.during != nil {
		bg.Go(func() { tc.during(duringCtx, t, h, out.stats) })
	}
	start := time.Now()
	var uas *sipptest.Process
	if tc.uas != nil {
		var o sipptest.Options
		o, out.uasN = options(tc.uas)
		uas = sipptest.Start(t, ctx, o)
		bg.Go(func() { placeCalls(duringCtx, h, uas.Port(), out.uasN, tc.uas.rate, share, out.stats) })
	}
	if tc.uac != nil {
		var o sipptest.Options
		o, out.uacN = options(tc.uac)
		o.Remote = h.addr()
		out.uac = sipptest.Run(t, ctx, o)
	}
	if uas != nil {
		out.uas = uas.Wait()
	}
	stopDuring()
	bg.Wait()
	elapsed := time.Since(start)

	// Every session the host knew must end: wait for the last ones (a
	// stream may take MediaStreamTimeout to start or fail).
	settle, cancelSettle := context.WithTimeout(ctx, MediaStreamTimeout+5*time.Second)
	defer cancelSettle()
	for len(h.mgr.Sessions()) > 0 && settle.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if left := h.mgr.Sessions(); len(left) > 0 {
		var states []string
		for _, s := range left {
			states = append(states, s.CallID()+" "+s.State().String())
		}
		t.Errorf("%d sessions still in the manager %v after sipp ended: %s", len(left), MediaStreamTimeout+5*time.Second, strings.Join(states[:min(len(states), 10)], ", "))
	}
	if err := h.center.Flush(settle); err != nil {
		t.Errorf("flushing the notifications: %v", err)
	}
	rep := chk.finish()
	out.sum = summarize(chk)
	sum := out.sum
	t.Logf("%s: %v; host sessions %d (in %d, out %d, at most %d at once), started %d+%d, ended %d, failed %d; plugin kills %d; host calls placed %d, not placed %d; overload control %+v",
		tc.name, elapsed.Round(time.Second), sum.sessions, sum.incoming, sum.outgoing, chk.maxLive(), sum.startedIn, sum.startedOut,
		sum.ended, sum.failed, out.stats.kills.Load(), out.stats.placed.Load(), out.stats.notPlace.Load(), h.mgr.OverloadStats())
	for _, side := range []struct {
		name string
		ts   *tortureSipp
		r    sipptest.Result
		n    int
		tr   *[]sippMessage
	}{{"uac", tc.uac, out.uac, out.uacN, &out.uacTrace}, {"uas", tc.uas, out.uas, out.uasN, &out.uasTrace}} {
		if side.ts == nil {
			continue
		}
		keepLogs(t, tc.name+"-"+side.name, side.r)
		*side.tr = parseSippTrace(side.r.Messages)
		r := side.r
		t.Logf("sipp %s %s: %d successful, %d failed of %d (exit %d), at most %d calls at once", side.name, side.ts.scenario, r.Successful, r.Failed, side.n, r.ExitCode, maxConcurrent(r.Dir))
		if r.Failed != 0 || r.Successful != side.n || r.ExitCode != 0 {
			t.Errorf("sipp %s: %d successful, %d failed of %d calls (exit %d); failures: %s", side.name, r.Successful, r.Failed, side.n, r.ExitCode, sippFailures(r.Errors))
		}
	}
	if rep.Violations > 0 {
		t.Error(rep.String())
	}
	// The session objects agree with their notifications.
	wrong := map[string]int{}
	for _, tr := range chk.sessions() {
		if s, ok := tr.sender.(*Session); ok && tr.state.terminal() && s.State() != StateTerminated {
			wrong[fmt.Sprintf("posted %s but is in state %s", short(tr.events[len(tr.events)-1].Name), s.State())]++
		}
	}
	for what, n := range wrong {
		t.Errorf("%d sessions %s", n, what)
	}
	errs.report(t)
	if tc.check != nil {
		tc.check(t, out)
	}
}

// newTortureHost is newHostOn's host (UDP on 127.0.0.1, the real echo
// plugin) with registry options.
func newTortureHost(t *testing.T, regOpts ...registry.Option) *host {
	t.Helper()
	center := notify.New()
	reg := registry.New(append([]registry.Option{registry.WithDir(pluginDir), registry.WithNotifier(notifierOf(center))}, regOpts...)...)
	eng, err := engine.New(engine.Config{
		UserAgent: "sipstreams-torture",
		Listen:    []engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := &Account{ID: "host@127.0.0.1", URI: sip.Uri{Scheme: "sip", User: "host", Host: "127.0.0.1"}}
	mgr := NewManager(Config{Signalling: eng, Streams: sourceOf(reg), Center: center, Account: acc, UserAgent: "sipstreams-torture"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		mgr.Close(ctx)
		_ = reg.Close(ctx)
		_ = eng.Close()
		center.Close()
	})
	return &host{name: "host", eng: eng, reg: reg, center: center, mgr: mgr, acc: acc}
}

// placeCalls makes h call sipp's UAS at port: calls calls at rate per
// second, at most limit at a time, each with one echo stream.
func placeCalls(ctx context.Context, h *host, port, calls int, rate float64, limit int, stats *tortureStats) {
	slots := make(chan struct{}, limit)
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		if s, ok := n.Sender.(*Session); ok && s.Direction() == Outgoing && (n.Name == SIPSessionDidEnd || n.Name == SIPSessionDidFail) {
			select {
			case <-slots:
			default:
			}
		}
	}), "", nil)
	defer unsub()
	to := sip.Uri{Scheme: "sip", User: "sipp", Host: "127.0.0.1", Port: port}
	route := engine.Route{Address: "127.0.0.1", Port: port, Transport: engine.TransportUDP}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for range calls {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		st, err := h.reg.Create(ctx, &sdk.CreateRequest{Type: "echo"})
		if err != nil {
			stats.notPlace.Add(1)
			<-slots
			continue
		}
		if err := h.mgr.NewSession().Connect(ctx, to, []engine.Route{route}, []Stream{st}, "torture"); err != nil {
			stats.notPlace.Add(1)
			<-slots
			continue
		}
		stats.placed.Add(1)
	}
}

// killPlugin SIGKILLs the echo plugin's process every period; the
// registry restarts it.
func killPlugin(period time.Duration) func(context.Context, *testing.T, *host, *tortureStats) {
	return func(ctx context.Context, t *testing.T, h *host, stats *tortureStats) {
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, p := range h.reg.Plugins() {
				if p.PID > 0 && syscall.Kill(p.PID, syscall.SIGKILL) == nil {
					stats.kills.Add(1)
				}
			}
		}
	}
}

// keepLogs copies sipp's logs into $SIPSTREAMS_TORTURE_LOGS/<case>/ when
// that is set (the test's own directory goes away with it).
func keepLogs(t *testing.T, name string, r sipptest.Result) {
	dir := os.Getenv("SIPSTREAMS_TORTURE_LOGS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		t.Log(err)
		return
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(r.Dir, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		if err != nil {
			t.Log(err)
		}
	}
}

// maxConcurrent is the most calls sipp had at once, from its statistics
// file (a line a second).
func maxConcurrent(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "stat.csv"))
	if err != nil {
		return -1
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	col := slices.Index(strings.Split(lines[0], ";"), "CurrentCall")
	most := 0
	for _, l := range lines[1:] {
		if f := strings.Split(l, ";"); col >= 0 && col < len(f) {
			if n, err := strconv.Atoi(f[col]); err == nil {
				most = max(most, n)
			}
		}
	}
	return most
}

// sippMessage is one message of sipp's trace (-trace_msg).
type sippMessage struct {
	sent      bool
	firstLine string
	callID    string
	cseq      string // "1 INVITE"
}

// parseSippTrace splits sipp's message trace into messages.
func parseSippTrace(trace string) []sippMessage {
	var out []sippMessage
	for _, block := range strings.Split(trace, "\n----------------------------------------------- ") {
		lines := strings.Split(strings.ReplaceAll(block, "\r", ""), "\n")
		var m sippMessage
		i := 0
		for ; i < len(lines); i++ {
			l := lines[i]
			if strings.Contains(l, "message sent") || strings.Contains(l, "message received") {
				m.sent = strings.Contains(l, "message sent")
				break
			}
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) == ""; i++ {
		}
		if i >= len(lines) {
			continue
		}
		m.firstLine = strings.TrimSpace(lines[i])
		for _, l := range lines[i+1:] {
			if l == "" {
				break
			}
			name, value, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "call-id", "i":
				m.callID = strings.TrimSpace(value)
			case "cseq":
				m.cseq = strings.Join(strings.Fields(value), " ")
			}
		}
		out = append(out, m)
	}
	return out
}

// answeredCalls counts the calls (Call-IDs) in which sipp received a
// response with code to the request of CSeq cseq ("1 INVITE").
func answeredCalls(trace []sippMessage, cseq string, code int) int {
	status := fmt.Sprintf("SIP/2.0 %d ", code)
	calls := map[string]bool{}
	for _, m := range trace {
		if !m.sent && m.cseq == cseq && strings.HasPrefix(m.firstLine+" ", status) {
			calls[m.callID] = true
		}
	}
	return len(calls)
}

// sentCount counts the messages sipp sent whose first line starts with
// prefix.
func sentCount(trace []sippMessage, prefix string) int {
	n := 0
	for _, m := range trace {
		if m.sent && strings.HasPrefix(m.firstLine, prefix) {
			n++
		}
	}
	return n
}

// sippFailures summarises sipp's error log: why calls failed, counted.
func sippFailures(errLog string) string {
	counts := map[string]int{}
	for _, l := range strings.Split(errLog, "\n") {
		var why string
		switch {
		case strings.Contains(l, "Aborting call on unexpected message") && strings.Contains(l, "while expecting"):
			exp, rest, _ := strings.Cut(l[strings.Index(l, "while expecting"):], "), received '")
			why = "unexpected " + strings.TrimSpace(rest) + " " + exp + ")"
		case strings.Contains(l, "receive timeout on message"):
			_, rest, _ := strings.Cut(l, "receive timeout on message ")
			msg, _, _ := strings.Cut(rest, " without")
			why = "timeout waiting at " + msg
		default:
			continue
		}
		counts[why]++
	}
	var parts []string
	for why, n := range counts {
		parts = append(parts, fmt.Sprintf("%d× %s", n, why))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// TestTortureScenarios plays each torture scenario against sipp
// counterparts (testdata/torture/peers) that behave as a correct host may,
// one legal outcome of the race each: the scenario must accept them all,
// so that a failed call in TestTorture is the host's doing.
func TestTortureScenarios(t *testing.T) {
	sipptest.Binary(t)
	for _, tc := range []struct {
		scenario, peer string
		uac            bool // the torture scenario is the UAC
	}{
		{"reinvite_bye.xml", "reinvite_bye_487.xml", true},
		{"reinvite_bye.xml", "reinvite_bye_200.xml", true},
		{"reinvite_bye.xml", "reinvite_bye_481.xml", true},
		{"hold_bye_uas.xml", "hold_bye_host.xml", false},
		{"cancel_200.xml", "cancel_487.xml", true},
		{"cancel_200.xml", "cancel_200.xml", true},
		{"cancel_200.xml", "cancel_481.xml", true},
		{"glare.xml", "glare_host.xml", true},
		{"glare.xml", "glare_cross.xml", true},
		{"reinvite_kill.xml", "answer_all.xml", true},
		{"reinvite_kill.xml", "kill_pending.xml", true},
		{"reinvite_kill.xml", "kill_refused.xml", true},
		{"reinvite_kill.xml", "kill_call_refused.xml", true},
		{"reinvite_kill.xml", "late_2xx.xml", true},
		// TestInteropHoldUnderLoad's scenario, which meets the same late 2xx.
		{"../uac_hold_loop.xml", "late_2xx.xml", true},
	} {
		t.Run(strings.TrimSuffix(filepath.Base(tc.scenario), ".xml")+" vs "+strings.TrimSuffix(tc.peer, ".xml"), func(t *testing.T) {
			t.Parallel()
			const calls = 4
			uac, uas := "testdata/torture/"+tc.scenario, "testdata/torture/peers/"+tc.peer
			if !tc.uac {
				uac, uas = uas, uac
			}
			srv := sipptest.Start(t, t.Context(), sipptest.Options{Scenario: uas, Calls: calls, Timeout: time.Minute})
			cli := sipptest.Run(t, t.Context(), sipptest.Options{Scenario: uac, Remote: fmt.Sprintf("127.0.0.1:%d", srv.Port()),
				Calls: calls, Rate: 20, Timeout: time.Minute})
			for side, r := range map[string]sipptest.Result{"uac " + uac: cli, "uas " + uas: srv.Wait()} {
				keepLogs(t, strings.ReplaceAll(t.Name()+" "+side, "/", "_"), r)
				if r.ExitCode != 0 || r.Successful != calls || r.Failed != 0 {
					t.Errorf("%s: exit %d, %d successful, %d failed of %d: %s", side, r.ExitCode, r.Successful, r.Failed, calls, sippFailures(r.Errors))
				}
			}
		})
	}
}
