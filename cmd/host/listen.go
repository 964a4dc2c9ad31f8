package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
)

const listenHelp = `commands: /accept, /reject [code], /hold, /unhold, ` + proposalHelp + `, ` + mediaHelp + `, /invoke [TYPE.]METHOD [JSON-ARGS], /end, /quit`

// cmdListen starts the application and answers incoming sessions: with
// --auto-answer it accepts every proposed stream; otherwise it rings and
// waits for /accept or /reject on stdin. It runs until ctx is done
// (SIGINT, SIGTERM), /quit, or — without --auto-answer — the end of stdin.
func cmdListen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var af appFlags
	var mf mediaFlags
	var autoAnswer *bool
	var offer stringList
	var sf screenFlags
	var acceptDS *bool
	cf, ok := parseFlags("listen", args, stderr, func(fs *flag.FlagSet) {
		af.register(fs)
		autoAnswer = fs.Bool("auto-answer", false, "accept every incoming session, and every stream proposal of the remote, with all the proposed streams (desktop sharing only with --accept-desktop-sharing)")
		acceptDS = fs.Bool("accept-desktop-sharing", false, "let --auto-answer accept desktop sharing streams: a peer may then view the screen of --vnc, or share its own")
		sf.registerVNC(fs, "the VNC server whose screen a peer viewing ours gets, `HOST:PORT` (or HOST::PORT, HOST:DISPLAY; default: the setting desktop_sharing.vnc_server)")
		sf.registerViewer(fs)
		fs.Var(&offer, "offer", "stream `type` offered to an INVITE without SDP (repeatable; default: audio when loaded, else every type that needs no parameters)")
		mf.register(fs)
	})
	if !ok {
		return 2
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
	unsub := app.Center().Subscribe(pr, "", nil)
	defer func() {
		_ = stopApplication(app, stderr)
		unsub()
	}()

	l := &listener{pr: pr, auto: *autoAnswer, acceptDS: *acceptDS, offer: offer, stderr: stderr, app: app, media: &mf, ctx: ctx, mediaFailed: make(chan struct{}, 1)}
	defer app.Center().Subscribe(notify.ObserverFunc(l.handle), "", nil)()
	screen := newScreenWatcher(pr, sf.viewer, stdout, stderr)
	defer screen.Close()
	defer app.Center().Subscribe(screen, "", nil)()
	if err := app.Start(ctx, st); err != nil {
		pr.release()
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	acc := app.Account()
	var addrs []string
	for _, a := range app.Engine().Addrs() {
		addrs = append(addrs, a.String())
		pr.event("listening", map[string]any{"transport": a.Transport, "ip": a.IP.String(), "port": a.Port, "address": a.String()},
			"listening %s %s %d", a.Transport, a.IP, a.Port)
	}
	pr.event("account", map[string]any{"uri": acc.URI.String(), "auto_answer": *autoAnswer},
		"listening on %s as %s", strings.Join(addrs, " "), acc.URI.String())
	if !*autoAnswer {
		pr.say("%s", listenHelp)
	}
	pr.release()

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
		case line, ok := <-lines:
			if !ok {
				if *autoAnswer {
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

// listener answers incoming sessions and keeps the current one for the
// stdin commands.
type listener struct {
	pr   *printer
	auto bool
	// acceptDS lets auto lead to desktop sharing streams.
	acceptDS bool
	offer    []string // the types of our offer to an INVITE without SDP
	stderr   io.Writer
	app      *application.Application
	media    *mediaFlags
	ctx      context.Context // the command's: bounds what the listener starts
	// mediaFailed gets a value when a media option failed on a session.
	mediaFailed chan struct{}

	mu  sync.Mutex
	cur *session.Session // the session the commands apply to
}

func (l *listener) handle(n notify.Notification) {
	s, ok := n.Sender.(*session.Session)
	if !ok {
		return
	}
	switch n.Name {
	case session.SIPSessionNewIncoming:
		d := n.Data.(session.NewIncomingData)
		if l.auto {
			// The proposed streams — but desktop sharing only with
			// --accept-desktop-sharing — or for an INVITE without SDP
			// streams of ours making the offer.
			if keep, refused := withoutDesktopSharing(d.Streams, l.acceptDS); len(refused) > 0 {
				l.pr.say("leaving out %d desktop sharing stream(s) from %s (--accept-desktop-sharing accepts them)", len(refused), s.RemoteIdentity())
				if len(keep) == 0 {
					_ = s.Reject(488, "Not Acceptable Here")
					return
				}
				if err := s.Accept(keep); err != nil {
					fmt.Fprintf(l.stderr, "sipstreams: accept: %v\n", err)
				}
				l.setCurrent(s)
				return
			}
			if err := l.app.Answer(l.ctx, s, l.offer...); err != nil {
				fmt.Fprintf(l.stderr, "sipstreams: accept: %v\n", err)
			}
			l.setCurrent(s)
			return
		}
		l.mu.Lock()
		busy := l.cur != nil
		if !busy {
			l.cur = s
		}
		l.mu.Unlock()
		if busy {
			_ = s.Reject(486, "Busy Here")
			return
		}
		_ = s.SendRingIndication()
		if len(d.Streams) == 0 {
			l.pr.say("incoming session from %s without an offer: /accept (with streams of ours) or /reject [code]", s.RemoteIdentity())
			return
		}
		l.pr.say("incoming session from %s with %s: /accept or /reject [code]", s.RemoteIdentity(), strings.Join(streamTypes(d.Streams), ", "))
	case session.SIPSessionNewProposal:
		// --auto-answer accepts the remote's proposals as it accepts
		// sessions: with every proposed stream.
		d := n.Data.(session.NewProposalData)
		if l.auto && d.Originator == session.Remote {
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
				if err := s.AcceptProposal(keep); err != nil {
					fmt.Fprintf(l.stderr, "sipstreams: accept proposal: %v\n", err)
				}
			}()
		}
	case session.SIPSessionDidStart:
		// Not on the notification goroutine: the media calls wait for
		// the plugins.
		go func() {
			if _, err := l.media.sessionStarted(l.ctx, s, l.pr, l.stderr); err != nil {
				s.End()
				select {
				case l.mediaFailed <- struct{}{}:
				default:
				}
			}
		}()
	case session.SIPSessionDidEnd, session.SIPSessionDidFail:
		l.mu.Lock()
		if l.cur == s {
			l.cur = nil
		}
		l.mu.Unlock()
	}
}

// sessionOf returns the session carrying st, or nil.
func (l *listener) sessionOf(st session.Stream) *session.Session {
	mgr := l.app.Sessions()
	if mgr == nil {
		return nil
	}
	for _, s := range mgr.Sessions() {
		for _, x := range s.Streams() {
			if x == st {
				return s
			}
		}
	}
	return nil
}

func (l *listener) setCurrent(s *session.Session) {
	l.mu.Lock()
	l.cur = s
	l.mu.Unlock()
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
	l.mu.Lock()
	s := l.cur
	l.mu.Unlock()
	if s == nil && fields[0] != "/help" {
		fmt.Fprintln(l.stderr, "sipstreams: no session")
		return false
	}
	var err error
	switch fields[0] {
	case "/accept":
		err = l.app.Answer(l.ctx, s, l.offer...)
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
		_, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		invoke(context.Background(), s, rest, l.pr, l.stderr)
	default:
		_, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !proposalCommand(context.Background(), l.app, s, fields[0], rest, l.stderr) && !mediaCommand(context.Background(), s, line, l.pr, l.stderr) {
			fmt.Fprintln(l.stderr, listenHelp)
		}
	}
	printCommandError(l.stderr, fields[0], err)
	return false
}
