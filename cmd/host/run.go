package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

const usage = `usage: sipstreams COMMAND [flags]

commands:
  listen    start the application and answer incoming sessions
  call      call a SIP URI with streams of the given types (--audio, --chat, --stream TYPE, --file FILE, --pull NAME)
  share-screen  share a VNC desktop (--vnc HOST:PORT) with a SIP URI, tunnelled over MSRP
  view-screen   view a SIP URI's shared desktop: prints the local address for a VNC viewer (--viewer CMD runs one)
  message   send chat messages to a SIP URI in a session of its own and wait for their delivery
  send-file send files to a SIP URI in a session of its own and wait until each is confirmed
  load      place many audio calls to a SIP URI (--calls, --rate, --duration, --audio FILE.wav, --srtp)
            and report calls up, packets, loss, jitter and CPU per call
  audio     the audio plugin's sound devices: list them, play a WAV or tones on the alert device
  plugins   list the stream plugins of the plugin directory (loaded or refused);
            plugins lock | verify | check [PATH...]: pin them, compare them with
            the lock file, run the conformance suite on them
  demo      negotiate, exercise and end two streams of every loaded type on loopback
  version   print the host version and contract version
  help      print this text

The plugin directory is, in order: --plugin-dir, $SIPSTREAMS_PLUGIN_DIR, or
"plugins" beside the sipstreams binary; a plugin may take --start-timeout
($SIPSTREAMS_START_TIMEOUT, else 5s) to start. Its lock file (--lock-file; by
default the directory's path plus ".lock", beside it) pins the plugins while
it exists; a plugin directory or binary that other users may write is
refused unless --allow-writable.
`

