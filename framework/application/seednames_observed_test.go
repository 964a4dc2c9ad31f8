package application

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/internal/sipptest"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// The scenarios of TestSeedNamesObserved. Each drives the real system —
// two applications on loopback (alice and bob) with the real echo, audio
// and chat plugin binaries, and a sipp peer for the silent one — through
// the public API.
const (
	// scnLifecycle: both applications start and stop; alice also listens
	// on TLS without a certificate, so her engine starts without it.
	scnLifecycle = "lifecycle"
	// scnCall: alice calls bob with audio. Bob rings, accepts, holds and
	// unholds (his re-offer changes the codec: alice prefers PCMA, bob
	// PCMU), records, receives a DTMF digit; alice proposes chat (bob
	// rejects), proposes it again (bob accepts), sends a message, an
	// is-composing indication and a message larger than bob's
	// chat.max_message_size (refused with MSRP 413) with logs.trace_msrp
	// on, proposes an echo stream and ends the session while bob has not
	// answered the proposal.
	scnCall = "call"
	// scnRejected: bob rejects alice's call with 486.
	scnRejected = "rejected"
	// scnCrash: bob's echo plugin process is killed (SIGKILL) during an
	// echo call.
	scnCrash = "plugin crash"
	// scnICE: alice calls bob as SIP accounts with ICE enabled (the
	// peer-to-peer account never uses ICE); the checks succeed on
	// loopback.
	scnICE = "ice"
	// scnSilentPeer: alice calls a sipp UAS with ICE and rtp.timeout 1 s.
	// Its answer carries ICE with a single component (an rtcp-mux peer's),
	// so alice's checks cannot run, and it never sends RTP.
	scnSilentPeer = "silent peer"
	// scnTransfer: alice calls bob (echo) and transfers him to carol
	// (REFER, a blind transfer); bob accepts and calls carol, who
	// answers; alice's call with bob ends, and bob's with carol once
	// carol hangs up.
	scnTransfer = "blind transfer"
	// scnAttendedTransfer: alice calls bob, then carol, and transfers bob
	// to carol replacing her call with carol (Refer-To with Replaces);
	// bob accepts, carol answers bob's INVITE with Replaces and her call
	// with alice ends; then bob's with carol.
	scnAttendedTransfer = "attended transfer"
	// scnTransferFailures: alice calls bob and transfers him; bob rejects
	// the transfer (603) and the call goes on until alice ends it; then a
	// sipp UAC sends bob an INVITE whose Replaces names no dialog (481).
	scnTransferFailures = "transfer failures"
)

var seedScenarios = []string{scnLifecycle, scnCall, scnRejected, scnCrash, scnICE, scnSilentPeer,
	scnTransfer, scnAttendedTransfer, scnTransferFailures}

// The hosts that observe notifications.
const (
	hostAlice = "alice"
	hostBob   = "bob"
	hostCarol = "carol" // the third party of the transfers
)

var (
	onBoth  = []string{hostAlice, hostBob}
	onAlice = []string{hostAlice}
	onBob   = []string{hostBob}
	onCarol = []string{hostCarol}
)

// seedEntry says how a notification name of the seed is covered: observed
// in a scenario by each host of On, or not implemented yet and brought by
// Issue.
type seedEntry struct {
	Scenario string
	On       []string
	Issue    int
	Why      string
}

