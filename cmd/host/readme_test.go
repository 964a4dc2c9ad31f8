package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/storage"
)

// The READMEs are tested as a new user reads them: every configuration
// snippet must load, every command must exist with the flags it is shown
// with, and the commands a user pastes must work as they stand (issue 16
// item 11: the README's one-line configuration examples were refused by
// the configuration parser).
//
// Configuration is shown in fenced blocks labelled config (```config);
// inline, settings are named by their dotted keys (`chat.prefer_cpim`)
// without a value. An inline span that assigns a setting (`chat:
// prefer_cpim = no`, `msrp.transport=tcp`) or an unlabelled block that
// reads like configuration is an error: a user copies those into the
// config file.

// repoRoot is the module's root, from cmd/host.
const repoRoot = "../.."

// mdFence is a fenced block of a Markdown file.
type mdFence struct {
	file string
	line int    // of the opening fence
	info string // the info string: "config", "sh", ""
	body string // the lines, without the fence's indentation
}

// mdSpan is an inline code span of a Markdown file, its blanks and line
// ends collapsed to one space.
type mdSpan struct {
	file string
	line int
	text string
}

// readmes returns every README.md of the repository, relative to
// repoRoot.
func readmes(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "README.md" {
			rel, _ := filepath.Rel(repoRoot, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, "README.md") {
		t.Fatalf("no README.md at the root among %v", files)
	}
	return files
}

// parseMarkdown returns the fenced blocks and the inline code spans of a
// Markdown text (spans outside the blocks only).
func parseMarkdown(file, text string) ([]mdFence, []mdSpan) {
	var fences []mdFence
	var spans []mdSpan
	lines := strings.Split(text, "\n")
	var cur *mdFence
	var indent int
	var body []string
	// The inline text between fences, scanned for spans at each fence.
	var prose []string
	proseStart := 1
	scan := func() {
		spans = append(spans, scanSpans(file, proseStart, prose)...)
		prose = nil
	}
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		if strings.HasPrefix(trimmed, "```") {
			if cur == nil {
				scan()
				indent = len(l) - len(trimmed)
				cur = &mdFence{file: file, line: i + 1, info: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
				body = nil
				continue
			}
			cur.body = strings.Join(body, "\n") + "\n"
			fences = append(fences, *cur)
			cur = nil
			proseStart = i + 2
			continue
		}
		if cur != nil {
			n := 0
			for n < indent && n < len(l) && l[n] == ' ' {
				n++
			}
			body = append(body, l[n:])
			continue
		}
		prose = append(prose, l)
	}
	scan()
	return fences, spans
}

var blanks = regexp.MustCompile(`\s+`)

// scanSpans finds the `code spans` of lines, the first of which is line
// first of file; a span may go on over line ends.
func scanSpans(file string, first int, lines []string) []mdSpan {
	var spans []mdSpan
	open, start := false, 0
	var b strings.Builder
	for i, l := range lines {
		for _, r := range l {
			switch {
			case r == '`' && !open:
				open, start = true, first+i
				b.Reset()
			case r == '`':
				open = false
				spans = append(spans, mdSpan{file: file, line: start, text: strings.TrimSpace(blanks.ReplaceAllString(b.String(), " "))})
			case open:
				b.WriteRune(r)
			}
		}
		if open {
			b.WriteByte('\n')
		}
	}
	return spans
}

// settingAssignment matches "group: group: name = value" and
// "dotted.name = value" (blanks optional).
var settingAssignment = regexp.MustCompile(`^((?:[A-Za-z0-9_.@-]+:\s*)*)([a-z_]+(?:\.[a-z_]+)*)\s*=\s*(.*)$`)

// settingKeys are the dotted keys of every global and account setting.
func settingKeys() map[string]bool {
	keys := map[string]bool{}
	global := config.Default()
	for k := range global.Flatten() {
		keys[k] = true
	}
	acc := config.NewAccount("someone@example.com")
	for k := range acc.Flatten(nil) {
		keys[k] = true
	}
	return keys
}

// assignsSetting reports whether an inline span is a setting with its
// value — configuration a user would copy — as opposed to an SDP line, a
// MIME parameter or a name.
func assignsSetting(span string, keys map[string]bool) bool {
	m := settingAssignment.FindStringSubmatch(span)
	if m == nil {
		return false
	}
	groups, name := m[1], m[2]
	if groups != "" {
		return true // "chat: prefer_cpim = no"
	}
	return keys[name] // "msrp.transport=tcp", "user_agent = x"
}

// looksLikeConfig reports whether an unlabelled fenced block reads like
// configuration: its first line opens a group or sets a setting.
var looksLikeConfig = regexp.MustCompile(`^(?:[a-z_]+:|[a-z_]+ = .*)$`)

// loadConfig loads text as a --config-dir's config file, the way the
// commands do (storage.FileStorage: parse, then validate).
func loadConfig(t *testing.T, text string) error {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Load(context.Background())
	return err
}

// TestAssignsSetting: the inline forms that are configuration (the
// README's old one-line examples among them) are told from those that
// are not, and the one-line forms do not load.
func TestAssignsSetting(t *testing.T) {
	keys := settingKeys()
	for _, tc := range []struct {
		span  string
		isSet bool
		loads bool
	}{
		{"chat: prefer_cpim = no", true, false},
		{"accounts: bonjour@local: msrp: transport = tcp", true, false},
		{"logs: trace_msrp = yes", true, false},
		{"msrp.transport=tcp", true, false},
		{"nat_traversal.use_ice=true", true, false},
		{"user_agent = sipstreams 0.1", true, true},
		{"chat.prefer_cpim", false, false},
		{"a=fingerprint", false, false},
		{"charset=\"utf8\"", false, false},
		{"f1=f2=0", false, false},
		{"-X main.version=1.0.0", false, false},
	} {
		if got := assignsSetting(tc.span, keys); got != tc.isSet {
			t.Errorf("assignsSetting(%q) = %v, want %v", tc.span, got, tc.isSet)
		}
		if tc.isSet {
			if err := loadConfig(t, tc.span+"\n"); (err == nil) != tc.loads {
				t.Errorf("%q loads: %v, want it to load: %v", tc.span, err, tc.loads)
			}
		}
	}
}

// TestREADMEConfigSnippets loads every ```config block of every README
// with framework/config (through storage, as --config-dir does) and
// refuses configuration shown any other way.
func TestREADMEConfigSnippets(t *testing.T) {
	keys := settingKeys()
	loaded := 0
	for _, file := range readmes(t) {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		fences, spans := parseMarkdown(file, string(b))
		for _, f := range fences {
			switch f.info {
			case "config":
				loaded++
				if err := loadConfig(t, f.body); err != nil {
					line := f.line
					var se *config.SyntaxError
					if errors.As(err, &se) {
						line += se.Line
					}
					t.Errorf("%s:%d: this configuration does not load: %v", file, line, err)
				}
			case "":
				for _, l := range strings.Split(f.body, "\n") {
					if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
						continue
					}
					if looksLikeConfig.MatchString(l) {
						t.Errorf("%s:%d: a block that reads like configuration: label it ```config", file, f.line)
					}
					break
				}
			}
		}
		for _, s := range spans {
			if assignsSetting(s.text, keys) {
				if err := loadConfig(t, s.text+"\n"); err != nil {
					t.Errorf("%s:%d: `%s` reads like configuration but does not load (%v): show it in a ```config block, or name the setting (`group.name`) without a value", file, s.line, s.text, err)
				}
			}
		}
	}
	// The README shows the sip, tls, logs, chat and audio settings at
	// least; the plugins' READMEs theirs.
	if loaded < 4 {
		t.Errorf("%d ```config blocks in the READMEs, want at least 4", loaded)
	}
}

