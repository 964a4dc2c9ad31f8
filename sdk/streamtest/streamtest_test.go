package streamtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// serveFakeEnv makes the test binary serve the fake plugin instead of
// running tests, so RunBinary can start it as a real plugin process.
const serveFakeEnv = "STREAMTEST_SERVE_FAKE_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(serveFakeEnv) == "1" {
		sdk.Serve(fakePlugin(fakeFaults{}))
	}
	os.Exit(m.Run())
}

func TestRunFake(t *testing.T) {
	Run(t, fakePlugin(fakeFaults{}))
}

func TestRunFakeIPv6(t *testing.T) {
	Run(t, fakePlugin(fakeFaults{}), WithLocalIP("::1"), WithTypes("x-fake"))
}

func TestRunBinaryFake(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(serveFakeEnv, "1")
	RunBinary(t, exe)
}

// TestCheckBinaryFake: CheckBinary passes the good fake plugin started as
// a process, and names every case it ran, so a vendor sees what was
// checked.
func TestCheckBinaryFake(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(serveFakeEnv, "1")
	rep := CheckBinary(exe)
	if rep.Failed || len(rep.Failures()) != 0 {
		t.Fatalf("the good fake failed:\n%s", rep)
	}
	passed := strings.Join(rep.Passed(), " ")
	for _, c := range []string{"suite/manifest", "suite/malformed-sdp", "suite/errors", "suite/x-fake/lifecycle"} {
		if !strings.Contains(passed, c) {
			t.Errorf("case %s not reported as passed: %s", c, passed)
		}
	}
	if !strings.HasSuffix(rep.String(), "PASS\n") {
		t.Errorf("report does not end in PASS:\n%s", rep)
	}
}

// TestSuiteFailsBrokenPlugins runs the suite against plugins that break the
// contract in one way each, and checks that it fails them for that reason.
func TestSuiteFailsBrokenPlugins(t *testing.T) {
	cases := []struct {
		name   string
		faults fakeFaults
		// wrap, when set, wraps the plugin's provider.
		wrap func(sdk.Provider) sdk.Provider
		// want are substrings of the failure messages expected.
		want []string
	}{
		{
			name:   "never posts MediaStreamDidEnd",
			faults: fakeFaults{noDidEnd: true},
			want:   []string{"expected MediaStreamDidEnd", "not posted"},
		},
		{
			name: "malformed SDP refused without ErrInvalidStream",
			wrap: func(p sdk.Provider) sdk.Provider { return sloppyParser{p} },
			want: []string{"garbage: NewFromSDP(index 0) = ", "want an error wrapping invalid stream"},
		},
		{
			name:   "hold flags not kept",
			faults: fakeFaults{noRemoteHold: true},
			want:   []string{"A holds: B", "on_hold_by_remote=false, want false and true"},
		},
		{
			name:   "answers hold with the wrong direction",
			faults: fakeFaults{answerSendrecv: true},
			want:   []string{"answers direction sendrecv to sendonly, want recvonly"},
		},
		{
			name:   "DidStart after DidEnd",
			faults: fakeFaults{lateDidStart: true},
			want:   []string{"end-during-start", "and nothing after"},
		},
		{
			name:   "type-specific notification after DidEnd",
			faults: fakeFaults{postAfterEnd: true},
			want:   []string{"quiet-after-end", "posted [FakeStreamDidFlushStats] after MediaStreamDidEnd"},
		},
		{
			name:   "ValidateUpdate changes state",
			faults: fakeFaults{validateApplies: true},
			want:   []string{"ValidateUpdate changed the stream's hold flags"},
		},
		{
			name:   "Reset ignores its context and blocks",
			faults: fakeFaults{blockReset: make(chan struct{})},
			want:   []string{"Reset did not return within"},
		},
		{
			name:   "stream still answers after End",
			faults: fakeFaults{},
			wrap:   func(p sdk.Provider) sdk.Provider { return undead{Provider: p} },
			want:   []string{"Attributes after End = <nil>, want an error wrapping stream not found"},
		},
		{
			name:   "unknown method refused with the wrong error",
			faults: fakeFaults{invokeInternal: true},
			want:   []string{"Invoke(x-no-such-method) = ", "want an error wrapping unknown method"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.faults.blockReset != nil {
				defer close(c.faults.blockReset)
			}
			lp, err := sdk.NewProvider(fakePlugin(c.faults))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_ = lp.Close(ctx)
			})
			var prov sdk.Provider = lp
			if c.wrap != nil {
				prov = c.wrap(lp)
			}
			rec := record(func(r runner) { runSuite(r, prov, newConfig([]Option{WithTimeout(300 * time.Millisecond)})) })
			rec.report(t)
			if !rec.Failed() {
				t.Fatalf("the suite passed a plugin that %s", c.name)
			}
			for _, w := range c.want {
				if !rec.has(w) {
					t.Errorf("no failure mentions %q", w)
				}
			}
		})
	}
}

