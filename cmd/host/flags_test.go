package main

import (
	"flag"
	"fmt"
	"io"
	"testing"
)

// TestParseInterspersed: positional arguments among flags, and everything
// after "--" positional (a chat message starting with "-").
func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		pos, route string
		json       bool
	}{
		{[]string{"URI", "--route", "udp:127.0.0.1:5", "a", "--json", "b"}, "[URI a b]", "udp:127.0.0.1:5", true},
		{[]string{"--json", "URI", "a"}, "[URI a]", "", true},
		{[]string{"URI", "--", "-1", "--json"}, "[URI -1 --json]", "", false},
		{[]string{"URI", "a", "--route=udp:127.0.0.1:5", "--", "--"}, "[URI a --]", "udp:127.0.0.1:5", false},
		{nil, "[]", "", false},
	} {
		t.Run(fmt.Sprint(tc.args), func(t *testing.T) {
			var c callSpec
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c.register(fs)
			pos, err := parseInterspersed(fs, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(pos) != tc.pos || c.route != tc.route || c.app.asJSON != tc.json {
				t.Errorf("positional %v, --route %q, --json %v", pos, c.route, c.app.asJSON)
			}
		})
	}
}
