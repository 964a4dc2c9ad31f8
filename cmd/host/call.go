package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

const callHelp = `commands: /hold, /unhold, ` + proposalHelp + `, ` + fileHelp + `, ` + mediaHelp + `, ` + sessionsHelp + `, /invoke [TYPE.]METHOD [JSON-ARGS], /end`

// cmdCall calls a URI with streams of the given types and prints the
// session's notifications. It hangs up after --hangup-after, on /end or on
// SIGINT; it exits once no session is left (a /call or a transfer adds
// sessions): 0 when the call started, 1 when it failed.
func cmdCall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &callSpec{console: true}
	var streams stringList
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	c.media.register(fs)
	c.files.registerCall(fs)
	fs.BoolVar(&c.untilTransferred, "until-transferred", false, "end the session once every --file and --pull transfer ended (exit 1 if one failed)")
	fs.Var(&streams, "stream", "stream `type` to offer (repeatable)")
	withAudio := fs.Bool("audio", false, "offer an audio stream (same as --stream audio)")
	withChat := fs.Bool("chat", false, "offer a chat stream (same as --stream chat)")
	fs.BoolVar(&c.untilDelivered, "until-delivered", false, "end the session once every --message got its delivery report (exit 1 if one was not delivered)")
	fs.DurationVar(&c.hangupAfter, "hangup-after", 0, "end the session this long after it started (0: never)")
	fs.BoolVar(&c.acceptTransfers, "accept-transfers", false, "accept every transfer (REFER) the peer asks for, without /accept-transfer")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: sipstreams call URI --stream TYPE [--stream TYPE...] | --audio | --chat | --file FILE | --pull NAME [flags]")
		return 2
	}
	if *withAudio {
		streams = append(streams, "audio")
	}
	if *withChat {
		streams = append(streams, "chat")
	}
	if len(streams) == 0 && !c.files.any() {
		fmt.Fprintln(stderr, "sipstreams: call needs at least one --stream TYPE (or --audio, --chat, --file, --pull)")
		return 2
	}
	c.streams = streams
	return c.run(ctx, pos[0], stdin, stdout, stderr, c.files.check, c.media.check)
}

// run is the end of call, message and send-file: it checks c's inputs
// (exit 1 for an error), resolves the target URI (exit 2) and makes the
// call.
func (c *callSpec) run(ctx context.Context, target string, stdin io.Reader, stdout, stderr io.Writer, checks ...func() error) int {
	for _, check := range checks {
		if err := check(); err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 1
		}
	}
	if err := c.resolve(target); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 2
	}
	return runCall(ctx, c, stdin, stdout, stderr)
}

