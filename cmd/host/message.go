package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// cmdMessage is `sipstreams message URI TEXT... [call flags]`: a session
// with one chat stream that sends each TEXT as a message and ends once
// every message got its delivery report. It exits 0 when all were
// delivered, 1 otherwise. Every flag of call applies (--account,
// --config-dir, --json, --route, …).
func cmdMessage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var pos, flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			// Flags of call that take a value (the boolean ones do not).
			if !strings.Contains(a, "=") && !boolCallFlag(a) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) < 2 {
		fmt.Fprintln(stderr, "usage: sipstreams message URI TEXT [TEXT...] [flags of call]")
		return 2
	}
	callArgs := []string{pos[0], "--chat", "--until-delivered"}
	for _, text := range pos[1:] {
		callArgs = append(callArgs, "--message", text)
	}
	// No console: stdin stays unread.
	return cmdCall(ctx, append(callArgs, flags...), strings.NewReader(""), stdout, stderr)
}

// boolCallFlag tells the boolean flags of call, which take no value.
func boolCallFlag(a string) bool {
	switch strings.TrimLeft(a, "-") {
	case "json", "trace-sip", "audio", "chat", "until-delivered", "v":
		return true
	}
	return false
}
