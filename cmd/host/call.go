package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

const callHelp = `commands: /hold, /unhold, ` + proposalHelp + `, ` + mediaHelp + `, /invoke [TYPE.]METHOD [JSON-ARGS], /end`

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parseInterspersed parses fs over args, letting positional arguments
// appear among the flags ("call URI --stream echo"); it returns them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseRoute reads "udp:127.0.0.1:5060", "tcp:[::1]:5070".
func parseRoute(v string) (engine.Route, error) {
	l, err := parseListen(v)
	if err != nil {
		return engine.Route{}, err
	}
	host, port, err := net.SplitHostPort(l.Address)
	if err != nil {
		return engine.Route{}, fmt.Errorf("route %q: %v", v, err)
	}
	p, err := strconv.Atoi(port)
	if ip := net.ParseIP(host); ip == nil || err != nil || p <= 0 || p > 65535 {
		return engine.Route{}, fmt.Errorf("route %q is not transport:ip:port", v)
	}
	return engine.Route{Address: host, Port: p, Transport: l.Transport}, nil
}

// parseTarget reads a SIP URI; "bob@host" gets the sip: scheme.
func parseTarget(v string) (sip.Uri, error) {
	if !strings.HasPrefix(v, "sip:") && !strings.HasPrefix(v, "sips:") {
		v = "sip:" + v
	}
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil {
		return u, fmt.Errorf("%q is not a SIP URI: %v", v, err)
	}
	if u.Host == "" {
		return u, fmt.Errorf("%q has no host", v)
	}
	return u, nil
}

// callListen is where the caller listens when --listen is not given: UDP
// and TCP, ephemeral ports, on loopback for a loopback target and on every
// address of the target's family otherwise.
func callListen(host string) []engine.Listen {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	addr := "0.0.0.0"
	switch {
	case ip != nil && ip.IsLoopback() && ip.To4() == nil:
		addr = "::1"
	case ip != nil && ip.IsLoopback():
		addr = "127.0.0.1"
	case ip != nil && ip.To4() == nil:
		addr = "::"
	}
	a := net.JoinHostPort(addr, "0")
	return []engine.Listen{{Transport: engine.TransportUDP, Address: a}, {Transport: engine.TransportTCP, Address: a}}
}

