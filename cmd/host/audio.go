package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/audio"
)

const audioUsage = `usage: sipstreams audio devices [--json]
       sipstreams audio play FILE.wav [--loops N]
       sipstreams audio tones F1[+F2]:MS[,F1[+F2]:MS...]   (0:MS is a pause)
       sipstreams audio codecs [--codec-dir DIR] [--json]

The audio plugin owns the sound devices: these reach them through its
plugin-scope methods. play and tones use the alert device. codecs lists
the plugin's codecs, built in and from the codec modules of its codec
directory (--codec-dir, else codecs/ beside the plugin), and the module
files it refused with the reason.
`

// pluginInvoker is the plugin-scope Invoke of one plugin of a registry.
type pluginInvoker struct {
	reg    *registry.Registry
	plugin string
}

func (p pluginInvoker) Invoke(ctx context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	return p.reg.Invoke(ctx, p.plugin, req)
}

// audioPlugin finds the plugin serving the audio stream type.
func audioPlugin(reg *registry.Registry) (sdk.Invoker, error) {
	for _, t := range reg.Types() {
		if t.Type == audio.Type && t.Plugin != nil {
			return pluginInvoker{reg, t.Plugin.Name()}, nil
		}
	}
	return nil, fmt.Errorf("no plugin of %s serves the %q stream type", reg.Dir(), audio.Type)
}

func cmdAudio(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, audioUsage)
		return 2
	}
	sub := args[0]
	switch sub {
	case "devices", "play", "tones", "codecs":
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, audioUsage)
		return 0
	default:
		// Refused before any plugin starts.
		fmt.Fprintf(stderr, "sipstreams: audio: unknown subcommand %q\n%s", sub, audioUsage)
		return 2
	}
	fs := flag.NewFlagSet("audio "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := &commonFlags{}
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON (devices)")
	loops := fs.Int("loops", 1, "how many times to play the file (play)")
	codecDir := fs.String("codec-dir", "", "the codec directory to list (codecs; default: the plugin's)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return 2
	}
	reg, _, closeReg := cf.registry(stderr)
	defer closeReg()
	if err := reg.Discover(ctx); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	inv, err := audioPlugin(reg)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	switch sub {
	case "devices":
		list, err := audio.ListDevices(ctx, inv)
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: audio devices: %v\n", err)
			return 1
		}
		if *asJSON {
			_ = encoder(stdout).Encode(list)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tINPUT\tOUTPUT\tDEFAULT")
		for _, d := range list.Devices {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%v\n", d.ID, d.Name, d.Input, d.Output, d.Default)
		}
		tw.Flush()
		c := list.Current
		if c.Input == "" && c.Output == "" && c.Alert == "" {
			fmt.Fprintln(stdout, "\nno device open: the mixers open theirs with the first call or sound")
		} else {
			fmt.Fprintf(stdout, "\nin use: input %q, output %q, alert %q (null clock: %v)\n", c.Input, c.Output, c.Alert, c.OnNull)
		}
		return 0
	case "codecs":
		if len(pos) != 0 {
			fmt.Fprint(stderr, audioUsage)
			return 2
		}
		list, err := audio.ListCodecs(ctx, inv, *codecDir)
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: audio codecs: %v\n", err)
			return 1
		}
		if *asJSON {
			_ = encoder(stdout).Encode(list)
			return 0
		}
		printCodecs(stdout, list)
		return 0
	case "play":
		if len(pos) != 1 {
			fmt.Fprint(stderr, audioUsage)
			return 2
		}
		if err := audio.PlayWAV(ctx, inv, pos[0], *loops); err != nil {
			fmt.Fprintf(stderr, "sipstreams: audio play: %v\n", err)
			return 1
		}
		return 0
	case "tones":
		if len(pos) != 1 {
			fmt.Fprint(stderr, audioUsage)
			return 2
		}
		tones, err := parseTones(pos[0])
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: audio tones: %v\n", err)
			return 2
		}
		if err := audio.PlayTones(ctx, inv, tones); err != nil {
			fmt.Fprintf(stderr, "sipstreams: audio tones: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprint(stderr, audioUsage)
	return 2
}

// printCodecs prints a codec listing as a table, the refusals' and
// overrides' reasons last.
func printCodecs(w io.Writer, list audio.CodecList) {
	fmt.Fprintf(w, "codec directory %s", list.Directory)
	if list.DirectoryError != "" {
		fmt.Fprintf(w, " (%s)", list.DirectoryError)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPT\tRATE\tSTATE\tSTREAMS\tFILE\tSHA-256")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	var reasons []string
	for _, c := range list.Codecs {
		pt := "dyn"
		if c.PayloadType >= 0 {
			pt = strconv.Itoa(c.PayloadType)
		}
		rate := "-"
		if c.ClockRate > 0 {
			rate = strconv.Itoa(c.ClockRate)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", dash(c.Name), dash(c.Version), pt, rate, c.State, c.Streams, dash(c.File), dash(c.SHA256))
		if c.Reason != "" {
			who := c.File
			if who == "" {
				who = c.Name
			}
			reasons = append(reasons, fmt.Sprintf("%s %s: %s", who, c.State, strings.TrimPrefix(c.Reason, c.File+": ")))
		}
	}
	tw.Flush()
	for _, r := range reasons {
		fmt.Fprintln(w, r)
	}
}

// parseTones reads "440+480:2000,0:4000" (the reference's tone lists).
func parseTones(spec string) ([]audio.Tone, error) {
	var out []audio.Tone
	for _, item := range strings.Split(spec, ",") {
		freqs, ms, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok {
			return nil, fmt.Errorf("%q is not F1[+F2]:MS", item)
		}
		var t audio.Tone
		var err error
		if t.Millis, err = strconv.Atoi(ms); err != nil || t.Millis <= 0 {
			return nil, fmt.Errorf("%q: %q is not a duration in ms", item, ms)
		}
		f1, f2, _ := strings.Cut(freqs, "+")
		if t.F1, err = strconv.ParseFloat(f1, 64); err != nil || t.F1 < 0 {
			return nil, fmt.Errorf("%q: %q is not a frequency", item, f1)
		}
		if f2 != "" {
			if t.F2, err = strconv.ParseFloat(f2, 64); err != nil || t.F2 < 0 {
				return nil, fmt.Errorf("%q: %q is not a frequency", item, f2)
			}
		}
		out = append(out, t)
	}
	return out, nil
}