// TestInProcessFindsLeaks checks Run's in-process leak check.
func TestInProcessFindsLeaks(t *testing.T) {
	leak := make(chan struct{})
	defer close(leak)
	rec := record(func(r runner) { runInProcess(r, fakePlugin(fakeFaults{leak: leak}), nil) })
	rec.report(t)
	if !rec.Failed() || !rec.has("goroutines left once every stream has ended") || !rec.has("fakeStream).Initialize") {
		t.Fatal("the suite did not report the goroutines the plugin left behind")
	}
}

// TestSuitePassesUnderRecorder checks the recorder itself: the good fake
// passes with no failure recorded.
func TestSuitePassesUnderRecorder(t *testing.T) {
	rec := record(func(r runner) { runInProcess(r, fakePlugin(fakeFaults{}), nil) })
	rec.report(t)
	if rec.Failed() {
		t.Fatal("the suite failed the good fake under the recorder")
	}
	if !rec.has("Create is not implemented") {
		t.Error("the incoming-only type was not reported as skipped")
	}
}

func TestFixtures(t *testing.T) {
	for _, name := range []string{"garbage.sdp", "truncated.sdp"} {
		text := fixture(t, name)
		if _, err := sdk.ParseSDP(text); err == nil {
			t.Errorf("%s parses; it must not", name)
		}
	}
	for _, name := range unclaimedFixtures {
		text := fixture(t, name)
		if !strings.Contains(text, "\r\n") || strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") {
			t.Errorf("%s: line ends are not all CRLF", name)
		}
		if _, _, err := sdk.MediaAt(text, 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEndedDuringStart(t *testing.T) {
	const (
		i = sdk.MediaStreamDidInitialize
		s = sdk.MediaStreamDidStart
		f = sdk.MediaStreamDidFail
		w = sdk.MediaStreamWillEnd
		e = sdk.MediaStreamDidEnd
	)
	for _, c := range []struct {
		seq  []string
		want bool
	}{
		{[]string{i, w, e}, true},
		{[]string{i, s, w, e}, true},
		{[]string{i, f, w, e}, true},
		{[]string{i, s, f, w, e}, true},
		{[]string{i, w, e, s}, false},
		{[]string{i, f, s, w, e}, false},
		{[]string{w, e}, false},
		{[]string{i, s, w}, false},
		{[]string{i, w, f, e}, false},
	} {
		if got := endedDuringStart(c.seq); got != c.want {
			t.Errorf("endedDuringStart(%v) = %v, want %v", c.seq, got, c.want)
		}
	}
}

func TestSideSession(t *testing.T) {
	s := newSide("::1", 7)
	text := s.session("m=application 9 UDP x\na=sendonly", "m=application 0 UDP x\r\n")
	want := "v=0\r\no=- 7 1 IN IP6 ::1\r\ns=streamtest\r\nc=IN IP6 ::1\r\nt=0 0\r\n" +
		"m=application 9 UDP x\r\na=sendonly\r\nm=application 0 UDP x\r\n"
	if text != want {
		t.Fatalf("session:\n%q\nwant\n%q", text, want)
	}
	if d := direction(t, text, 0); d != "sendonly" {
		t.Errorf("direction = %s", d)
	}
	if got := s.session(); !strings.Contains(got, "o=- 7 2 IN IP6") {
		t.Errorf("version did not grow: %q", got)
	}
}

// --- the fake plugin ---------------------------------------------------

const (
	fakeFormat         = "x-streamtest-fake"
	fakeIncomingFormat = "x-streamtest-incoming"
)

// fakeFaults break the fake plugin in one way each.
type fakeFaults struct {
	noDidEnd        bool          // End posts WillEnd only
	noRemoteHold    bool          // on_hold_by_remote never set
	answerSendrecv  bool          // answers always sendrecv
	lateDidStart    bool          // DidStart is posted by End, after DidEnd
	postAfterEnd    bool          // End posts a type-specific notification after DidEnd
	validateApplies bool          // ValidateUpdate applies the SDP
	blockReset      chan struct{} // Reset blocks until closed, ignoring its context
	invokeInternal  bool          // unknown methods give ErrInternal
	leak            chan struct{} // Initialize starts a goroutine that waits for it
}

// fakePlugin serves "x-fake", a UDP-less stream that negotiates directions
// as reference §3.5 says and posts the generic notifications, and
// "x-fake-incoming", a type that can only answer.
func fakePlugin(faults fakeFaults) *sdk.Plugin {
	var mu sync.Mutex
	port := 20000
	newStream := func(env *sdk.Env) *fakeStream {
		mu.Lock()
		defer mu.Unlock()
		port += 2
		return &fakeStream{env: env, port: port, faults: faults, format: fakeFormat}
	}
	return &sdk.Plugin{
		Name:    "streamtest-fake",
		Version: "test",
		Types: []sdk.StreamType{
			{
				Type:          "x-fake",
				Priority:      1,
				HoldSupported: true,
				Match:         sdk.MatchRule{Media: []string{"application"}, Formats: []string{fakeFormat}},
				NewFromSDP: func(_ context.Context, req *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
					_, m, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
					if err != nil {
						return nil, err
					}
					if strings.Join(m.MediaName.Protos, "/") != "UDP" {
						return nil, sdk.Errorf(sdk.ErrInvalidStream, "x-fake runs over UDP only")
					}
					return newStream(env), nil
				},
				Create: func(_ context.Context, _ *sdk.CreateRequest, env *sdk.Env) (sdk.Stream, error) {
					return newStream(env), nil
				},
			},
			{
				Type:  "x-fake-incoming",
				Match: sdk.MatchRule{Media: []string{"application"}, Formats: []string{fakeIncomingFormat}},
				NewFromSDP: func(_ context.Context, _ *sdk.NewFromSDPRequest, env *sdk.Env) (sdk.Stream, error) {
					s := newStream(env)
					s.format = fakeIncomingFormat
					return s, nil
				},
			},
		},
	}
}

type fakeStream struct {
	sdk.UnimplementedStream
	env    *sdk.Env
	port   int
	format string
	faults fakeFaults

	// The SDK serialises calls to a stream.
	initialized   bool
	started       bool
	holdRequested bool
	dir           string // last negotiated local direction, "" before any
	holdLocal     bool
	holdRemote    bool
}

var _ sdk.Stream = (*fakeStream)(nil)

func (s *fakeStream) Initialize(context.Context, *sdk.InitializeRequest) error {
	if s.initialized {
		return sdk.Errorf(sdk.ErrIllegalState, "initialized twice")
	}
	s.initialized = true
	if leak := s.faults.leak; leak != nil {
		go func() { <-leak }()
	}
	s.env.Post(sdk.MediaStreamDidInitialize, nil)
	return nil
}

func (s *fakeStream) media(dir string) *sdk.GetLocalMediaResponse {
	return &sdk.GetLocalMediaResponse{Media: fmt.Sprintf("m=application %d UDP %s\r\na=%s\r\n", s.port, s.format, dir)}
}

func (s *fakeStream) GetLocalMedia(_ context.Context, req *sdk.GetLocalMediaRequest) (*sdk.GetLocalMediaResponse, error) {
	if !s.initialized {
		return nil, sdk.Errorf(sdk.ErrIllegalState, "not initialized")
	}
	if req.ForOffer {
		// Reference §3.5, offer direction.
		switch {
		case s.dir == "":
			return s.media("sendrecv"), nil
		case strings.Contains(s.dir, "send") && s.holdRequested:
			return s.media("sendonly"), nil
		case strings.Contains(s.dir, "send"):
			return s.media("sendrecv"), nil
		case s.holdRequested:
			return s.media("inactive"), nil
		default:
			return s.media("recvonly"), nil
		}
	}
	sd, m, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return nil, err
	}
	if s.faults.answerSendrecv {
		return s.media("sendrecv"), nil
	}
	// Reference §3.5, answer direction, intersected with the offer.
	capability := "sendrecv"
	if s.dir != "" && !strings.Contains(s.dir, "recv") {
		capability = "sendonly"
	}
	return s.media(intersect(capability, reverse(string(sdk.Direction(sd, m))))), nil
}

func (s *fakeStream) Start(_ context.Context, req *sdk.StartRequest) error {
	if err := s.negotiate(req.LocalSDP, req.RemoteSDP, req.StreamIndex); err != nil {
		return err
	}
	s.started = true
	if !s.faults.lateDidStart {
		s.env.Post(sdk.MediaStreamDidStart, nil)
	}
	return nil
}

func (s *fakeStream) ValidateUpdate(_ context.Context, req *sdk.ValidateUpdateRequest) (*sdk.ValidateUpdateResponse, error) {
	_, m, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return nil, err
	}
	if s.faults.validateApplies {
		s.holdRemote = !s.holdRemote
	}
	return &sdk.ValidateUpdateResponse{OK: m.MediaName.Media == "application" && len(m.MediaName.Formats) > 0 && m.MediaName.Formats[0] == s.format}, nil
}