// commandFlags returns the flags a sipstreams command takes, read from
// its --help (args: the command and its subcommand, if any). ok is false
// for an unknown command.
func commandFlags(t *testing.T, args ...string) (flags map[string]bool, ok bool) {
	t.Helper()
	code, out, errs := runCLI(t, append(args, "--help")...)
	if strings.Contains(errs, "unknown command") || code == 2 && !strings.Contains(errs, "Usage of") {
		return nil, false
	}
	flags = map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z-]*)`).FindAllStringSubmatch(out+errs, -1) {
		flags[m[1]] = true
	}
	return flags, true
}

var flagRe = regexp.MustCompile(`(?:^|[\s\[|])--([a-z][a-z-]*)`)

// TestREADMECommands: every sipstreams command the READMEs show exists
// and takes every flag it is shown with — on the command lines of the
// ```sh blocks, and in inline spans that name a command or a flag.
func TestREADMECommands(t *testing.T) {
	commands := map[string]map[string]bool{}
	all := map[string]bool{}
	// A command's subcommands add their flags to the command's.
	for _, cmd := range [][]string{{"version"}, {"plugins"}, {"plugins", "check"}, {"plugins", "lock"}, {"plugins", "verify"},
		{"demo"}, {"listen"}, {"call"}, {"share-screen"}, {"view-screen"}, {"message"}, {"send-file"}, {"audio", "play"}, {"load"}} {
		flags, ok := commandFlags(t, cmd...)
		if !ok {
			t.Fatalf("%v is not a command", cmd)
		}
		if commands[cmd[0]] == nil {
			commands[cmd[0]] = map[string]bool{}
		}
		for f := range flags {
			commands[cmd[0]][f] = true
			all[f] = true
		}
	}
	check := func(file string, line int, cmd, text string) {
		flags, known := commands[cmd]
		if cmd != "" && !known {
			t.Errorf("%s:%d: %q: sipstreams has no command %q", file, line, text, cmd)
			return
		}
		if cmd == "" {
			flags = all
		}
		for _, m := range flagRe.FindAllStringSubmatch(text, -1) {
			if !flags[m[1]] {
				t.Errorf("%s:%d: %q: --%s is not a flag of %q", file, line, text, m[1], cmd)
			}
		}
	}
	shown := 0
	commandLine := regexp.MustCompile(`^(?:\s*|.*[|;&]\s*)bin/sipstreams\s+([a-z][a-z-]*)(.*)$`)
	for _, file := range readmes(t) {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		fences, spans := parseMarkdown(file, string(b))
		for _, f := range fences {
			if f.info != "sh" {
				continue
			}
			lines := strings.Split(f.body, "\n")
			for i := 0; i < len(lines); i++ {
				code, _, _ := strings.Cut(lines[i], " #")
				m := commandLine.FindStringSubmatch(code)
				if m == nil {
					continue
				}
				text, at := m[2], f.line+i+1
				// A synopsis goes on over the indented lines below it.
				for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") && !strings.Contains(lines[i+1], "bin/sipstreams") {
					i++
					text += " " + lines[i]
				}
				text, _, _ = strings.Cut(text, " #")
				shown++
				check(file, at, m[1], text)
			}
		}
		for _, s := range spans {
			first, _, _ := strings.Cut(s.text, " ")
			switch {
			case commands[first] != nil && strings.Contains(s.text, "--"):
				check(file, s.line, first, s.text)
			case strings.HasPrefix(s.text, "--"):
				check(file, s.line, "", s.text)
			}
		}
	}
	if shown < len(commands) {
		t.Errorf("%d sipstreams command lines in the READMEs, want one per command at least", shown)
	}
}