// run runs the command of args; stdin carries the interactive commands
// of listen and call. It returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "sipstreams %s (plugin contract %d.%d)\n", version, sdk.ContractMajor, sdk.ContractMinor)
		return 0
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	case "plugins":
		return cmdPlugins(ctx, args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "listen":
		return cmdListen(ctx, args[1:], stdin, stdout, stderr)
	case "call":
		return cmdCall(ctx, args[1:], stdin, stdout, stderr)
	case "message":
		return cmdMessage(ctx, args[1:], stdout, stderr)
	case "send-file":
		return cmdSendFile(ctx, args[1:], stdout, stderr)
	case "share-screen":
		return cmdShareScreen(ctx, args[1:], stdin, stdout, stderr)
	case "view-screen":
		return cmdViewScreen(ctx, args[1:], stdin, stdout, stderr)
	case "audio":
		return cmdAudio(ctx, args[1:], stdout, stderr)
	case "load":
		return cmdLoad(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "sipstreams: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// defaultPluginDir is $SIPSTREAMS_PLUGIN_DIR, else "plugins" beside the binary.
func defaultPluginDir() string {
	if d := os.Getenv("SIPSTREAMS_PLUGIN_DIR"); d != "" {
		return d
	}
	exe, err := os.Executable()
	if err != nil {
		return "plugins"
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return filepath.Join(filepath.Dir(exe), "plugins")
}

// commonFlags are the flags every command that loads plugins takes.
type commonFlags struct {
	pluginDir     string
	lockFile      string
	allowWritable bool
	startTimeout  time.Duration
	verbose       bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.pluginDir, "plugin-dir", defaultPluginDir(), "directory holding sipstreams-plugin-* binaries")
	fs.StringVar(&c.lockFile, "lock-file", "", "lock file pinning the plugins while it exists (default: the plugin directory's path + \".lock\")")
	fs.BoolVar(&c.allowWritable, "allow-writable", false, "load plugins from a directory, or binaries, that other users may write")
	fs.DurationVar(&c.startTimeout, "start-timeout", defaultStartTimeout(), "how long a plugin may take to start, and to describe itself ($SIPSTREAMS_START_TIMEOUT)")
	fs.BoolVar(&c.verbose, "v", false, "log to stderr")
}

// lockPath is the lock file of the flags: --lock-file, else the plugin
// directory's default (registry.DefaultLockFile).
func (c *commonFlags) lockPath() string {
	if c.lockFile != "" {
		return c.lockFile
	}
	return registry.DefaultLockFile(c.pluginDir)
}

// registryOptions are the registry options of the flags besides the
// directory: pinning and the start timeout; and the plugin processes' Ps
// and GOGC (procsOptions, gcOptions).
func (c *commonFlags) registryOptions() []registry.Option {
	opts := []registry.Option{registry.WithLockFile(c.lockPath()), registry.WithAllowWritable(c.allowWritable),
		registry.WithStartTimeout(c.startTimeout), registry.WithDescribeTimeout(c.startTimeout)}
	opts = append(opts, procsOptions(os.LookupEnv, runtime.GOMAXPROCS(0))...)
	return append(opts, gcOptions(os.LookupEnv)...)
}

// defaultStartTimeout is $SIPSTREAMS_START_TIMEOUT (a Go duration, "20s"),
// else 5 s: a slow machine, or a plugin in an interpreted language on a
// busy one, may need more.
func defaultStartTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SIPSTREAMS_START_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 5 * time.Second
}

// parseFlags parses a command's flags into cf plus the command's own.
func parseFlags(name string, args []string, stderr io.Writer, own func(*flag.FlagSet)) (*commonFlags, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := &commonFlags{}
	cf.register(fs)
	own(fs)
	return cf, fs.Parse(args) == nil
}

// logger is the logger of -v: text to stderr, else discarded.
func (c *commonFlags) logger(stderr io.Writer) *slog.Logger {
	if c.verbose {
		return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// registry returns a registry for the plugin dir, the center its
// notifications are posted to, and a func that closes both.
func (c *commonFlags) registry(stderr io.Writer) (*registry.Registry, *notify.Center, func()) {
	center := notify.New()
	reg := registry.New(append(c.registryOptions(), registry.WithDir(c.pluginDir), registry.WithLogger(c.logger(stderr)),
		registry.WithNotifier(application.RegistryNotifier(center)))...)
	return reg, center, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = reg.Close(ctx)
		_ = center.Flush(ctx)
		center.Close()
	}
}

// pluginRow is one line of `sipstreams plugins --json`.
type pluginRow struct {
	File            string     `json:"file"`
	Path            string     `json:"path"`
	Name            string     `json:"name,omitempty"`
	Version         string     `json:"version,omitempty"`
	ContractVersion string     `json:"contract_version,omitempty"`
	SHA256          string     `json:"sha256,omitempty"`
	State           string     `json:"state"`
	Error           string     `json:"error,omitempty"`
	ReadyMS         float64    `json:"ready_ms,omitempty"`
	Types           []typeCell `json:"stream_types,omitempty"`
}

type typeCell struct {
	Type     string `json:"type"`
	Priority int    `json:"priority"`
}

func cmdPlugins(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			args = args[1:]
		case "lock":
			return cmdPluginsLock(ctx, args[1:], stdout, stderr)
		case "verify":
			return cmdPluginsVerify(args[1:], stdout, stderr)
		case "check":
			return cmdPluginsCheck(args[1:], stdout, stderr)
		}
	}
	var asJSON *bool
	cf, ok := parseFlags("plugins", args, stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print one JSON object per plugin")
	})
	if !ok {
		return 2
	}
	reg, _, closeReg := cf.registry(stderr)
	defer closeReg()
	if err := reg.Discover(ctx); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	var rows []pluginRow
	for _, p := range reg.Plugins() {
		row := pluginRow{File: p.File, Path: p.Path, SHA256: p.SHA256, State: p.State.String()}
		if p.Err != nil {
			row.Error = p.Err.Error()
		}
		if m := p.Manifest; m != nil {
			row.Name, row.Version = m.Name, m.Version
			row.ContractVersion = fmt.Sprintf("%d.%d", m.ContractMajor, m.ContractMinor)
			for _, t := range m.StreamTypes {
				row.Types = append(row.Types, typeCell{Type: t.Type, Priority: t.Priority})
			}
		}
		if p.State == registry.StateReady {
			row.ReadyMS = float64(p.ReadyIn.Microseconds()) / 1000
		}
		rows = append(rows, row)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return 1
			}
		}
		return 0
	}
	if len(rows) == 0 {
		fmt.Fprintf(stdout, "no plugins in %s\n", reg.Dir())
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tVERSION\tCONTRACT\tSTREAM TYPES (PRIORITY)\tSTATE\tSHA-256")
	for _, r := range rows {
		var types []string
		for _, t := range r.Types {
			types = append(types, fmt.Sprintf("%s (%d)", t.Type, t.Priority))
		}
		sum := r.SHA256
		if len(sum) > 16 {
			sum = sum[:16] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.File, dash(r.Version), dash(r.ContractVersion), dash(strings.Join(types, ", ")), r.State, dash(sum))
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(stdout, "\n%s refused: %s", r.File, r.Error)
		}
	}
	if hasRefused(rows) {
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "\nplugin directory: %s\n", reg.Dir())
	if _, err := os.Stat(reg.LockFile()); err == nil {
		fmt.Fprintf(stdout, "pinned by lock file: %s\n", reg.LockFile())
	} else {
		fmt.Fprintf(stdout, "not pinned: no lock file %s (sipstreams plugins lock writes it)\n", reg.LockFile())
	}
	return 0
}

func hasRefused(rows []pluginRow) bool {
	for _, r := range rows {
		if r.Error != "" {
			return true
		}
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
