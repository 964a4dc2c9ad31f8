package docs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
)

// block is one fenced code block of a guide: its info string, body, line,
// and the HTML comment on the line before it, if any ("file: PATH").
type block struct {
	lang, body, marker string
	line               int
}

var markerRE = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

func parseGuide(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out       []block
		cur       *block
		prev      string
		lineNo    int
		bodyLines []string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: lineNo}
			if m := markerRE.FindStringSubmatch(prev); m != nil {
				cur.marker = m[1]
			}
			bodyLines = nil
		case cur != nil && line == "```":
			cur.body = strings.Join(bodyLines, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			bodyLines = append(bodyLines, line)
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", path, cur.line)
	}
	return out
}

// goEnv is the value of a `go env` variable.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestVendorGuide follows docs/vendors.md from an empty home directory:
// every file it shows is written where it says, every shell block is run
// in order in one shell started in the checkout, the lock file example is
// a lock file and the SDP example is what the guide's stream offers. Then
// both plugins the guide built carry text over their streams through a
// registry, as a host loads them (pinned by the guide's lock file).
func TestVendorGuide(t *testing.T) {
	root := plugintest.Root()
	guide := filepath.Join(root, "docs", "vendors.md")
	blocks := parseGuide(t, guide)
	home := t.TempDir()
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	var offer string
	files := 0
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", guide, b.line)
		switch {
		case strings.HasPrefix(b.marker, "file: "):
			path := strings.TrimPrefix(b.marker, "file: ")
			if filepath.IsAbs(path) || strings.Contains(path, "..") {
				t.Fatalf("%s: file %q is not below the home directory", where, path)
			}
			fmt.Fprintf(&script, "mkdir -p ~/%s\ncat > ~/%s <<'GUIDE_SNIPPET_END'\n%sGUIDE_SNIPPET_END\n", filepath.Dir(path), path, b.body)
			files++
		case b.lang == "sh" && b.marker == "":
			fmt.Fprintf(&script, "echo '== guide line %d'\n%s", b.line, b.body)
		case b.lang == "json" && b.marker == "lock file":
			if _, err := registry.ParseLock([]byte(b.body)); err != nil {
				t.Errorf("%s: the lock file example is not a lock file: %v", where, err)
			}
		case b.lang == "sdp" && b.marker == "offer of the hello stream":
			offer = b.body
		default:
			t.Errorf("%s: a %q block (marker %q) that this test neither runs nor checks", where, b.lang, b.marker)
		}
	}
	if files != 3 || offer == "" {
		t.Fatalf("the guide has %d files and offer %q: the test no longer matches it", files, offer)
	}

	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = root
	// An empty home; Go's caches are the machine's, so nothing is
	// downloaded (GOPROXY=off proves it).
	cmd.Env = append(os.Environ(), "HOME="+home, "GOPATH="+goEnv(t, "GOPATH"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"),
		"GOCACHE="+goEnv(t, "GOCACHE"), "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=", "SIPSTREAMS_PLUGIN_DIR=",
		// A bound, not a wait: the Python plugin may take seconds to
		// start on a loaded machine.
		"SIPSTREAMS_START_TIMEOUT=60s")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("the guide's commands ran in %v:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("the guide's commands failed: %v", err)
	}
	plugins := filepath.Join(home, "plugins")
	for _, want := range []string{
		"PASS " + filepath.Join(plugins, "sipstreams-plugin-hello") + " (13 case(s))",
		"PASS " + filepath.Join(plugins, "sipstreams-plugin-pyhello") + " (13 case(s))",
		"PASS suite/pyhello/quiet-after-end",
		"{\n  \"name\": \"hello\",\n  \"version\": \"1.0.0\"", "{\n  \"name\": \"pyhello\",\n  \"version\": \"1.0.0\"", // describe
		"hello (3)", "pyhello (2)", "alice's session SIPSessionDidStart", "alice's hello HelloStreamDidChangeHoldState",
		"alice's pyhello PyHelloStreamDidChangeHoldState", "bob's session SIPSessionDidEnd",
		"locked 2 plugin(s) and 0 codec module(s)", plugins + " matches " + plugins + ".lock: 2 plugin(s)",
		filepath.Join(plugins, "sipstreams-plugin-pyhello") + ": SHA-256 is", "not pinned yet",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the guide's output lacks %q", want)
		}
	}
	if b, err := exec.Command("gofmt", "-l", filepath.Join(home, "hello-go")).CombinedOutput(); err != nil || len(b) > 0 {
		t.Errorf("the guide's Go is not gofmt-clean: %s %v", b, err)
	}

	// The plugins of the guide, pinned by its lock file, in a registry.
	c := notify.New()
	defer c.Close()
	r := registry.New(registry.WithDir(plugins), registry.WithStartTimeout(time.Minute), registry.WithDescribeTimeout(time.Minute), registry.WithNotifier(registry.NotifierFunc(func(n registry.Notification) { c.Post(notify.Notification(n)) })))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := r.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Plugins() {
		if p.State != registry.StateReady {
			t.Fatalf("%s: %v (%v)", p.File, p.State, p.Err)
		}
	}
	for _, typ := range []string{"hello", "pyhello"} {
		t.Run(typ, func(t *testing.T) {
			a, b, gotOffer := pair(t, ctx, r, c, typ)
			if typ == "hello" {
				port := regexp.MustCompile(`^m=application \d+ `).ReplaceAllString(gotOffer, "m=application 40000 ")
				if port != strings.ReplaceAll(offer, "\n", "\r\n") {
					t.Errorf("the hello stream offers\n%s\nthe guide says\n%s", gotOffer, offer)
				}
			}
			text := "hello from the guide's " + typ
			args, _ := json.Marshal(map[string]string{"text": text})
			if _, err := a.s.Invoke(ctx, &sdk.InvokeRequest{Method: "say", Args: args}); err != nil {
				t.Fatal(err)
			}
			name := map[string]string{"hello": "HelloStreamGotText", "pyhello": "PyHelloStreamGotText"}[typ]
			if err := b.rec.Wait(ctx, func(ns []notify.Notification) bool {
				for _, n := range ns {
					if raw, ok := n.Data.(json.RawMessage); ok && n.Name == name && strings.Contains(string(raw), text) {
						return true
					}
				}
				return false
			}); err != nil {
				t.Fatalf("%s never came: %v (%v)", name, err, b.rec.Names())
			}
			bad, _ := json.Marshal(map[string]int{"text": 7})
			if _, err := a.s.Invoke(ctx, &sdk.InvokeRequest{Method: "say", Args: bad}); err == nil {
				t.Error("say with a number for text succeeded")
			}
			for _, s := range []*end{a, b} {
				if err := s.s.End(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

type end struct {
	s   *registry.Stream
	rec *notify.Recorder
}

// pair negotiates an offerer and an answerer of typ through r and starts
// both; it returns them and the offer's media section.
func pair(t *testing.T, ctx context.Context, r *registry.Registry, c *notify.Center, typ string) (*end, *end, string) {
	t.Helper()
	wait := func(e *end, name string) {
		t.Helper()
		if err := e.rec.Wait(ctx, func(ns []notify.Notification) bool {
			for _, n := range ns {
				if n.Name == name {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("%s: %v (%v)", name, err, e.rec.Names())
		}
	}
	observe := func(s *registry.Stream) *end {
		rec := &notify.Recorder{}
		t.Cleanup(c.Subscribe(rec, "", s))
		return &end{s: s, rec: rec}
	}
	sdpOf := func(media string) string {
		return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + media
	}
	session := func(dir string) *sdk.SessionInfo {
		return &sdk.SessionInfo{ID: "guide-" + dir, Direction: dir, LocalIP: "127.0.0.1"}
	}
	s, err := r.Create(ctx, &sdk.CreateRequest{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	a := observe(s)
	if err := a.s.Initialize(ctx, &sdk.InitializeRequest{Session: session(sdk.DirectionOutgoing), Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	wait(a, sdk.MediaStreamDidInitialize)
	om, err := a.s.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true})
	if err != nil {
		t.Fatal(err)
	}
	offer := sdpOf(om.Media)
	s, err = r.NewFromSDP(ctx, &sdk.NewFromSDPRequest{RemoteSDP: offer})
	if err != nil {
		t.Fatal(err)
	}
	b := observe(s)
	if err := b.s.Initialize(ctx, &sdk.InitializeRequest{Session: session(sdk.DirectionIncoming), Direction: sdk.DirectionIncoming}); err != nil {
		t.Fatal(err)
	}
	wait(b, sdk.MediaStreamDidInitialize)
	am, err := b.s.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offer})
	if err != nil {
		t.Fatal(err)
	}
	answer := sdpOf(am.Media)
	if err := b.s.Start(ctx, &sdk.StartRequest{LocalSDP: answer, RemoteSDP: offer}); err != nil {
		t.Fatal(err)
	}
	if err := a.s.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	wait(a, sdk.MediaStreamDidStart)
	wait(b, sdk.MediaStreamDidStart)
	return a, b, om.Media
}