func (s *fakeStream) Update(_ context.Context, req *sdk.UpdateRequest) error {
	return s.negotiate(req.LocalSDP, req.RemoteSDP, req.StreamIndex)
}

// negotiate applies a negotiated offer/answer: reference §3.5, _check_hold.
func (s *fakeStream) negotiate(local, remote string, index int) error {
	ls, lm, err := sdk.MediaAt(local, index)
	if err != nil {
		return err
	}
	rs, rm, err := sdk.MediaAt(remote, index)
	if err != nil {
		return err
	}
	dir := intersect(string(sdk.Direction(ls, lm)), reverse(string(sdk.Direction(rs, rm))))
	s.dir = dir
	if dir != "inactive" {
		s.holdLocal = dir == "sendonly"
	}
	s.holdRemote = !strings.Contains(dir, "send") && !s.faults.noRemoteHold
	return nil
}

func (s *fakeStream) Hold(context.Context) error   { s.holdRequested = true; return nil }
func (s *fakeStream) Unhold(context.Context) error { s.holdRequested = false; return nil }

func (s *fakeStream) Reset(ctx context.Context, _ *sdk.ResetRequest) error {
	if s.faults.blockReset != nil {
		<-s.faults.blockReset
	}
	return nil
}

func (s *fakeStream) End(context.Context) error {
	s.env.Post(sdk.MediaStreamWillEnd, nil)
	if !s.faults.noDidEnd {
		s.env.Post(sdk.MediaStreamDidEnd, sdk.DidEndData{})
	}
	if s.faults.lateDidStart && s.started {
		s.env.Post(sdk.MediaStreamDidStart, nil)
	}
	if s.faults.postAfterEnd {
		s.env.Post("FakeStreamDidFlushStats", map[string]int{"packets": 0})
	}
	return nil
}

