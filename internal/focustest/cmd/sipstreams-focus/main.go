// Command sipstreams-focus runs the test conference focus of package
// focustest on loopback, to try the host's conference commands by hand:
//
//	go run ./internal/focustest/cmd/sipstreams-focus --listen 127.0.0.1:5070
//
// It prints the conference URI, then what the focus sees, one line each,
// until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sipstreams/sipstreams/internal/focustest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sipstreams-focus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5070", "`IP:PORT` of the SIP socket (UDP; loopback)")
	user := fs.String("user", "conference", "user part of the conference URI")
	subject := fs.String("subject", "", "conference subject")
	refuse := fs.Int("refuse-refers", 0, "answer every REFER with this `code` (0: accept them)")
	verbose := fs.Bool("v", false, "log to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f, err := focustest.Start(ctx, focustest.WithAddress(*listen), focustest.WithUser(*user),
		focustest.WithSubject(*subject), focustest.WithLogger(log))
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams-focus: %v\n", err)
		return 1
	}
	defer f.Close()
	if *refuse != 0 {
		f.RefuseRefers(*refuse, "")
	}
	fmt.Fprintf(stdout, "conference focus at %s (UDP)\n", f.URIString())
	for n := 0; ; {
		evs, err := f.Since(ctx, n)
		if err != nil {
			return 0
		}
		for _, e := range evs {
			fmt.Fprintln(stdout, e.String())
		}
		n += len(evs)
	}
}