// runCall makes the call c and runs it: its event loop takes the
// session's outcome, the chat delivery reports, the timers and, with a
// console, the commands of stdin. It returns the exit code.
func runCall(ctx context.Context, c *callSpec, stdin io.Reader, stdout, stderr io.Writer) int {
	st, err := storageFor(c.app.configDir)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	app := c.newApplication(stderr)
	pr := newPrinter(stdout, c.app.asJSON)
	tr := newTransfers(pr, stdout, c.app.asJSON)
	unsub := app.Center().Subscribe(pr, "", nil)
	unsubTr := app.Center().Subscribe(tr, "", nil)
	defer func() {
		_ = stopApplication(app, stderr)
		unsubTr()
		tr.Close()
		unsub()
		pr.Close()
	}()
	if err := app.Start(ctx, st); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	warnRefused(app.Registry(), stderr)
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	call, err := app.NewCall(lctx, c.target, c.callOptions()...)
	cancel()
	switch {
	case errors.Is(err, account.ErrNotFound):
		fmt.Fprintf(stderr, "sipstreams: --account: %v\n", err)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	defer call.Close()  // ends the streams of a call that never went out
	s := call.Session() // the command's call: session 1
	con := newConsole(ctx, app, pr, stderr, c.acceptTransfers)
	con.account = c.account
	con.ss.setCurrent(s)
	// One observer keeps the sessions and feeds the loop, so the loop
	// sees every session the observer numbered before its end.
	events := make(chan notify.Notification, 16)
	stopEvents := make(chan struct{})
	defer app.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		ns, ok := n.Sender.(*session.Session)
		if !ok {
			return
		}
		answered := con.observe(n)
		switch n.Name {
		case session.SIPSessionNewIncoming:
			if !answered {
				// call answers only a session that replaces one of its
				// own (an attended transfer).
				_ = ns.Reject(486, "Busy Here")
			}
		case session.SIPSessionDidStart, session.SIPSessionDidFail, session.SIPSessionDidEnd:
			select {
			case events <- n:
			case <-stopEvents:
			}
		}
	}), "", nil)()
	defer close(stopEvents)
	var screenEvents <-chan screenEvent
	if c.screen != nil {
		w := newScreenWatcher(pr, c.screen.viewer, stdout, stderr)
		defer w.Close()
		defer app.Center().Subscribe(w, "", nil)()
		screenEvents = w.events
	}
	deliveries := make(chan chat.DeliveryData, 64)
	deliveryDone := make(chan struct{})
	defer close(deliveryDone)
	defer app.Center().Subscribe(deliveryObserver(deliveries, deliveryDone), "", nil)()

	pending := map[string]bool{} // Message-IDs waiting for their report
	for _, typ := range c.streams {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		st, err := call.AddStream(cctx, typ, application.WithParams(c.params[typ]))
		if err == nil && typ == chat.Type && !c.media.queued {
			// The chat stream queues the messages until it starts.
			for _, id := range c.media.queueMessages(cctx, st, pr, stderr) {
				pending[id] = true
			}
		}
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 1
		}
	}
	own := map[session.Stream]bool{} // the call's file transfers not ended yet
	for _, p := range c.files.params() {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		st, err := call.AddStream(cctx, filetransfer.Type, application.WithParams(p))
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 1
		}
		own[st] = true
	}
	failedTransfers := 0
	sent, undelivered := len(pending), 0
	pr.say("calling %s over %s; %s", c.target.String(), call.Routes()[0], callHelp)
	if err := call.Connect(ctx); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}

	done := make(chan struct{})
	defer close(done)
	var lines <-chan string
	if c.console {
		lines = readLines(stdin, done)
	}
	var hangup, giveUp <-chan time.Time
	if c.timeout > 0 {
		t := time.NewTimer(c.timeout)
		defer t.Stop()
		giveUp = t.C
	}
	started, failed, mediaFailed, screenFailed := false, false, false, false
	var endBy <-chan time.Time // bounds the wait once we asked to end the last sessions
	end := func(list ...*session.Session) {
		for _, x := range list {
			x.End()
		}
		for _, x := range con.ss.live() {
			if !slices.Contains(list, x) {
				return // others go on
			}
		}
		if endBy == nil {
			endBy = time.After(15 * time.Second)
		}
	}
	exitCode := func() int {
		if !started || failed || undelivered > 0 || mediaFailed || screenFailed || failedTransfers > 0 || (c.untilTransferred && len(own) > 0) {
			return 1
		}
		return 0
	}
	sig := ctx.Done()
	for {
		select {
		case <-sig:
			sig = nil
			end(con.ss.live()...)
		case <-giveUp:
			if !started {
				fmt.Fprintf(stderr, "sipstreams: no answer within %v\n", c.timeout)
				end(s)
			}
		case <-hangup:
			end(s)
		case <-endBy:
			fmt.Fprintln(stderr, "sipstreams: the session did not end in time")
			return 1
		case line, ok := <-lines:
			if !ok {
				lines = nil // stdin closed: keep the call
				continue
			}
			cmd, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			if cmd == "" || con.command(cmd, rest) {
				continue
			}
			cur := con.ss.current()
			if cur == nil {
				fmt.Fprintln(stderr, "sipstreams: no session")
				continue
			}
			switch cmd {
			case "/invoke":
				invoke(ctx, cur, rest, pr, stderr)
			case "/end":
				end(cur)
			case "/hold":
				printCommandError(stderr, cmd, cur.Hold())
			case "/unhold":
				printCommandError(stderr, cmd, cur.Unhold())
			case "/send-file":
				con.sendFile(cur, rest)
			default:
				if !proposalCommand(ctx, app, cur, cmd, rest, &c.files, stderr) && !mediaCommand(ctx, cur, line, pr, stderr) {
					fmt.Fprintln(stderr, callHelp)
				}
			}
		case r := <-tr.results:
			// A file /send-file sent in a running session leaves it
			// once done.
			con.fileTransferEnded(r)
			if own[r.Stream] {
				delete(own, r.Stream)
				if r.Error {
					failedTransfers++
				}
				if len(own) == 0 && c.untilTransferred && started {
					end(s)
				}
			}
		case n := <-events:
			ns := n.Sender.(*session.Session)
			switch n.Name {
			case session.SIPSessionDidStart:
				if ns != s {
					// A session of a /call or a transfer: the media
					// options, without the chat messages.
					if _, err := c.media.sessionStarted(ctx, ns, recordName(c.media.record, con.ss.number(ns)), false, pr, stderr); err != nil {
						mediaFailed = true
						end(ns)
					}
					continue
				}
				started = true
				ids, err := c.media.sessionStarted(ctx, s, c.media.record, true, pr, stderr)
				if err != nil {
					// A --play or --record that cannot be applied ends
					// the call, which then fails.
					mediaFailed = true
					end(s)
					continue
				}
				for _, id := range ids {
					pending[id] = true
					sent++
				}
				switch {
				case c.untilDelivered && sent == 0:
					fmt.Fprintln(stderr, "sipstreams: no message could be sent")
					undelivered++
					end(s)
				case c.untilDelivered && len(pending) == 0:
					end(s) // every report came before this
				case c.untilTransferred && len(own) == 0:
					end(s) // every transfer ended before this
				}
				if c.hangupAfter > 0 {
					t := time.NewTimer(c.hangupAfter)
					defer t.Stop()
					hangup = t.C
				}
			case session.SIPSessionDidFail:
				d, _ := n.Data.(session.DidFailData)
				if ns == s {
					failed = true
					fmt.Fprintf(stderr, "sipstreams: call to %s failed: %s\n", c.target.String(), failureText(d))
				} else {
					fmt.Fprintf(stderr, "sipstreams: session %d to %s failed: %s\n", con.ss.number(ns), ns.RemoteIdentity(), failureText(d))
				}
				if len(con.ss.live()) == 0 {
					return exitCode()
				}
			case session.SIPSessionDidEnd:
				if len(con.ss.live()) == 0 {
					return exitCode()
				}
			}
		case ev := <-screenEvents:
			if ev.kind == screenEventFailed {
				fmt.Fprintf(stderr, "sipstreams: desktop sharing failed: %s\n", ev.text)
				screenFailed = true
			}
			// The viewer left, its command exited or the VNC side
			// failed: the session carrying the stream ends.
			if x := con.sessionOf(ev.stream); x != nil {
				end(x)
			} else {
				end(s)
			}
		case d := <-deliveries:
			if !pending[d.MessageID] {
				continue
			}
			delete(pending, d.MessageID)
			if d.Code != 200 {
				undelivered++
				fmt.Fprintf(stderr, "sipstreams: message %s not delivered: %d %s\n", d.MessageID, d.Code, d.Reason)
			}
			if c.untilDelivered && len(pending) == 0 && started {
				end(s)
			}
		}
	}
}

