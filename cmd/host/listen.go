package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/internal/idletrim"
)

const listenHelp = `commands: /accept, /reject [code], /hold, /unhold, ` + proposalHelp + `, ` + fileHelp + `, ` + mediaHelp + `, ` + sessionsHelp + `, /invoke [TYPE.]METHOD [JSON-ARGS], /end, /quit`

// cmdListen starts the application and answers incoming sessions: with
// --auto-answer it accepts every proposed stream; otherwise it rings and
// waits for /accept or /reject on stdin. It runs until ctx is done
// (SIGINT, SIGTERM), /quit, or — without --auto-answer — the end of stdin.
func cmdListen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var af appFlags
	var mf mediaFlags
	var ff fileFlags
	var autoAnswer, acceptTransfers *bool
	var offer stringList
	var debugAddr string
	var sf screenFlags
	var acceptDS *bool
	cf, ok := parseFlags("listen", args, stderr, func(fs *flag.FlagSet) {
		af.register(fs)
		autoAnswer = fs.Bool("auto-answer", false, "accept every incoming session, and every stream proposal of the remote, with all the proposed streams (desktop sharing only with --accept-desktop-sharing)")
		acceptDS = fs.Bool("accept-desktop-sharing", false, "let --auto-answer accept desktop sharing streams: a peer may then view the screen of --vnc, or share its own")
		acceptTransfers = fs.Bool("accept-transfers", false, "accept every transfer (REFER) a peer asks for, without /accept-transfer")
		sf.registerVNC(fs, "the VNC server whose screen a peer viewing ours gets, `HOST:PORT` (or HOST::PORT, HOST:DISPLAY; default: the setting desktop_sharing.vnc_server)")
		sf.registerViewer(fs)
		fs.Var(&offer, "offer", "stream `type` offered to an INVITE without SDP (repeatable; default: audio when loaded, else every type that needs no parameters)")
		mf.register(fs)
		ff.registerListen(fs)
		fs.StringVar(&debugAddr, "debug-addr", "", "serve Go's runtime profiles (goroutine, heap, …) over HTTP on this loopback `ip:port` (port 0 picks one), for diagnosis")
	})
	if !ok {
		return 2
	}
	if debugAddr != "" {
		if err := checkDebugAddr(debugAddr); err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 2
		}
	}
	if err := ff.check(); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	if err := mf.check(); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	vnc, err := sf.vncAddress()
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 2
	}
	st, err := storageFor(af.configDir)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	if vnc != "" {
		st = overrideStorage{Storage: st, apply: func(d *config.Document) { d.Settings.DesktopSharing.VNCServer = vnc }}
	}
	app := newApplication(cf, &af, stderr, nil)
	pr := newPrinter(stdout, af.asJSON)
	pr.hold()
	tr := newTransfers(pr, stdout, af.asJSON)
	unsub := app.Center().Subscribe(pr, "", nil)
	unsubTr := app.Center().Subscribe(tr, "", nil)
	defer func() {
		_ = stopApplication(app, stderr)
		unsubTr()
		tr.Close()
		unsub()
		pr.Close()
	}()

	l := &listener{console: newConsole(ctx, app, pr, stderr, *acceptTransfers), auto: *autoAnswer, acceptDS: *acceptDS, offer: offer, media: &mf, files: &ff,
		mediaFailed: make(chan struct{}, 1)}
	defer app.Center().Subscribe(namedObserver{l.handle, listenerNames}, "", nil)()
	screen := newScreenWatcher(pr, sf.viewer, stdout, stderr)
	defer screen.Close()
	defer app.Center().Subscribe(screen, "", nil)()
	if err := app.Start(ctx, st); err != nil {
		pr.release()
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	warnRefused(app.Registry(), stderr)
	acc := app.Account()
	var addrs []string
	for _, a := range app.Engine().Addrs() {
		addrs = append(addrs, a.String())
		pr.event("listening", map[string]any{"transport": a.Transport, "ip": a.IP.String(), "port": a.Port, "address": a.String()},
			"listening %s %s %d", a.Transport, a.IP, a.Port)
	}
	pr.event("account", map[string]any{"uri": acc.URI.String(), "auto_answer": *autoAnswer, "accept_transfers": *acceptTransfers},
		"listening on %s as %s", strings.Join(addrs, " "), acc.URI.String())
	if debugAddr != "" {
		d, err := serveDebug(debugAddr, func() []figure {
			return sipFigures(app.Engine().Stats(), app.Sessions().OverloadStats(), app.Sessions().Len())
		})
		if err != nil {
			pr.release()
			fmt.Fprintf(stderr, "sipstreams: --debug-addr: %v\n", err)
			return 1
		}
		defer d.Close()
		pr.event("debug", map[string]any{"url": d.url}, "debug %s", d.url)
	}
	if !*autoAnswer {
		pr.say("%s", listenHelp)
	}
	pr.release()

	// Memory a load left behind goes back to the kernel once it is over.
	trimCtx, stopTrim := context.WithCancel(ctx)
	var trimmer sync.WaitGroup
	trimmer.Go(func() { newIdleTrimmer(app.Sessions(), l.ss.prune).Run(trimCtx, idletrim.Tick) })
	defer func() {
		stopTrim()
		trimmer.Wait()
	}()

	done := make(chan struct{})
	defer close(done)
	lines := readLines(stdin, done)
	for {
		select {
		case <-ctx.Done():
			return 0
		case ev := <-screen.events:
			// The viewer left or its command exited: the session
			// carrying the stream has nothing more to show.
			if ev.kind == screenEventEnded {
				if s := l.sessionOf(ev.stream); s != nil {
					l.pr.say("ending the session: %s", ev.text)
					s.End()
				}
			}
		case <-l.mediaFailed:
			// A --play or --record that could not be applied (printed,
			// its session ended) fails the command.
			return 1
		case r := <-tr.results:
			l.fileTransferEnded(r)
		case line, ok := <-lines:
			if !ok {
				if *autoAnswer || ff.acceptDir != "" || ff.serveDir != "" {
					lines = nil // keep running until a signal
					continue
				}
				return 0
			}
			if l.command(line) {
				return 0
			}
		}
	}
}