// seedNameTable covers every notification name of the seed's API text
// (TestSeedNameTable keeps the two in step).
var seedNameTable = map[string]seedEntry{
	"SIPApplicationWillStart":        {Scenario: scnLifecycle, On: onBoth},
	"SIPApplicationDidStart":         {Scenario: scnLifecycle, On: onBoth},
	"SIPApplicationWillEnd":          {Scenario: scnLifecycle, On: onBoth},
	"SIPApplicationDidEnd":           {Scenario: scnLifecycle, On: onBoth},
	"SIPApplicationFailedToStartTLS": {Scenario: scnLifecycle, On: onAlice},

	"SIPSessionNewIncoming":            {Scenario: scnCall, On: onBob},
	"SIPSessionNewOutgoing":            {Scenario: scnCall, On: onAlice},
	"SIPSessionGotRingIndication":      {Scenario: scnCall, On: onAlice},
	"SIPSessionGotProvisionalResponse": {Scenario: scnCall, On: onAlice},
	"SIPSessionWillStart":              {Scenario: scnCall, On: onBoth},
	"SIPSessionDidStart":               {Scenario: scnCall, On: onBoth},
	"SIPSessionDidFail":                {Scenario: scnRejected, On: onBoth},
	"SIPSessionWillEnd":                {Scenario: scnCall, On: onBoth},
	"SIPSessionDidEnd":                 {Scenario: scnCall, On: onBoth},
	"SIPSessionDidChangeHoldState":     {Scenario: scnCall, On: onBoth},
	"SIPSessionGotProposal":            {Scenario: scnCall, On: onBoth},
	"SIPSessionGotRejectProposal":      {Scenario: scnCall, On: onBoth},
	"SIPSessionGotAcceptProposal":      {Scenario: scnCall, On: onBoth},
	"SIPSessionHadProposalFailure":     {Scenario: scnCall, On: onBoth},
	"SIPSessionDidRenegotiateStreams":  {Scenario: scnCall, On: onBoth},
	"SIPSessionDidProcessTransaction":  {Scenario: scnCall, On: onBoth},
	"SIPSessionTransferNewOutgoing":    {Scenario: scnTransfer, On: onAlice},
	"SIPSessionTransferDidStart":       {Scenario: scnTransfer, On: onBoth},
	"SIPSessionTransferDidFail":        {Scenario: scnTransferFailures, On: onBoth},

	"MediaStreamDidInitialize": {Scenario: scnCall, On: onBoth},
	"MediaStreamDidStart":      {Scenario: scnCall, On: onBoth},
	"MediaStreamDidFail":       {Scenario: scnCrash, On: onBob},
	"MediaStreamWillEnd":       {Scenario: scnCall, On: onBoth},
	"MediaStreamDidEnd":        {Scenario: scnCall, On: onBoth},

	"AudioStreamDidChangeHoldState":           {Scenario: scnCall, On: onBoth},
	"AudioStreamWillStartRecordingAudio":      {Scenario: scnCall, On: onBob},
	"AudioStreamDidStartRecordingAudio":       {Scenario: scnCall, On: onBob},
	"AudioStreamWillStopRecordingAudio":       {Scenario: scnCall, On: onBob},
	"AudioStreamDidStopRecordingAudio":        {Scenario: scnCall, On: onBob},
	"AudioStreamDidChangeRTPParameters":       {Scenario: scnCall, On: onBoth},
	"AudioStreamGotDTMF":                      {Scenario: scnCall, On: onBob},
	"AudioStreamICENegotiationStateDidChange": {Scenario: scnICE, On: onBoth},
	"AudioStreamICENegotiationDidSucceed":     {Scenario: scnICE, On: onBoth},
	"AudioStreamICENegotiationDidFail":        {Scenario: scnSilentPeer, On: onAlice},
	"AudioStreamDidTimeout":                   {Scenario: scnSilentPeer, On: onAlice},

	"MSRPTransportTrace": {Scenario: scnCall, On: onAlice},
	"MSRPLibraryLog":     {Scenario: scnCall, On: onAlice},

	"ChatStreamGotMessage":             {Scenario: scnCall, On: onBob},
	"ChatStreamDidDeliverMessage":      {Scenario: scnCall, On: onAlice},
	"ChatStreamDidNotDeliverMessage":   {Scenario: scnCall, On: onAlice},
	"ChatStreamDidSendMessage":         {Scenario: scnCall, On: onAlice},
	"ChatStreamGotComposingIndication": {Scenario: scnCall, On: onBob},
}

// referenceNameTable covers the transfer notifications of the reference's
// catalogue (shared/reference/sipsimple-behaviour.md §2.6) that the seed's
// API text does not list: observed like the seed's names, in the scenario
// given, on each host of On. TestTransferNamesInTables keeps it in step
// with the transfer names the session package declares.
var referenceNameTable = map[string]seedEntry{
	"SIPSessionTransferNewIncoming":           {Scenario: scnTransfer, On: onBob},
	"SIPSessionTransferGotProgress":           {Scenario: scnTransfer, On: onAlice},
	"SIPSessionTransferDidEnd":                {Scenario: scnTransfer, On: onBoth},
	"SIPSessionNewIncomingFromTransfer":       {Scenario: scnAttendedTransfer, On: onCarol},
	"SIPSessionNewIncomingFromTransferFailed": {Scenario: scnTransferFailures, On: onBob},
}

// tableEntry returns name's entry in seedNameTable or referenceNameTable.
func tableEntry(name string) (seedEntry, bool) {
	if e, ok := seedNameTable[name]; ok {
		return e, true
	}
	e, ok := referenceNameTable[name]
	return e, ok
}

