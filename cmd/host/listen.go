package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
)

const listenHelp = `commands: /accept, /reject [code], /hold, /unhold, ` + proposalHelp + `, ` + fileHelp + `, ` + mediaHelp + `, /invoke [TYPE.]METHOD [JSON-ARGS], /end, /quit`

// cmdListen starts the application and answers incoming sessions: with
// --auto-answer it accepts every proposed stream; otherwise it rings and
// waits for /accept or /reject on stdin. It runs until ctx is done
// (SIGINT, SIGTERM), /quit, or — without --auto-answer — the end of stdin.
func cmdListen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var af appFlags
	var mf mediaFlags
	var ff fileFlags
	var autoAnswer *bool
	var offer stringList
	cf, ok := parseFlags("listen", args, stderr, func(fs *flag.FlagSet) {
		af.register(fs)
		autoAnswer = fs.Bool("auto-answer", false, "accept every incoming session, and every stream proposal of the remote, with all the proposed streams")
		fs.Var(&offer, "offer", "stream `type` offered to an INVITE without SDP (repeatable; default: audio when loaded, else every type that needs no parameters)")
		mf.register(fs)
		ff.registerListen(fs)
	})
	if !ok {
		return 2
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

	l := &listener{pr: pr, auto: *autoAnswer, offer: offer, stderr: stderr, app: app, media: &mf, files: &ff, ctx: ctx,
		mediaFailed: make(chan struct{}, 1), proposed: map[session.Stream]*session.Session{}}
	defer app.Center().Subscribe(notify.ObserverFunc(l.handle), "", nil)()
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
		case <-l.mediaFailed:
			// A --play or --record that could not be applied (printed,
			// its session ended) fails the command.
			return 1
		case r := <-tr.results:
			l.transferEnded(r)
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

// listener answers incoming sessions and keeps the current one for the
// stdin commands.
type listener struct {
	pr     *printer
	auto   bool
	offer  []string // the types of our offer to an INVITE without SDP
	stderr io.Writer
	app    *application.Application
	media  *mediaFlags
	files  *fileFlags
	ctx    context.Context // the command's: bounds what the listener starts
	// mediaFailed gets a value when a media option failed on a session.
	mediaFailed chan struct{}

	mu       sync.Mutex
	cur      *session.Session                    // the session the commands apply to
	proposed map[session.Stream]*session.Session // file streams we added with /send-file
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

// transferEnded removes a file stream we added to a running session once
// its transfer ended.
func (l *listener) transferEnded(r transferResult) {
	l.mu.Lock()
	s := l.proposed[r.Stream]
	delete(l.proposed, r.Stream)
	l.mu.Unlock()
	if s != nil && s.State() == session.StateConnected {
		printCommandError(l.stderr, "/send-file", s.RemoveStreams([]session.Stream{r.Stream}))
	}
}

func (l *listener) handle(n notify.Notification) {
	s, ok := n.Sender.(*session.Session)
	if !ok {
		return
	}
	switch n.Name {
	case session.SIPSessionNewIncoming:
		d := n.Data.(session.NewIncomingData)
		if l.auto || l.files.handles(l.ctx, d.Streams) {
			// The proposed streams, or for an INVITE without SDP
			// streams of ours making the offer. Not on the
			// notification goroutine: the file transfers are readied
			// by calls to their plugin.
			l.setCurrent(s)
			go func() {
				if err := l.answer(s); err != nil {
					fmt.Fprintf(l.stderr, "sipstreams: accept: %v\n", err)
				}
			}()
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
		err = l.answer(s)
	case "/send-file":
		_, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		if st := sendFileCommand(l.ctx, l.app, s, rest, l.stderr); st != nil {
			l.mu.Lock()
			l.proposed[st] = s
			l.mu.Unlock()
		}
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
		if !proposalCommand(context.Background(), l.app, s, fields[0], rest, l.files, l.stderr) && !mediaCommand(context.Background(), s, line, l.pr, l.stderr) {
			fmt.Fprintln(l.stderr, listenHelp)
		}
	}
	printCommandError(l.stderr, fields[0], err)
	return false
}
