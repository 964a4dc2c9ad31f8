package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// servePlugin is a minimal valid plugin for serve's command line.
func servePlugin() *Plugin {
	return &Plugin{
		Name:    "sample",
		Version: "0.1.0",
		Types: []StreamType{{
			Type: "sample", Priority: 2, Match: MatchRule{Media: []string{"application"}},
			Create: func(context.Context, *CreateRequest, *Env) (Stream, error) { return UnimplementedStream{}, nil },
		}},
		Methods: map[string]MethodFunc{"b": nil, "a": nil},
	}
}

func TestServeDescribe(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := serve(servePlugin(), []string{"describe"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	var m Manifest
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := servePlugin().Manifest(); !reflect.DeepEqual(&m, want) {
		t.Fatalf("manifest\ngot  %+v\nwant %+v", m, want)
	}
	if !reflect.DeepEqual(m.Methods, []string{"a", "b"}) {
		t.Errorf("methods %v, want sorted", m.Methods)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestServeDescribeInvalid(t *testing.T) {
	p := servePlugin()
	p.Types = nil
	var stdout, stderr bytes.Buffer
	if code := serve(p, []string{"describe"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "invalid manifest") {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestServeVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := serve(servePlugin(), []string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := stdout.String(); !strings.HasPrefix(got, "sample 0.1.0 (contract ") {
		t.Fatalf("version %q", got)
	}
}

func TestServeUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := serve(servePlugin(), []string{"frobnicate"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), `unknown command "frobnicate"`) {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// TestServeWithoutHost: started by hand, without the host's handshake
// cookie, the plugin explains itself on stderr and writes nothing on stdout
// (which belongs to go-plugin's handshake).
func TestServeWithoutHost(t *testing.T) {
	t.Setenv(Handshake().MagicCookieKey, "")
	var stdout, stderr bytes.Buffer
	if code := serve(servePlugin(), nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout %q, want nothing", stdout.String())
	}
	if !strings.Contains(stderr.String(), "sipstreams stream plugin") || !strings.Contains(stderr.String(), "describe") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestHCLogKeys(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: hclogKeys}))
	log.WithGroup("stream").Warn("socket closed", "msg", "kept", "level", "kept")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	if got["@message"] != "socket closed" || got["@level"] != "warn" {
		t.Fatalf("log line %s", buf.String())
	}
	if _, ok := got["@timestamp"]; !ok {
		t.Fatalf("no @timestamp in %s", buf.String())
	}
	for _, k := range []string{"msg", "level", "time"} {
		if _, ok := got[k]; ok {
			t.Errorf("key %q left in %s", k, buf.String())
		}
	}
	// Keys inside groups are the caller's, not slog's: they keep their names.
	group, _ := got["stream"].(map[string]any)
	if group["msg"] != "kept" || group["level"] != "kept" {
		t.Errorf("group keys renamed: %s", buf.String())
	}
}

// TestServeIdleTrimmer: the plugin's memory is released on the ticks
// after its last stream ended, not while one is open or new ones come.
func TestServeIdleTrimmer(t *testing.T) {
	lp := newLocal(t, testPlugin(fakeType("a", 1, "audio", &callLog{}, nil, nil)))
	ctx := testCtx(t)
	releases := 0
	tr := newIdleTrimmer(lp, func() { releases++ })
	step := func(what string, want int) {
		t.Helper()
		tr.Tick()
		if releases != want {
			t.Fatalf("%s: %d releases, want %d", what, releases, want)
		}
	}
	step("idle from the start", 0)
	o, err := lp.Create(ctx, &CreateRequest{Type: "a"})
	if err != nil {
		t.Fatal(err)
	}
	step("a stream open", 0)
	step("still open", 0)
	s, err := lp.Stream(o.Handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.End(ctx); err != nil {
		t.Fatal(err)
	}
	step("ended, nothing since", 1)
	if _, err := lp.Create(ctx, &CreateRequest{Type: "a"}); err != nil {
		t.Fatal(err)
	}
	s2, _ := lp.Stream(o.Handle + 1)
	if err := s2.End(ctx); err != nil {
		t.Fatal(err)
	}
	step("one opened and ended between ticks", 1)
	step("idle after it", 2)
}