// transferNames returns the values of the constants the session package
// (framework/session, test files aside) declares for notifications of
// call transfer: string constants whose value starts with "SIPSession"
// and names a transfer. Read from the source, so that a name added there
// cannot go unobserved here.
func transferNames(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "session", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				for _, x := range spec.(*ast.ValueSpec).Values {
					lit, ok := x.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err == nil && strings.HasPrefix(v, "SIPSession") && strings.Contains(v, "Transfer") && !slices.Contains(names, v) {
						names = append(names, v)
					}
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// TestTransferNamesInTables: every transfer notification the session
// package declares is in one of the tables with a scenario (none is left
// to an issue), and the reference table holds nothing else.
func TestTransferNamesInTables(t *testing.T) {
	names := transferNames(t)
	// The reference's transfer catalogue (§2.6): the package must
	// declare each; were the source reading broken, this fails.
	for _, want := range []string{"SIPSessionTransferNewOutgoing", "SIPSessionTransferNewIncoming", "SIPSessionTransferDidStart",
		"SIPSessionTransferDidEnd", "SIPSessionTransferDidFail", "SIPSessionTransferGotProgress",
		"SIPSessionNewIncomingFromTransfer", "SIPSessionNewIncomingFromTransferFailed"} {
		if !slices.Contains(names, want) {
			t.Errorf("framework/session declares no %s (found %v)", want, names)
		}
	}
	for _, name := range names {
		e, ok := tableEntry(name)
		switch {
		case !ok:
			t.Errorf("%s: declared by framework/session but in neither table: give it a scenario", name)
		case e.Issue != 0 || !slices.Contains(seedScenarios, e.Scenario) || len(e.On) == 0:
			t.Errorf("%s: %+v: a transfer name needs a known scenario and the hosts that observe it", name, e)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(referenceNameTable)) {
		if _, seed := seedNameTable[name]; seed || !slices.Contains(names, name) {
			t.Errorf("%s: in referenceNameTable but a seed name or no transfer name of framework/session", name)
		}
	}
}

// TestSeedNameTable: the table names exactly the seed's notification
// names, and each entry is either a scenario with its hosts or an issue.
func TestSeedNameTable(t *testing.T) {
	names := loadSeedNames(t)
	for _, name := range names {
		e, ok := seedNameTable[name]
		switch {
		case !ok:
			t.Errorf("%s: the seed's text names it but the table does not: give it a scenario or the issue that brings it", name)
		case e.Issue != 0 && (e.Scenario != "" || e.Why == ""):
			t.Errorf("%s: %+v: a name not implemented has an issue and a reason, no scenario", name, e)
		case e.Issue == 0 && (!slices.Contains(seedScenarios, e.Scenario) || len(e.On) == 0):
			t.Errorf("%s: %+v: an implemented name needs a known scenario and the hosts that observe it", name, e)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(seedNameTable)) {
		if !slices.Contains(names, name) {
			t.Errorf("%s: in the table but not in the seed's text", name)
		}
	}
}

// seedWait bounds each wait for an event (the machine is busy and the
// tests run with -race).
const seedWait = 30 * time.Second

// seedMaxMessageSize is bob's chat.max_message_size: alice's large message
// exceeds it.
const seedMaxMessageSize = 1024

// seedHost is one application of the test with a recorder of everything
// its notification center carries.
type seedHost struct {
	name string
	app  *Application
	rec  *notify.Recorder
}

// startSeedHost starts an application on loopback with the plugins of
// dir and the configuration doc, recording from before its start.
func startSeedHost(t *testing.T, ctx context.Context, name, dir string, doc *config.Document, listen []engine.Listen) *seedHost {
	t.Helper()
	center := notify.New()
	h := &seedHost{name: name, rec: &notify.Recorder{}}
	h.app = New(WithCenter(center), WithPluginDir(dir), WithListen(listen), WithUser(name))
	unsub := center.Subscribe(h.rec, "", nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = h.app.Stop(ctx)
		unsub()
		center.Close()
	})
	st := storage.NewMemory()
	if err := st.Save(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := h.app.Start(ctx, st); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return h
}

// seedDocument is a configuration without sound devices (the audio
// plugin runs on its null clock), with codecs in the given order and a
// SIP account name@127.0.0.1 that uses ICE and never registers.
func seedDocument(name string, codecs ...string) *config.Document {
	doc := config.NewDocument()
	doc.Settings.Audio.InputDevice = "none"
	doc.Settings.Audio.OutputDevice = "none"
	doc.Settings.Audio.AlertDevice = "none"
	doc.Settings.RTP.AudioCodecList = codecs
	acc := config.NewAccount(name + "@127.0.0.1")
	acc.SIP.Register = false
	acc.NATTraversal.UseICE = true
	doc.Accounts = append(doc.Accounts, acc)
	return doc
}

// route is where the host's engine listens (its first listener).
func (h *seedHost) route() engine.Route {
	a := h.app.Engine().Addrs()[0]
	return engine.Route{Address: a.IP.String(), Port: a.Port, Transport: a.Transport}
}

// mark is where the next notification will be recorded.
func (h *seedHost) mark() int { return h.rec.Len() }

// await returns the first notification named name recorded at or after
// from that match accepts (nil: any), waiting for it up to seedWait.
func (h *seedHost) await(t *testing.T, from int, name string, match func(notify.Notification) bool) notify.Notification {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), seedWait)
	defer cancel()
	var got notify.Notification
	err := h.rec.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns[min(from, len(ns)):] {
			if n.Name == name && (match == nil || match(n)) {
				got = n
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("%s: no %s within %v; recorded since: %v", h.name, name, seedWait, h.namesSince(from))
	}
	return got
}

// namesSince lists the distinct names recorded at or after from.
func (h *seedHost) namesSince(from int) []string {
	var out []string
	for _, n := range h.rec.All()[from:] {
		if !slices.Contains(out, n.Name) {
			out = append(out, n.Name)
		}
	}
	return out
}

// create makes a stream of typ for an outgoing offer of acc.
func (h *seedHost) create(t *testing.T, ctx context.Context, typ string, acc *session.Account) session.Stream {
	t.Helper()
	st, err := h.app.Registry().Create(ctx, &sdk.CreateRequest{Type: typ, Account: acc.SDK()})
	if err != nil {
		t.Fatalf("%s: creating a %s stream: %v", h.name, typ, err)
	}
	return st
}

// from matches notifications of sender.
func from(sender any) func(notify.Notification) bool {
	return func(n notify.Notification) bool { return n.Sender == sender }
}

// streamOf returns the session's active stream of type typ.
func streamOf(t *testing.T, s *session.Session, typ string) session.Stream {
	t.Helper()
	for _, st := range s.Streams() {
		if st.Type() == typ {
			return st
		}
	}
	t.Fatalf("the session has no active %s stream", typ)
	return nil
}

// incoming waits for bob's next incoming session (at or after from) and
// returns it with the streams it proposes.
func (h *seedHost) incoming(t *testing.T, from int) (*session.Session, []session.Stream) {
	t.Helper()
	n := h.await(t, from, session.SIPSessionNewIncoming, nil)
	return n.Sender.(*session.Session), n.Data.(session.NewIncomingData).Streams
}

// seedPlugins returns a plugin directory holding the echo plugin that
// TestMain built and the audio and chat plugins, built now (in parallel).
func seedPlugins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	echo, err := os.ReadFile(filepath.Join(pluginDir, "sipstreams-plugin-echo"))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "sipstreams-plugin-echo"), echo, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]string{
		"audio": "github.com/sipstreams/sipstreams/plugins/audio",
		"chat":  "github.com/sipstreams/sipstreams/plugins/chat",
	}
	errs := make(chan error, len(pkgs))
	for name, pkg := range pkgs {
		go func() {
			_, err := plugintest.Build(dir, name, pkg)
			errs <- err
		}()
	}
	for range pkgs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return dir
}

