package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sipstreams/sipstreams/sdk/chat"
)

// cmdMessage is `sipstreams message URI TEXT... [flags]`: a session with
// one chat stream that sends each TEXT as a message and ends once every
// message got its delivery report. It exits 0 when all were delivered, 1
// otherwise. It takes the flags call shares with it (--account,
// --config-dir, --json, --route, …) and runs call's core, without a
// console.
func cmdMessage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &callSpec{streams: []string{chat.Type}, untilDelivered: true}
	fs := flag.NewFlagSet("message", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) < 2 {
		fmt.Fprintln(stderr, "usage: sipstreams message URI TEXT [TEXT...] [flags]")
		return 2
	}
	c.media.messages = pos[1:]
	return c.run(ctx, pos[0], nil, stdout, stderr)
}