// listener answers incoming sessions; its console keeps them and the
// current one for the stdin commands.
type listener struct {
	*console
	auto bool
	// acceptDS lets auto lead to desktop sharing streams.
	acceptDS bool
	offer    []string // the types of our offer to an INVITE without SDP
	media    *mediaFlags
	files    *fileFlags
	// mediaFailed gets a value when a media option failed on a session.
	mediaFailed chan struct{}
}

// answer accepts the incoming session s with streams, those it proposed
// that we take: the file transfers among them readied (a pull that cannot
// be served left out, and the session refused 488 when nothing is left);
// for an INVITE without SDP (no streams), with streams of ours.
func (l *listener) answer(s *session.Session, streams []session.Stream) error {
	if len(streams) == 0 {
		return l.app.Answer(l.ctx, s, l.offer...)
	}
	accepted := l.files.prepare(l.ctx, streams, l.files.acceptDir, l.stderr)
	if len(accepted) == 0 {
		_ = s.Reject(488, "")
		return errors.New("no stream of the offer can be accepted")
	}
	return s.Accept(accepted)
}

// acceptProposal accepts the remote's proposal on s, its file transfers
// readied.
func (l *listener) acceptProposal(s *session.Session, proposed []session.Stream) {
	accepted := l.files.prepare(l.ctx, proposed, l.files.acceptDir, l.stderr)
	var err error
	if len(accepted) == 0 {
		err = s.RejectProposal(488, "")
	} else {
		err = s.AcceptProposal(accepted)
	}
	if err != nil {
		fmt.Fprintf(l.stderr, "sipstreams: accept proposal: %v\n", err)
	}
}

// listenerNames are the notifications listener.handle and console.observe
// act on: a case added to either switch belongs here too.
var listenerNames = namesOf(
	session.SIPSessionNewIncoming, session.SIPSessionNewProposal, session.SIPSessionDidStart, // handle
	session.SIPSessionNewOutgoing, session.SIPSessionTransferNewIncoming, session.SIPSessionTransferDidEnd, // observe
	session.SIPSessionTransferDidFail, session.SIPSessionDidEnd, session.SIPSessionDidFail,
)

// namedObserver is a function observer that takes only names (a
// notify.NameFilter: the others are not even queued for it).
type namedObserver struct {
	f     func(notify.Notification)
	names map[string]bool
}

func (o namedObserver) HandleNotification(n notify.Notification) { o.f(n) }
func (o namedObserver) Wants(name string) bool                   { return o.names[name] }

func namesOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (l *listener) handle(n notify.Notification) {
	s, ok := n.Sender.(*session.Session)
	if !ok {
		return
	}
	if l.observe(n) {
		return // a session replacing one of ours: answered
	}
	switch n.Name {
	case session.SIPSessionNewIncoming:
		d := n.Data.(session.NewIncomingData)
		if l.auto || l.files.handles(l.ctx, d.Streams) {
			// The proposed streams — but desktop sharing only with
			// --accept-desktop-sharing — or for an INVITE without SDP
			// streams of ours making the offer.
			keep, refused := withoutDesktopSharing(d.Streams, l.acceptDS)
			if len(refused) > 0 {
				l.pr.say("leaving out %d desktop sharing stream(s) from %s (--accept-desktop-sharing accepts them)", len(refused), s.RemoteIdentity())
				if len(keep) == 0 {
					_ = s.Reject(488, "Not Acceptable Here")
					return
				}
			}
			l.ss.setCurrent(s)
			if !slices.ContainsFunc(keep, isFile) {
				if err := l.answer(s, keep); err != nil {
					fmt.Fprintf(l.stderr, "sipstreams: accept: %v\n", err)
				}
				return
			}
			// Not on the notification goroutine: the file transfers are
			// readied by calls to their plugin.
			go func() {
				if err := l.answer(s, keep); err != nil {
					fmt.Fprintf(l.stderr, "sipstreams: accept: %v\n", err)
				}
			}()
			return
		}
		if !l.ss.setCurrentIfNone(s) {
			_ = s.Reject(486, "Busy Here")
			return
		}
		_ = s.SendRingIndication()
		if len(d.Streams) == 0 {
			l.pr.say("incoming session from %s without an offer: /accept (with streams of ours) or /reject [code]", s.RemoteIdentity())
			return
		}
		l.pr.say("incoming session from %s with %s: /accept or /reject [code]", s.RemoteIdentity(), strings.Join(streamTypes(d.Streams), ", "))
		if files := offered(l.ctx, d.Streams); files != "" {
			l.pr.say("%s", files)
		}
	case session.SIPSessionNewProposal:
		// --auto-answer accepts the remote's proposals as it accepts
		// sessions: with every proposed stream (desktop sharing only
		// with --accept-desktop-sharing).
		d := n.Data.(session.NewProposalData)
		if d.Originator != session.Remote {
			return
		}
		if l.auto || l.files.handles(l.ctx, d.ProposedStreams) {
			keep, refused := withoutDesktopSharing(d.ProposedStreams, l.acceptDS)
			go func() {
				if len(keep) == 0 {
					l.pr.say("refusing a desktop sharing proposal (--accept-desktop-sharing accepts it)")
					if err := s.RejectProposal(488, "Not Acceptable Here"); err != nil {
						fmt.Fprintf(l.stderr, "sipstreams: reject proposal: %v\n", err)
					}
					return
				}
				if len(refused) > 0 {
					l.pr.say("leaving out %d desktop sharing stream(s) from the proposal (--accept-desktop-sharing accepts them)", len(refused))
				}
				l.acceptProposal(s, keep)
			}()
			return
		}
		go func() {
			if files := offered(l.ctx, d.ProposedStreams); files != "" {
				l.pr.say("%s\n/accept-proposal or /reject-proposal [code]", files)
			}
		}()
	case session.SIPSessionDidStart:
		// Not on the notification goroutine: the media calls wait for
		// the plugins.
		record := recordName(l.media.record, l.ss.number(s))
		if !l.media.applies(record, true) {
			return
		}
		go func() {
			if _, err := l.media.sessionStarted(l.ctx, s, record, true, l.pr, l.stderr); err != nil {
				s.End()
				select {
				case l.mediaFailed <- struct{}{}:
				default:
				}
			}
		}()
	}
}

// command runs one stdin line; it reports whether to quit.
func (l *listener) command(line string) (quit bool) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return false
	}
	if fields[0] == "/quit" {
		return true
	}
	_, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	if l.console.command(fields[0], rest) {
		return false
	}
	s := l.ss.current()
	if s == nil {
		s = l.waiting()
	}
	if s == nil && fields[0] != "/help" {
		fmt.Fprintln(l.stderr, "sipstreams: no session")
		return false
	}
	var err error
	switch fields[0] {
	case "/accept":
		err = l.answer(s, s.ProposedStreams())
	case "/send-file":
		l.sendFile(s, rest)
	case "/reject":
		code := 486
		if len(fields) > 1 {
			if code, err = strconv.Atoi(fields[1]); err != nil {
				break
			}
		}
		err = s.Reject(code, "")
	case "/hold":
		err = s.Hold()
	case "/unhold":
		err = s.Unhold()
	case "/end":
		s.End()
	case "/invoke":
		invoke(context.Background(), s, rest, l.pr, l.stderr)
	default:
		if !proposalCommand(context.Background(), l.app, s, fields[0], rest, l.files, l.stderr) && !mediaCommand(context.Background(), s, line, l.pr, l.stderr) {
			fmt.Fprintln(l.stderr, listenHelp)
		}
	}
	printCommandError(l.stderr, fields[0], err)
	return false
}

// waiting returns, when there is no current session, the one session
// that has not ended, made current: a session the manager posted
// SIPSessionNewIncoming for, whose notification the listener's observer
// has not handled yet while the printer already showed it (they run on
// goroutines of their own), so that a command answering that line finds
// it, as it would a moment later. Nil when there is none or more than one.
func (l *listener) waiting() *session.Session {
	m := l.app.Sessions()
	if m == nil {
		return nil
	}
	var found *session.Session
	for _, s := range m.Sessions() {
		if st := s.State(); st == session.StateTerminating || st == session.StateTerminated {
			continue
		}
		if found != nil {
			return nil
		}
		found = s
	}
	if found == nil || !l.ss.setCurrentIfNone(found) {
		return nil
	}
	return found
}