// window is the part of a host's recording that belongs to a scenario.
type window struct {
	scenario, host string
	from, to       int
}

// TestSeedNamesObserved is the table test of the seed's notification
// names: every name of the seed's API text (testdata/middleware-api.txt,
// extracted by seedNotificationNames) is observed being posted by the real
// system in the scenario seedNameTable gives it, on each host it names —
// or, not implemented yet, is listed there with the issue that brings it
// and must not be posted. The transfer names of the reference that the
// seed's text lacks (referenceNameTable) are observed the same way.
func TestSeedNamesObserved(t *testing.T) {
	names := loadSeedNames(t)
	dir := seedPlugins(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	aliceDoc := seedDocument(hostAlice, "PCMA", "PCMU")
	aliceDoc.Settings.Logs.TraceMSRP = true
	bobDoc := seedDocument(hostBob, "PCMU", "PCMA")
	bobDoc.Settings.Chat.MaxMessageSize = seedMaxMessageSize
	alice := startSeedHost(t, ctx, hostAlice, dir, aliceDoc, []engine.Listen{
		{Transport: engine.TransportUDP, Address: "127.0.0.1:0"},
		{Transport: engine.TransportTLS, Address: "127.0.0.1:0"}, // no certificate: FailedToStartTLS
	})
	bob := startSeedHost(t, ctx, hostBob, dir, bobDoc, loopback)
	carol := startSeedHost(t, ctx, hostCarol, dir, seedDocument(hostCarol, "PCMU", "PCMA"), loopback)
	hosts := map[string]*seedHost{hostAlice: alice, hostBob: bob, hostCarol: carol}

	// Notifications reach the recorders asynchronously: marks are taken
	// once the centers delivered what was posted so far.
	marks := func() map[string]int {
		m := map[string]int{}
		for host, h := range hosts {
			if err := h.app.Center().Flush(ctx); err != nil {
				t.Fatalf("%s: Flush: %v", host, err)
			}
			m[host] = h.mark()
		}
		return m
	}
	started := marks()
	windows := []window{
		{scnLifecycle, hostAlice, 0, started[hostAlice]},
		{scnLifecycle, hostBob, 0, started[hostBob]},
	}
	run := func(scenario string, fn func(t *testing.T)) {
		begin := marks()
		if t.Run("scenario/"+scenario, fn) {
			// The scenario's names may still be on their way: wait for
			// them (the table's subtests below report those missing).
			awaitScenario(hosts, begin, scenario)
		}
		for host, end := range marks() {
			windows = append(windows, window{scenario, host, begin[host], end})
		}
	}
	run(scnCall, func(t *testing.T) { seedCall(t, ctx, alice, bob) })
	run(scnRejected, func(t *testing.T) { seedRejected(t, ctx, alice, bob) })
	run(scnCrash, func(t *testing.T) { seedCrash(t, ctx, alice, bob) })
	run(scnICE, func(t *testing.T) { seedICE(t, ctx, alice, bob) })
	run(scnSilentPeer, func(t *testing.T) { seedSilentPeer(t, ctx, alice) })
	run(scnTransfer, func(t *testing.T) { seedTransfer(t, ctx, alice, bob, carol) })
	run(scnAttendedTransfer, func(t *testing.T) { seedAttendedTransfer(t, ctx, alice, bob, carol) })
	run(scnTransferFailures, func(t *testing.T) { seedTransferFailures(t, ctx, alice, bob) })

	stopping := marks()
	for _, h := range []*seedHost{alice, bob, carol} {
		if err := h.app.Stop(ctx); err != nil {
			t.Errorf("%s: Stop: %v", h.name, err)
		}
	}
	for host, h := range marks() {
		windows = append(windows, window{scnLifecycle, host, stopping[host], h})
	}

	observed := func(scenario, host, name string) bool {
		all := hosts[host].rec.All()
		for _, w := range windows {
			if w.scenario != scenario || w.host != host {
				continue
			}
			for _, n := range all[w.from:w.to] {
				if n.Name == name {
					return true
				}
			}
		}
		return false
	}
	for _, name := range append(names, slices.Sorted(maps.Keys(referenceNameTable))...) {
		t.Run("name/"+name, func(t *testing.T) {
			e, ok := tableEntry(name)
			if !ok {
				t.Fatalf("not in seedNameTable (see TestSeedNameTable)")
			}
			if e.Issue != 0 {
				for host, h := range hosts {
					if slices.Contains(h.namesSince(0), name) {
						t.Errorf("%s posted %s, listed as not implemented (issue %d): give it a scenario", host, name, e.Issue)
					}
				}
				t.Skipf("not implemented yet, brought by issue %d: %s", e.Issue, e.Why)
			}
			for _, host := range e.On {
				if !observed(e.Scenario, host, name) {
					t.Errorf("%s did not post %s in scenario %q", host, name, e.Scenario)
				}
			}
		})
	}
}

// awaitScenario waits, up to seedWait, until every host has recorded
// since its mark each name the table gives to scenario for it.
func awaitScenario(hosts map[string]*seedHost, marks map[string]int, scenario string) {
	ctx, cancel := context.WithTimeout(context.Background(), seedWait)
	defer cancel()
	for host, h := range hosts {
		var want []string
		for _, table := range []map[string]seedEntry{seedNameTable, referenceNameTable} {
			for name, e := range table {
				if e.Scenario == scenario && slices.Contains(e.On, host) {
					want = append(want, name)
				}
			}
		}
		_ = h.rec.Wait(ctx, func(ns []notify.Notification) bool {
			seen := map[string]bool{}
			for _, n := range ns[min(marks[host], len(ns)):] {
				seen[n.Name] = true
			}
			for _, name := range want {
				if !seen[name] {
					return false
				}
			}
			return true
		})
	}
}

// seedCall is scenario scnCall.
func seedCall(t *testing.T, ctx context.Context, alice, bob *seedHost) {
	acc := alice.app.Account()
	a0, b0 := alice.mark(), bob.mark()
	audioA := alice.create(t, ctx, audio.Type, acc)
	s := alice.app.Sessions().NewSession()
	if err := s.Connect(ctx, bob.app.Account().URI, []engine.Route{bob.route()}, []session.Stream{audioA}, "seed names"); err != nil {
		t.Fatal(err)
	}
	bs, offered := bob.incoming(t, b0)
	if err := bs.SendRingIndication(); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a0, session.SIPSessionGotRingIndication, from(s))
	if err := bs.Accept(offered); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a0, session.SIPSessionDidStart, from(s))
	bob.await(t, b0, session.SIPSessionDidStart, from(bs))
	audioB := streamOf(t, bs, audio.Type)

	// Bob holds and unholds; his re-offer lists his codecs, PCMU first,
	// so alice's answer (PCMA, her first) changes the codec.
	a1 := alice.mark()
	if err := bs.Hold(); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a1, session.SIPSessionDidChangeHoldState, func(n notify.Notification) bool {
		return n.Sender == s && n.Data.(session.HoldStateData).OnHold
	})
	if err := bs.Unhold(); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a1, session.SIPSessionDidChangeHoldState, func(n notify.Notification) bool {
		return n.Sender == s && !n.Data.(session.HoldStateData).OnHold
	})

	// A DTMF digit to bob; bob records the call.
	b1 := bob.mark()
	if err := audio.SendDTMF(ctx, audioA, "5"); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b1, audio.GotDTMF, nil)
	if _, err := audio.StartRecording(ctx, audioB, filepath.Join(t.TempDir(), "bob.wav")); err != nil {
		t.Fatal(err)
	}
	if _, err := audio.StopRecording(ctx, audioB); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b1, audio.DidStopRecording, nil)

	// Alice proposes chat: bob rejects; she proposes it again: bob
	// accepts.
	b2, a2 := bob.mark(), alice.mark()
	if err := s.AddStreams([]session.Stream{alice.create(t, ctx, chat.Type, acc)}); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b2, session.SIPSessionNewProposal, from(bs))
	if err := bs.RejectProposal(488, ""); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a2, session.SIPSessionProposalRejected, from(s))
	b3, a3 := bob.mark(), alice.mark()
	chatA := alice.create(t, ctx, chat.Type, acc)
	if err := s.AddStreams([]session.Stream{chatA}); err != nil {
		t.Fatal(err)
	}
	p := bob.await(t, b3, session.SIPSessionNewProposal, from(bs))
	if err := bs.AcceptProposal(p.Data.(session.NewProposalData).ProposedStreams); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a3, session.SIPSessionProposalAccepted, from(s))

	// Chat: a message, an is-composing indication, and a message bob's
	// chat.max_message_size refuses (MSRP 413).
	if _, err := chat.SendMessage(ctx, chatA, chat.Message{Content: []byte("hello bob")}); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b3, chat.GotMessage, nil)
	alice.await(t, a3, chat.DidDeliverMessage, nil)
	if _, err := chat.SendComposingIndication(ctx, chatA, chat.StateActive, 0, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b3, chat.GotComposingIndication, nil)
	if _, err := chat.SendMessage(ctx, chatA, chat.Message{Content: bytes.Repeat([]byte("x"), 4*seedMaxMessageSize)}); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a3, chat.DidNotDeliverMessage, nil)

	// Alice proposes an echo stream and, bob not having answered, ends the
	// session: the proposal fails on both sides.
	b4, a4 := bob.mark(), alice.mark()
	if err := s.AddStreams([]session.Stream{alice.create(t, ctx, "echo", acc)}); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b4, session.SIPSessionNewProposal, from(bs))
	s.End()
	alice.await(t, a4, session.SIPSessionDidEnd, from(s))
	bob.await(t, b4, session.SIPSessionDidEnd, from(bs))
}

