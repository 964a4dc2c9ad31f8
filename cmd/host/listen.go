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

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
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
	cf, ok := parseFlags("listen", args, stderr, func(fs *flag.FlagSet) {
		af.register(fs)
		autoAnswer = fs.Bool("auto-answer", false, "accept every incoming session, and every stream proposal of the remote, with all the proposed streams")
		acceptTransfers = fs.Bool("accept-transfers", false, "accept every transfer (REFER) a peer asks for, without /accept-transfer")
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
	st, err := storageFor(af.configDir)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
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
	}()

	l := &listener{console: newConsole(ctx, app, pr, stderr, *acceptTransfers), auto: *autoAnswer, offer: offer, media: &mf, files: &ff, mediaFailed: make(chan struct{}, 1)}
	defer app.Center().Subscribe(notify.ObserverFunc(l.handle), "", nil)()
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
		d, err := serveDebug(debugAddr)
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

	done := make(chan struct{})
	defer close(done)
	lines := readLines(stdin, done)
	for {
		select {
		case <-ctx.Done():
			return 0
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
	auto  bool
	offer []string // the types of our offer to an INVITE without SDP
	media *mediaFlags
	files *fileFlags
	// mediaFailed gets a value when a media option failed on a session.
	mediaFailed chan struct{}
}

// answer accepts the incoming session s: with the proposed streams, the
// file transfers among them readied (a pull that cannot be served left
// out, and the session refused 488 when nothing is left), or, for an
// INVITE without SDP, with streams of ours.
func (l *listener) answer(s *session.Session) error {
	proposed := s.ProposedStreams()
	if len(proposed) == 0 {
		return l.app.Answer(l.ctx, s, l.offer...)
	}
	accepted := l.files.prepare(l.ctx, proposed, l.files.acceptDir, l.stderr)
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
			// The proposed streams, or for an INVITE without SDP
			// streams of ours making the offer.
			l.ss.setCurrent(s)
			if !slices.ContainsFunc(d.Streams, isFile) {
				if err := l.answer(s); err != nil {
					fmt.Fprintf(l.stderr, "sipstreams: accept: %v\n", err)
				}
				return
			}
			// Not on the notification goroutine: the file transfers are
			// readied by calls to their plugin.
			go func() {
				if err := l.answer(s); err != nil {
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
		// sessions: with every proposed stream.
		d := n.Data.(session.NewProposalData)
		if d.Originator != session.Remote {
			return
		}
		if l.auto || l.files.handles(l.ctx, d.ProposedStreams) {
			go l.acceptProposal(s, d.ProposedStreams)
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
	if s == nil && fields[0] != "/help" {
		fmt.Fprintln(l.stderr, "sipstreams: no session")
		return false
	}
	var err error
	switch fields[0] {
	case "/accept":
		err = l.answer(s)
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
