package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

const callHelp = `commands: /hold, /unhold, ` + proposalHelp + `, ` + mediaHelp + `, /invoke [TYPE.]METHOD [JSON-ARGS], /end`

// cmdCall calls a URI with streams of the given types and prints the
// session's notifications. It hangs up after --hangup-after, on /end or on
// SIGINT; it exits 0 when the session started and ended, 1 when it failed.
func cmdCall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &callSpec{console: true}
	var streams stringList
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	c.media.register(fs)
	fs.Var(&streams, "stream", "stream `type` to offer (repeatable)")
	withAudio := fs.Bool("audio", false, "offer an audio stream (same as --stream audio)")
	withChat := fs.Bool("chat", false, "offer a chat stream (same as --stream chat)")
	fs.BoolVar(&c.untilDelivered, "until-delivered", false, "end the session once every --message got its delivery report (exit 1 if one was not delivered)")
	fs.DurationVar(&c.hangupAfter, "hangup-after", 0, "end the session this long after it started (0: never)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: sipstreams call URI --stream TYPE [--stream TYPE...] | --audio | --chat [flags]")
		return 2
	}
	if *withAudio {
		streams = append(streams, "audio")
	}
	if *withChat {
		streams = append(streams, "chat")
	}
	if len(streams) == 0 {
		fmt.Fprintln(stderr, "sipstreams: call needs at least one --stream TYPE (or --audio, --chat)")
		return 2
	}
	c.streams = streams
	if err := c.media.check(); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	if err := c.resolve(pos[0]); err != nil {
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
	unsub := app.Center().Subscribe(pr, "", nil)
	defer func() {
		_ = stopApplication(app, stderr)
		unsub()
	}()
	if err := app.Start(ctx, st); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
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
	defer call.Close() // ends the streams of a call that never went out
	s := call.Session()
	events := make(chan notify.Notification, 16)
	defer app.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		switch n.Name {
		case session.SIPSessionDidStart, session.SIPSessionDidFail, session.SIPSessionDidEnd:
			events <- n
		}
	}), "", s)()
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
	started, ending, mediaFailed, screenFailed := false, false, false, false
	var endBy <-chan time.Time // bounds the wait once we asked to end
	hangUp := func() {
		if !ending {
			ending = true
			s.End()
			endBy = time.After(15 * time.Second)
		}
	}
	sig := ctx.Done()
	for {
		select {
		case <-sig:
			sig = nil
			hangUp()
		case <-giveUp:
			if !started {
				fmt.Fprintf(stderr, "sipstreams: no answer within %v\n", c.timeout)
				hangUp()
			}
		case <-hangup:
			hangUp()
		case <-endBy:
			fmt.Fprintln(stderr, "sipstreams: the session did not end in time")
			return 1
		case line, ok := <-lines:
			if !ok {
				lines = nil // stdin closed: keep the call
				continue
			}
			cmd, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch cmd {
			case "":
			case "/invoke":
				invoke(ctx, s, rest, pr, stderr)
			case "/end":
				hangUp()
			case "/hold":
				printCommandError(stderr, cmd, s.Hold())
			case "/unhold":
				printCommandError(stderr, cmd, s.Unhold())
			default:
				if !proposalCommand(ctx, app, s, cmd, rest, stderr) && !mediaCommand(ctx, s, line, pr, stderr) {
					fmt.Fprintln(stderr, callHelp)
				}
			}
		case n := <-events:
			switch n.Name {
			case session.SIPSessionDidStart:
				started = true
				ids, err := c.media.sessionStarted(ctx, s, pr, stderr)
				if err != nil {
					// A --play or --record that cannot be applied ends
					// the call, which then fails.
					mediaFailed = true
					hangUp()
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
					hangUp()
				case c.untilDelivered && len(pending) == 0:
					hangUp() // every report came before this
				}
				if c.hangupAfter > 0 {
					t := time.NewTimer(c.hangupAfter)
					defer t.Stop()
					hangup = t.C
				}
			case session.SIPSessionDidFail:
				d, _ := n.Data.(session.DidFailData)
				fmt.Fprintf(stderr, "sipstreams: call to %s failed: %s\n", c.target.String(), failureText(d))
				return 1
			case session.SIPSessionDidEnd:
				if !started || undelivered > 0 || mediaFailed || screenFailed {
					return 1
				}
				return 0
			}
		case ev := <-screenEvents:
			if ev.kind == screenEventFailed {
				fmt.Fprintf(stderr, "sipstreams: desktop sharing failed: %s\n", ev.text)
				screenFailed = true
			}
			hangUp()
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
				hangUp()
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