// runSnippet runs a README's shell snippet with bash in dir, in a process
// group of its own that is killed when it ends (the snippet's background
// jobs with it).
func runSnippet(t *testing.T, dir, snippet string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-c", snippet)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	err := cmd.Wait()
	if ctx.Err() != nil {
		err = fmt.Errorf("did not finish within 90 s: %w", err)
	}
	return out.String(), err
}

// fenceWith returns the body of the first ```sh block of file holding
// every one of parts.
func fenceWith(t *testing.T, file string, parts ...string) mdFence {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	fences, _ := parseMarkdown(file, string(b))
next:
	for _, f := range fences {
		if f.info != "sh" {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(f.body, p) {
				continue next
			}
		}
		return f
	}
	t.Fatalf("%s has no ```sh block with %q", file, parts)
	return mdFence{}
}

// TestREADMELoopbackCall runs the README's "try it on loopback" snippet as
// it stands, in a directory where bin/ holds the sipstreams binary and
// bin/plugins the echo plugin (as `make` leaves them), only on another
// UDP port than 5070: bob answers, alice's call starts and ends, the
// snippet exits 0.
func TestREADMELoopbackCall(t *testing.T) {
	f := fenceWith(t, "README.md", "listen --auto-answer", "bin/sipstreams call", "--hangup-after")
	bin, _ := flowBinary(t)
	dir := t.TempDir()
	// bin/sipstreams finds its plugins beside the binary it links to.
	if err := os.Symlink(filepath.Dir(bin), filepath.Join(dir, "bin")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.body, "5070") {
		t.Fatalf("README.md:%d: the snippet no longer uses port 5070; update this test", f.line)
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	snippet := strings.ReplaceAll(f.body, "5070", strconv.Itoa(port))
	out, err := runSnippet(t, dir, snippet)
	if err != nil {
		t.Fatalf("README.md:%d: the snippet failed: %v\n%s", f.line, err, out)
	}
	for _, want := range []string{"listening udp 127.0.0.1", "SIPSessionNewIncoming", "SIPSessionDidStart", "SIPSessionDidEnd"} {
		if strings.Count(out, want) < 1 {
			t.Errorf("README.md:%d: the snippet's output lacks %q:\n%s", f.line, want, out)
		}
	}
	// Both sides started and ended the session.
	for _, want := range []string{"SIPSessionDidStart", "SIPSessionDidEnd"} {
		if n := strings.Count(out, want); n != 2 {
			t.Errorf("README.md:%d: %d %s in the output, want 2 (alice's and bob's):\n%s", f.line, n, want, out)
		}
	}
}

// TestREADMELoad runs the README's load snippet as it stands, in a
// directory where bin/ holds the sipstreams binary and bin/plugins the
// media plugins, only on another UDP port than 5090: the 20 calls start
// and carry media both ways, load exits 0.
func TestREADMELoad(t *testing.T) {
	f := fenceWith(t, "README.md", "bin/sipstreams load", "listen --auto-answer")
	built, _ := flowBinary(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "sipstreams"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mediaPlugins(t), filepath.Join(dir, "bin", "plugins")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.body, "5090") {
		t.Fatalf("README.md:%d: the snippet no longer uses port 5090; update this test", f.line)
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	out, err := runSnippet(t, dir, strings.ReplaceAll(f.body, "5090", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("README.md:%d: the snippet failed: %v\n%s", f.line, err, out)
	}
	if !strings.Contains(out, "load: 20 calls, 20 started, 0 failed, 0 without media both ways") {
		t.Errorf("README.md:%d: the load's summary is not the one expected:\n%s", f.line, out)
	}
}

// TestREADMEPluginBuild runs each plugin README's build-and-describe
// commands as they stand, from the repository's root, with bin/ put in a
// temporary directory: the plugin builds and describes its stream type.
func TestREADMEPluginBuild(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for file, typ := range map[string]string{
		"plugins/audio/README.md":     "audio",
		"plugins/chat/README.md":      "chat",
		"sdk/examples/echo/README.md": "echo",
	} {
		t.Run(typ, func(t *testing.T) {
			f := fenceWith(t, file, "go build", "describe")
			snippet := strings.ReplaceAll(f.body, "bin/", t.TempDir()+"/bin/")
			out, err := runSnippet(t, root, snippet)
			if err != nil {
				t.Fatalf("%s:%d: the commands failed: %v\n%s", file, f.line, err, out)
			}
			if !strings.Contains(out, `"type":"`+typ+`"`) && !strings.Contains(out, `"type": "`+typ+`"`) {
				t.Errorf("%s:%d: describe does not name the %s stream type:\n%s", file, f.line, typ, out)
			}
		})
	}
}