func (s *fakeStream) Attributes(context.Context) (*sdk.Attributes, error) {
	extra, err := sdk.MarshalJSONValue(map[string]int{"port": s.port})
	if err != nil {
		return nil, err
	}
	return &sdk.Attributes{HoldSupported: true, OnHoldByLocal: s.holdLocal, OnHoldByRemote: s.holdRemote, Extra: extra}, nil
}

func (s *fakeStream) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	if req.Method == "ping" {
		return &sdk.InvokeResponse{Result: []byte(`"pong"`)}, nil
	}
	if s.faults.invokeInternal {
		return nil, errors.New("no such thing")
	}
	return nil, sdk.Errorf(sdk.ErrUnknownMethod, "%q", req.Method)
}

// reverse swaps the roles of a direction: what the remote sends we receive.
func reverse(dir string) string {
	switch dir {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	}
	return dir
}

// intersect returns the direction allowed by both a and b.
func intersect(a, b string) string {
	send := strings.Contains(a, "send") && strings.Contains(b, "send")
	recv := strings.Contains(a, "recv") && strings.Contains(b, "recv")
	switch {
	case send && recv:
		return "sendrecv"
	case send:
		return "sendonly"
	case recv:
		return "recvonly"
	}
	return "inactive"
}

// sloppyParser is a provider whose NewFromSDP refuses malformed SDP with a
// plain error.
type sloppyParser struct{ sdk.Provider }

func (p sloppyParser) NewFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest) (*sdk.Opened, error) {
	if _, err := sdk.ParseSDP(req.RemoteSDP); err != nil {
		return nil, errors.New("cannot parse that")
	}
	return p.Provider.NewFromSDP(ctx, req)
}

// undead is a provider whose streams keep answering Attributes after End.
type undead struct{ sdk.Provider }

func (p undead) Create(ctx context.Context, req *sdk.CreateRequest) (*sdk.Opened, error) {
	o, err := p.Provider.Create(ctx, req)
	if err == nil {
		o.Stream = &undeadStream{Stream: o.Stream}
	}
	return o, err
}

type undeadStream struct {
	sdk.Stream
	ended bool
}

func (s *undeadStream) End(ctx context.Context) error {
	s.ended = true
	return s.Stream.End(ctx)
}

func (s *undeadStream) Attributes(ctx context.Context) (*sdk.Attributes, error) {
	if s.ended {
		return &sdk.Attributes{}, nil
	}
	return s.Stream.Attributes(ctx)
}

// report copies the recording into the test log.
func (r *recorder) report(t *testing.T) {
	t.Helper()
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	for _, l := range r.out.lines {
		t.Log(l)
	}
}