// cmdCall calls a URI with streams of the given types and prints the
// session's notifications. It hangs up after --hangup-after, on /end or on
// SIGINT; it exits 0 when the session started and ended, 1 when it failed.
func cmdCall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var af appFlags
	var streams stringList
	var route, subject *string
	var hangupAfter, timeout *time.Duration
	cf := &commonFlags{}
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf.register(fs)
	af.register(fs)
	fs.Var(&streams, "stream", "stream `type` to offer (repeatable)")
	var mf mediaFlags
	mf.register(fs)
	withAudio := fs.Bool("audio", false, "offer an audio stream (same as --stream audio)")
	withChat := fs.Bool("chat", false, "offer a chat stream (same as --stream chat)")
	untilDelivered := fs.Bool("until-delivered", false, "end the session once every --message got its delivery report (exit 1 if one was not delivered)")
	route = fs.String("route", "", "send to `transport:ip:port` instead of the URI's address")
	accountID := fs.String("account", "", "call from this configured `account` (its AOR, credentials and outbound proxy; default: the peer-to-peer account)")
	subject = fs.String("subject", "", "Subject of the call")
	hangupAfter = fs.Duration("hangup-after", 0, "end the session this long after it started (0: never)")
	timeout = fs.Duration("timeout", 0, "give up (CANCEL) when not answered within this (0: the invite timeout)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: sipstreams call URI --stream TYPE [--stream TYPE...] | --audio | --chat [flags]")
		return 2
	}
	target, err := parseTarget(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
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
	if err := mf.check(); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	var routes []engine.Route
	host := target.Host
	if *route != "" {
		r, err := parseRoute(*route)
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 2
		}
		routes, host = []engine.Route{r}, r.Address
	}
	st, err := storageFor(af.configDir)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}

	app := newApplication(cf, &af, stderr, callListen(host))
	pr := newPrinter(stdout, af.asJSON)
	unsub := app.Center().Subscribe(pr, "", nil)
	defer func() {
		_ = stopApplication(app, stderr)
		unsub()
	}()
	if err := app.Start(ctx, st); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	eng, acc := app.Engine(), app.Account()
	if *accountID != "" {
		if acc, err = app.SessionAccount(*accountID); err != nil {
			fmt.Fprintf(stderr, "sipstreams: --account: %v\n", err)
			return 1
		}
	}
	if routes == nil {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		routes, err = app.Routes(lctx, acc.ID, target)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 1
		}
	}
	contact := eng.ContactFor(routes[0], acc.URI.User)
	if contact.Host == "" {
		fmt.Fprintf(stderr, "sipstreams: cannot reach %s from %s\n", routes[0], strings.Join(addrStrings(eng.Addrs()), " "))
		return 1
	}

	// The streams, initialized and with their offer, in one call each.
	sdkAcc := &sdk.Account{ID: acc.ID, URI: acc.URI.String(), DisplayName: acc.DisplayName, Settings: acc.Settings}
	info := &sdk.SessionInfo{Direction: string(session.Outgoing), LocalIdentity: acc.URI.String(), RemoteIdentity: target.String(), LocalIP: strings.Trim(contact.Host, "[]")}
	var made []session.Stream
	endMade := func() {
		for _, s := range made {
			_ = s.End(context.Background())
		}
	}
	for _, typ := range streams {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		s, err := app.Registry().Create(cctx, &sdk.CreateRequest{Type: typ, Account: sdkAcc,
			Prepare: &sdk.Prepare{Session: info, Direction: string(session.Outgoing), LocalMedia: true}})
		cancel()
		if err != nil {
			endMade()
			fmt.Fprintf(stderr, "sipstreams: cannot create a %s stream: %v\n", typ, err)
			return 1
		}
		made = append(made, s)
	}
	// Chat messages go to the chat stream now: it queues them until it
	// starts.
	var queued []string
	for _, st := range made {
		if st.Type() == chat.Type && len(mf.messages) > 0 && !mf.queued {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			queued = mf.queueMessages(cctx, st, pr, stderr)
			cancel()
		}
	}

	s := app.Sessions().NewSessionAs(acc)
	events := make(chan notify.Notification, 16)
	defer app.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		switch n.Name {
		case session.SIPSessionDidStart, session.SIPSessionDidFail, session.SIPSessionDidEnd:
			events <- n
		}
	}), "", s)()
	// Delivery reports of the chat messages, for --until-delivered.
	deliveries := make(chan chat.DeliveryData, 64)
	deliveryDone := make(chan struct{})
	defer close(deliveryDone)
	defer app.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
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
		if n.Name == chat.DidNotDeliverMessage || n.Name == chat.DidDeliverMessage {
			select {
			case deliveries <- d:
			case <-deliveryDone:
			}
		}
	}), "", nil)()
	pending := map[string]bool{}
	for _, id := range queued {
		pending[id] = true
	}
	sent := len(queued) // messages handed to the chat stream
	undelivered := 0
	pr.say("calling %s over %s; %s", target.String(), routes[0], callHelp)
	if err := s.Connect(ctx, target, routes, made, *subject); err != nil {
		endMade()
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}

	done := make(chan struct{})
	defer close(done)
	lines := readLines(stdin, done)
	var hangup, giveUp <-chan time.Time
	if *timeout > 0 {
		t := time.NewTimer(*timeout)
		defer t.Stop()
		giveUp = t.C
	}
	started, ending, mediaFailed := false, false, false
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
				fmt.Fprintf(stderr, "sipstreams: no answer within %v\n", *timeout)
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
				if !proposalCommand(ctx, app, s, info.LocalIP, cmd, rest, stderr) && !mediaCommand(ctx, s, line, pr, stderr) {
					fmt.Fprintln(stderr, callHelp)
				}
			}
		case n := <-events:
			switch n.Name {
			case session.SIPSessionDidStart:
				started = true
				ids, err := mf.sessionStarted(ctx, s, pr, stderr)
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
				case *untilDelivered && sent == 0:
					fmt.Fprintln(stderr, "sipstreams: no message could be sent")
					undelivered++
					hangUp()
				case *untilDelivered && len(pending) == 0:
					hangUp() // every report came before this
				}
				if *hangupAfter > 0 {
					t := time.NewTimer(*hangupAfter)
					defer t.Stop()
					hangup = t.C
				}
			case session.SIPSessionDidFail:
				d, _ := n.Data.(session.DidFailData)
				fmt.Fprintf(stderr, "sipstreams: call to %s failed: %s\n", target.String(), failureText(d))
				return 1
			case session.SIPSessionDidEnd:
				if !started || undelivered > 0 || mediaFailed {
					return 1
				}
				return 0
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
			if *untilDelivered && len(pending) == 0 && started {
				hangUp()
			}
		}
	}
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

func addrStrings(as []engine.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