// seedRejected is scenario scnRejected.
func seedRejected(t *testing.T, ctx context.Context, alice, bob *seedHost) {
	a0, b0 := alice.mark(), bob.mark()
	s := alice.app.Sessions().NewSession()
	st := alice.create(t, ctx, audio.Type, alice.app.Account())
	if err := s.Connect(ctx, bob.app.Account().URI, []engine.Route{bob.route()}, []session.Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	bs, _ := bob.incoming(t, b0)
	if err := bs.Reject(486, "Busy Here"); err != nil {
		t.Fatal(err)
	}
	n := alice.await(t, a0, session.SIPSessionDidFail, from(s))
	if d := n.Data.(session.DidFailData); d.Code != 486 || d.Originator != session.Remote {
		t.Errorf("alice's SIPSessionDidFail %+v, want 486 from the remote", d)
	}
}

// seedCrash is scenario scnCrash.
func seedCrash(t *testing.T, ctx context.Context, alice, bob *seedHost) {
	a0, b0 := alice.mark(), bob.mark()
	s := alice.app.Sessions().NewSession()
	st := alice.create(t, ctx, "echo", alice.app.Account())
	if err := s.Connect(ctx, bob.app.Account().URI, []engine.Route{bob.route()}, []session.Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	bs, offered := bob.incoming(t, b0)
	if err := bs.Accept(offered); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b0, session.SIPSessionDidStart, from(bs))
	pid := 0
	for _, p := range bob.app.Registry().Plugins() {
		if p.File == "sipstreams-plugin-echo" {
			pid = p.PID
		}
	}
	if pid <= 0 {
		t.Fatalf("bob's echo plugin is not running: %+v", bob.app.Registry().Plugins())
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b0, sdk.MediaStreamDidFail, nil)
	alice.await(t, a0, session.SIPSessionDidEnd, from(s))
}

// seedICE is scenario scnICE.
func seedICE(t *testing.T, ctx context.Context, alice, bob *seedHost) {
	a0, b0 := alice.mark(), bob.mark()
	acc, err := alice.app.SessionAccount("alice@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s := alice.app.Sessions().NewSessionAs(acc)
	st := alice.create(t, ctx, audio.Type, acc)
	to := bob.app.Account().URI // bob@127.0.0.1:port: bob's ICE account takes it
	if err := s.Connect(ctx, to, []engine.Route{bob.route()}, []session.Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	bs, offered := bob.incoming(t, b0)
	if err := bs.Accept(offered); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a0, audio.RTPICENegotiationDidSucceed, nil)
	bob.await(t, b0, audio.RTPICENegotiationDidSucceed, nil)
	alice.await(t, a0, session.SIPSessionDidStart, from(s))
	s.End()
	alice.await(t, a0, session.SIPSessionDidEnd, from(s))
	bob.await(t, b0, session.SIPSessionDidEnd, from(bs))
}

// seedSilentPeer is scenario scnSilentPeer.
func seedSilentPeer(t *testing.T, ctx context.Context, alice *seedHost) {
	peer := sipptest.Start(t, ctx, sipptest.Options{Scenario: "testdata/uas_ice_one_component_silent.xml"})
	a0 := alice.mark()
	ice, err := alice.app.SessionAccount("alice@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	acc := *ice
	acc.Settings = maps.Clone(ice.Settings)
	acc.Settings[audio.SettingTimeout] = "1"
	s := alice.app.Sessions().NewSessionAs(&acc)
	st := alice.create(t, ctx, audio.Type, &acc)
	var to sip.Uri
	if err := sip.ParseUri("sip:sipp@127.0.0.1:"+strconv.Itoa(peer.Port()), &to); err != nil {
		t.Fatal(err)
	}
	route := engine.Route{Address: "127.0.0.1", Port: peer.Port(), Transport: engine.TransportUDP}
	if err := s.Connect(ctx, to, []engine.Route{route}, []session.Stream{st}, ""); err != nil {
		t.Fatal(err)
	}
	fail := alice.await(t, a0, audio.RTPICENegotiationDidFail, nil)
	var d audio.ICEFailedData
	raw, _ := fail.Data.(json.RawMessage)
	if err := json.Unmarshal(raw, &d); err != nil || !strings.Contains(d.Reason, "component 2") {
		t.Errorf("ICE failure %v (%v), want a reason naming component 2", fail.Data, err)
	}
	alice.await(t, a0, session.SIPSessionDidStart, from(s))
	alice.await(t, a0, audio.RTPDidTimeout, nil)
	s.End()
	alice.await(t, a0, session.SIPSessionDidEnd, from(s))
	if r := peer.Wait(); r.Successful != 1 || r.Failed != 0 {
		t.Errorf("sipp: %d successful, %d failed calls\n%s", r.Successful, r.Failed, r.Errors)
	}
}

// uri is where the host is called: name@127.0.0.1:port.
func (h *seedHost) uri() sip.Uri {
	r := h.route()
	return sip.Uri{Scheme: "sip", User: h.name, Host: r.Address, Port: r.Port}
}

// seedEchoCall is a call from alice to bob with an echo stream, bob
// accepting: it returns both sides once they started.
func seedEchoCall(t *testing.T, ctx context.Context, alice, bob *seedHost) (as, bs *session.Session) {
	t.Helper()
	a0, b0 := alice.mark(), bob.mark()
	as = alice.app.Sessions().NewSession()
	if err := as.Connect(ctx, bob.uri(), []engine.Route{bob.route()}, []session.Stream{alice.create(t, ctx, "echo", alice.app.Account())}, ""); err != nil {
		t.Fatal(err)
	}
	bs, offered := bob.incoming(t, b0)
	if err := bs.Accept(offered); err != nil {
		t.Fatal(err)
	}
	alice.await(t, a0, session.SIPSessionDidStart, from(as))
	bob.await(t, b0, session.SIPSessionDidStart, from(bs))
	return as, bs
}

// transferProgress is the codes of the SIPSessionTransferGotProgress of s
// recorded by h since from.
func transferProgress(h *seedHost, from int, s *session.Session) []int {
	var codes []int
	for _, n := range h.rec.All()[from:] {
		if n.Name == session.SIPSessionTransferGotProgress && n.Sender == s {
			codes = append(codes, n.Data.(session.TransferProgressData).Code)
		}
	}
	return codes
}

// seedTransfer is scenario scnTransfer.
func seedTransfer(t *testing.T, ctx context.Context, alice, bob, carol *seedHost) {
	ab, ba := seedEchoCall(t, ctx, alice, bob)
	a0, b0, c0 := alice.mark(), bob.mark(), carol.mark()
	if err := ab.Transfer(carol.uri(), nil); err != nil {
		t.Fatal(err)
	}
	in := bob.await(t, b0, session.SIPSessionTransferNewIncoming, from(ba)).Data.(session.TransferNewIncomingData)
	if want := carol.uri(); in.TransferDestination != want.String() {
		t.Errorf("bob is transferred to %s, want %s", in.TransferDestination, want.String())
	}
	if err := ba.AcceptTransfer(); err != nil {
		t.Fatal(err)
	}
	cb, offered := carol.incoming(t, c0)
	if err := cb.Accept(offered); err != nil {
		t.Fatal(err)
	}
	carol.await(t, c0, session.SIPSessionDidStart, from(cb))
	alice.await(t, a0, session.SIPSessionTransferDidEnd, from(ab))
	alice.await(t, a0, session.SIPSessionDidEnd, from(ab))
	bob.await(t, b0, session.SIPSessionTransferDidEnd, from(ba))
	bob.await(t, b0, session.SIPSessionDidEnd, from(ba))
	if codes := transferProgress(alice, a0, ab); len(codes) == 0 || codes[len(codes)-1] != 200 {
		t.Errorf("alice's transfer progress %v, want ... 200", codes)
	}
	// Bob's call with carol, placed for the transfer.
	bc := bob.await(t, b0, session.SIPSessionDidStart, func(n notify.Notification) bool { return n.Sender != ba }).Sender.(*session.Session)
	if info := bc.TransferInfo(); info == nil || !strings.Contains(info.ReferredBy, "alice") {
		t.Errorf("bob's call with carol has transfer info %+v, want alice's Referred-By", info)
	}
	cb.End()
	carol.await(t, c0, session.SIPSessionDidEnd, from(cb))
	bob.await(t, b0, session.SIPSessionDidEnd, from(bc))
}

// seedAttendedTransfer is scenario scnAttendedTransfer.
func seedAttendedTransfer(t *testing.T, ctx context.Context, alice, bob, carol *seedHost) {
	ab, ba := seedEchoCall(t, ctx, alice, bob)
	ac, ca := seedEchoCall(t, ctx, alice, carol)
	a0, b0, c0 := alice.mark(), bob.mark(), carol.mark()
	if err := ab.Transfer(carol.uri(), ac); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b0, session.SIPSessionTransferNewIncoming, from(ba))
	if err := ba.AcceptTransfer(); err != nil {
		t.Fatal(err)
	}
	cb, offered := carol.incoming(t, c0)
	if cb.ReplacedSession() != ca {
		t.Errorf("carol's new session replaces %v, want her call with alice", cb.ReplacedSession())
	}
	if err := cb.Accept(offered); err != nil {
		t.Fatal(err)
	}
	fromTransfer := carol.await(t, c0, session.SIPSessionNewIncomingFromTransfer, from(cb)).Data.(session.IncomingFromTransferData)
	if fromTransfer.ReplacedDialog != ca.DialogID() {
		t.Errorf("SIPSessionNewIncomingFromTransfer names %+v, want carol's dialog with alice %+v", fromTransfer.ReplacedDialog, ca.DialogID())
	}
	carol.await(t, c0, session.SIPSessionDidStart, from(cb))
	carol.await(t, c0, session.SIPSessionDidEnd, from(ca))
	alice.await(t, a0, session.SIPSessionDidEnd, from(ac))
	alice.await(t, a0, session.SIPSessionTransferDidEnd, from(ab))
	alice.await(t, a0, session.SIPSessionDidEnd, from(ab))
	bob.await(t, b0, session.SIPSessionDidEnd, from(ba))
	cb.End()
	carol.await(t, c0, session.SIPSessionDidEnd, from(cb))
	bob.await(t, b0, session.SIPSessionDidEnd, func(n notify.Notification) bool { return n.Sender != ba })
}

// seedTransferFailures is scenario scnTransferFailures.
func seedTransferFailures(t *testing.T, ctx context.Context, alice, bob *seedHost) {
	ab, ba := seedEchoCall(t, ctx, alice, bob)
	a0, b0 := alice.mark(), bob.mark()
	target := sip.Uri{Scheme: "sip", User: "carol", Host: "127.0.0.1", Port: 9}
	if err := ab.Transfer(target, nil); err != nil {
		t.Fatal(err)
	}
	bob.await(t, b0, session.SIPSessionTransferNewIncoming, from(ba))
	if err := ba.RejectTransfer(603, ""); err != nil {
		t.Fatal(err)
	}
	if d := alice.await(t, a0, session.SIPSessionTransferDidFail, from(ab)).Data.(session.TransferProgressData); d.Code != 603 {
		t.Errorf("alice's transfer failed with %+v, want 603", d)
	}
	bob.await(t, b0, session.SIPSessionTransferDidFail, from(ba))
	if ab.State() != session.StateConnected {
		t.Errorf("alice's call is %v after the rejected transfer, want connected", ab.State())
	}
	ab.End()
	alice.await(t, a0, session.SIPSessionDidEnd, from(ab))
	bob.await(t, b0, session.SIPSessionDidEnd, from(ba))

	// An INVITE replacing a dialog bob does not have.
	r := bob.route()
	res := sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_replaces_nomatch.xml", Remote: fmt.Sprintf("%s:%d", r.Address, r.Port),
		Vars: map[string]string{"replaces": "nosuchcall;to-tag=a;from-tag=b"}})
	if res.Successful != 1 || res.Failed != 0 {
		t.Errorf("sipp: %d successful, %d failed (want its INVITE answered 481)\n%s\n%s", res.Successful, res.Failed, res.Errors, res.Messages)
	}
	d := bob.await(t, b0, session.SIPSessionNewIncomingTransferFailed, nil).Data.(session.IncomingFromTransferFailedData)
	if !strings.Contains(d.Reason, "nosuchcall") {
		t.Errorf("SIPSessionNewIncomingFromTransferFailed %+v, want a reason naming the Replaces", d)
	}
}
