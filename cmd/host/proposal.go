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
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// proposalHelp lists the stream-proposal commands shared by listen and call.
const proposalHelp = `/add TYPE, /remove TYPE, /cancel-proposal, /accept-proposal, /reject-proposal [code]`

// proposalCommand runs one of the stream-proposal commands on s: /add
// TYPE, /remove TYPE, /cancel-proposal, /accept-proposal and
// /reject-proposal [code]. It reports whether cmd was one of them; errors
// (an illegal call in the session's state among them) are printed on
// stderr.
//
// The file transfers of a proposal accepted are readied by files first
// (see fileFlags.prepare).
func proposalCommand(ctx context.Context, app *application.Application, s *session.Session, cmd, rest string, files *fileFlags, stderr io.Writer) bool {
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
		} else if accepted := files.prepare(ctx, proposed, files.acceptDir, stderr); len(accepted) == 0 {
			err = s.RejectProposal(488, "")
		} else {
			err = s.AcceptProposal(accepted)
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
func addStream(ctx context.Context, app *application.Application, s *session.Session, typ string, opts ...application.StreamOption) error {
	_, err := proposeStream(ctx, app, s, typ, opts...)
	return err
}

// proposeStream is addStream returning the stream proposed.
func proposeStream(ctx context.Context, app *application.Application, s *session.Session, typ string, opts ...application.StreamOption) (session.Stream, error) {
	if typ == "" {
		return nil, errors.New("usage: /add TYPE")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	st, err := app.NewStream(cctx, s, typ, opts...)
	cancel()
	if err != nil {
		return nil, err
	}
	if err := s.AddStreams([]session.Stream{st}); err != nil {
		_ = st.End(context.Background())
		return nil, err
	}
	return st, nil
}

// sendFileCommand runs "/send-file FILE": a file-transfer stream pushing
// FILE proposed to the peer. It returns the stream, nil on an error
// (printed).
func sendFileCommand(ctx context.Context, app *application.Application, s *session.Session, path string, stderr io.Writer) session.Stream {
	path = strings.TrimSpace(path)
	if path == "" {
		fmt.Fprintln(stderr, "sipstreams: usage: /send-file FILE")
		return nil
	}
	st, err := proposeStream(ctx, app, s, filetransfer.Type, application.WithParams(filetransfer.Push(path)))
	printCommandError(stderr, "/send-file", err)
	return st
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
