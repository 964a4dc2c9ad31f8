package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/session"
)

// proposalHelp lists the stream-proposal commands shared by listen and call.
const proposalHelp = `/add TYPE, /remove TYPE, /cancel-proposal, /accept-proposal, /reject-proposal [code]`

// proposalCommand runs one of the stream-proposal commands on s: /add
// TYPE, /remove TYPE, /cancel-proposal, /accept-proposal and
// /reject-proposal [code]. It reports whether cmd was one of them; errors
// (an illegal call in the session's state among them) are printed on
// stderr.
func proposalCommand(ctx context.Context, app *application.Application, s *session.Session, cmd, rest string, stderr io.Writer) bool {
	var err error
	switch cmd {
	case "/add":
		err = addStream(ctx, app, s, strings.TrimSpace(rest))
	case "/remove":
		err = removeStream(s, strings.TrimSpace(rest))
	case "/cancel-proposal":
		err = s.CancelProposal()
	case "/accept-proposal":
		if proposed := s.ProposedStreams(); len(proposed) == 0 {
			err = errors.New("no proposal to accept")
		} else {
			err = s.AcceptProposal(proposed)
		}
	case "/reject-proposal":
		code := 488
		if f := strings.Fields(rest); len(f) > 0 {
			if code, err = strconv.Atoi(f[0]); err != nil {
				err = fmt.Errorf("%q is not a response code", f[0])
				break
			}
		}
		if err == nil {
			err = s.RejectProposal(code, "")
		}
	default:
		return false
	}
	printCommandError(stderr, cmd, err)
	return true
}

// printCommandError prints err of a stdin command, saying plainly when the
// session refused the call in its current state.
func printCommandError(stderr io.Writer, cmd string, err error) {
	if err == nil {
		return
	}
	var ise *session.IllegalStateError
	if errors.As(err, &ise) {
		fmt.Fprintf(stderr, "sipstreams: %s: not possible now: %v\n", cmd, err)
		return
	}
	fmt.Fprintf(stderr, "sipstreams: %s: %v\n", cmd, err)
}

// addStream creates a stream of typ for s, with its account's settings
// and holding its offer, and proposes it to the peer.
func addStream(ctx context.Context, app *application.Application, s *session.Session, typ string) error {
	if typ == "" {
		return errors.New("usage: /add TYPE")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	st, err := app.NewStream(cctx, s, typ)
	cancel()
	if err != nil {
		return err
	}
	if err := s.AddStreams([]session.Stream{st}); err != nil {
		_ = st.End(context.Background())
		return err
	}
	return nil
}

// removeStream removes the session's last stream of typ.
func removeStream(s *session.Session, typ string) error {
	if typ == "" {
		return errors.New("usage: /remove TYPE")
	}
	streams := s.Streams()
	for i := len(streams) - 1; i >= 0; i-- {
		if streams[i].Type() == typ {
			return s.RemoveStreams([]session.Stream{streams[i]})
		}
	}
	return fmt.Errorf("the session has no %s stream", typ)
}