// deliveryObserver sends the delivery reports of chat messages to out
// (until done is closed); a report of non-delivery without a code gets
// code -1.
func deliveryObserver(out chan<- chat.DeliveryData, done <-chan struct{}) notify.Observer {
	return notify.ObserverFunc(func(n notify.Notification) {
		if n.Name != chat.DidNotDeliverMessage && n.Name != chat.DidDeliverMessage {
			return
		}
		raw, ok := n.Data.(json.RawMessage)
		if !ok {
			return
		}
		var d chat.DeliveryData
		if json.Unmarshal(raw, &d) != nil {
			return
		}
		if n.Name == chat.DidNotDeliverMessage && d.Code == 0 {
			d.Code = -1 // not delivered, whatever the reason
		}
		select {
		case out <- d:
		case <-done:
		}
	})
}

// failureText reads SIPSessionDidFail: "486 Busy Here" or the failure
// reason when no response came.
func failureText(d session.DidFailData) string {
	switch {
	case d.Code != 0 && d.FailureReason != "" && d.FailureReason != d.Reason:
		return fmt.Sprintf("%d %s (%s)", d.Code, d.Reason, d.FailureReason)
	case d.Code != 0:
		return fmt.Sprintf("%d %s", d.Code, d.Reason)
	case d.FailureReason != "":
		return d.FailureReason
	}
	return "unknown failure"
}
