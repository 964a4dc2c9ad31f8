package audiostream_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	rtpports "github.com/sipstreams/sipstreams/plugins/audio/internal/ports"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/ports/portstest"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// streamPorts returns the UDP ports a stream holds on 127.0.0.1: its
// RTP/RTCP pair (from its attributes) and, from media when given, the
// ports of its ICE candidates.
func streamPorts(t *testing.T, s sdk.Stream, media string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, attrs, err := sdkaudio.ReadAttributes(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.LocalRTPPort == 0 {
		t.Fatal("the stream reports no local RTP port")
	}
	ports := []int{attrs.LocalRTPPort, attrs.LocalRTPPort + 1}
	for _, l := range strings.Split(media, "\r\n") {
		// a=candidate:foundation component transport priority address port typ …
		if f := strings.Fields(strings.TrimPrefix(l, "a=candidate:")); strings.HasPrefix(l, "a=candidate:") && len(f) > 5 {
			if p, err := strconv.Atoi(f[5]); err == nil && f[4] == "127.0.0.1" {
				ports = append(ports, p)
			}
		}
	}
	return ports
}

func mustBeHeld(t *testing.T, ports []int) {
	t.Helper()
	if held := portstest.Held(ports); len(held) < len(ports) {
		t.Fatalf("ports %v: only %v are held by the stream", ports, held)
	}
}

func mustBeFree(t *testing.T, ports []int, when string) {
	t.Helper()
	if held := portstest.Held(ports); len(held) > 0 {
		t.Fatalf("%s: ports %v still held", when, held)
	}
}

// create makes an outgoing stream, initialized with its offer.
func create(t *testing.T, p sdk.Provider, acc *sdk.Account) *sdk.Opened {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	o, err := p.Create(ctx, &sdk.CreateRequest{Type: sdkaudio.Type, Account: acc, Prepare: session("a", sdk.DirectionOutgoing)})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { _ = o.Stream.End(context.Background()) })
	if !o.Initialized {
		t.Fatalf("did not initialize: %s", o.InitError)
	}
	return o
}

// newUnpooledHarness runs a plugin that keeps no released pair bound: a
// pair given back is closed at once, so a port still held after its
// stream let go of it was not given back. (TestPortsPooled checks what
// the default pool does with the pairs given back.)
func newUnpooledHarness(t *testing.T) *harness {
	t.Helper()
	lp, err := sdk.NewProvider(audiostream.Plugin("test", audiostream.WithPortPool(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessWith(t, lp)
}

// TestPortsReleasedOnStartFailure: a stream whose Start fails (the
// answer refuses the m-line, or has nothing it can use) gives its RTP/RTCP
// pair and ICE sockets back at once, before MediaStreamDidFail, not at End
// (which may come much later: the session's INVITE transaction).
func TestPortsReleasedOnStartFailure(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		answer   string
	}{
		{"answer refuses the stream", nil, "m=audio 0 RTP/AVP 0\r\n"},
		{"no common codec", map[string]string{sdkaudio.SettingCodecList: "PCMU"}, "m=audio 4000 RTP/AVP 18\r\n"},
		{"plain answer under sdes_mandatory", map[string]string{sdkaudio.SettingSRTP: sdkaudio.SRTPMandatory}, "m=audio 4000 RTP/AVP 0\r\n"},
		{"with ICE, answer refuses", map[string]string{sdkaudio.SettingUseICE: "true"}, "m=audio 0 RTP/AVP 0\r\n"},
	}
	h := newUnpooledHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := create(t, h.lp, account("a", tt.settings))
			ports := streamPorts(t, a.Stream, a.Media)
			mustBeHeld(t, ports)
			mustCall(t, "Start", func(ctx context.Context) error {
				return a.Stream.Start(ctx, &sdk.StartRequest{LocalSDP: wrap(a.Media), RemoteSDP: wrap(tt.answer)})
			})
			h.waitNotification(a, sdk.MediaStreamDidFail, 1)
			mustBeFree(t, ports, "after MediaStreamDidFail")
			mustCall(t, "End", a.Stream.End)
			h.waitNotification(a, sdk.MediaStreamDidEnd, 1)
		})
	}
}

// TestPortsReleasedOnInitializeFailure: a stream that does not initialize
// (ICE cannot be set up, or gathering does not finish) holds no port once
// MediaStreamDidNotInitialize is posted.
func TestPortsReleasedOnInitializeFailure(t *testing.T) {
	// A STUN server that never answers: gathering waits for it (pion gives
	// it 5 s) beyond the plugin's ICE timeout, set short here.
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	tests := []struct {
		name     string
		settings map[string]string
		reason   string
	}{
		{"malformed STUN server", map[string]string{sdkaudio.SettingUseICE: "true", sdkaudio.SettingSTUNServers: "[::1"}, "STUN server"},
		{"gathering times out", map[string]string{sdkaudio.SettingUseICE: "true", sdkaudio.SettingSTUNServers: silent.LocalAddr().String()}, "ICE gathering"},
	}
	lp, err := sdk.NewProvider(audiostream.Plugin("test", audiostream.WithICETimeout(300*time.Millisecond), audiostream.WithPortPool(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, lp)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			o, err := h.lp.Create(ctx, &sdk.CreateRequest{Type: sdkaudio.Type, Account: account("a", tt.settings)})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Stream.End(context.Background())
			mustCall(t, "Initialize", func(ctx context.Context) error {
				return o.Stream.Initialize(ctx, &sdk.InitializeRequest{Session: session("a", sdk.DirectionOutgoing).Session, Direction: sdk.DirectionOutgoing})
			})
			ports := streamPorts(t, o.Stream, "")
			n := h.waitNotification(o, sdk.MediaStreamDidNotInitialize, 1)
			var d sdk.DidNotInitializeData
			if err := n[0].Decode(&d); err != nil || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("MediaStreamDidNotInitialize %s, want a reason with %q", n[0].Data, tt.reason)
			}
			mustBeFree(t, ports, "after MediaStreamDidNotInitialize")
		})
	}
}

// TestPortsReleasedOnEnd: End returns the ports whatever the stream's
// state: initialized and never started (a call that was never answered),
// still gathering ICE, started (the session ended or failed), and every
// live stream when the provider closes (the host went away).
func TestPortsReleasedOnEnd(t *testing.T) {
	h := newUnpooledHarness(t)
	t.Run("initialized, never started", func(t *testing.T) {
		a := create(t, h.lp, account("a", nil))
		ports := streamPorts(t, a.Stream, a.Media)
		mustBeHeld(t, ports)
		mustCall(t, "End", a.Stream.End)
		mustBeFree(t, ports, "after End")
	})
	t.Run("ICE, initialized, never started", func(t *testing.T) {
		a := create(t, h.lp, account("a", map[string]string{sdkaudio.SettingUseICE: "true"}))
		ports := streamPorts(t, a.Stream, a.Media)
		mustBeHeld(t, ports)
		mustCall(t, "End", a.Stream.End)
		mustBeFree(t, ports, "after End")
	})
	t.Run("started", func(t *testing.T) {
		c := h.open(account("a", nil), account("b", nil))
		c.start(c.answer)
		ports := append(streamPorts(t, c.a.Stream, ""), streamPorts(t, c.b.Stream, "")...)
		mustBeHeld(t, ports)
		mustCall(t, "End A", c.a.Stream.End)
		mustCall(t, "End B", c.b.Stream.End)
		mustBeFree(t, ports, "after End")
	})
	t.Run("provider closed", func(t *testing.T) {
		lp, err := sdk.NewProvider(audiostream.Plugin("test"))
		if err != nil {
			t.Fatal(err)
		}
		h2 := newHarnessWith(t, lp)
		c := h2.open(account("a", nil), account("b", nil))
		c.start(c.answer)
		idle := create(t, lp, account("c", nil))
		ports := append(streamPorts(t, c.a.Stream, ""), streamPorts(t, idle.Stream, idle.Media)...)
		mustBeHeld(t, ports)
		mustCall(t, "Close", lp.Close)
		mustBeFree(t, ports, "after the provider closed")
	})
}

// TestPortsPooled: a pair given back stays bound for the next stream,
// which gets the same ports, and is closed after the pool's linger or
// when the plugin closes.
func TestPortsPooled(t *testing.T) {
	t.Run("reused, closed with the plugin", func(t *testing.T) {
		// A linger no slow machine reaches between the two calls.
		lp, err := sdk.NewProvider(audiostream.Plugin("test", audiostream.WithPortPool(rtpports.DefaultPoolSize, time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		h := newHarnessWith(t, lp)
		c := h.open(account("a", nil), account("b", nil))
		c.start(c.answer)
		flowing(t, c) // over the first pairs
		ports := append(streamPorts(t, c.a.Stream, ""), streamPorts(t, c.b.Stream, "")...)
		mustCall(t, "End A", c.a.Stream.End)
		mustCall(t, "End B", c.b.Stream.End)
		mustBeHeld(t, ports) // by the pool
		// B's audio went on to A's ports until B ended: a pair that
		// received something in the pool is handed out only once quiet
		// for rtpports.PoolQuiet. Waiting longer makes both quiet (a
		// condition: a longer wait only makes them quieter).
		time.Sleep(rtpports.PoolQuiet + 100*time.Millisecond)

		// The next call gets the pairs given back, and audio flows over them.
		d := h.open(account("a", nil), account("b", nil))
		d.start(d.answer)
		again := append(streamPorts(t, d.a.Stream, ""), streamPorts(t, d.b.Stream, "")...)
		if !sameSet(ports, again) {
			t.Fatalf("second call on ports %v, want the first's %v", again, ports)
		}
		flowing(t, d) // over the same sockets, from their pool readers
		mustCall(t, "Close", lp.Close)
		mustBeFree(t, ports, "after the provider closed")
	})
	t.Run("closed after the linger", func(t *testing.T) {
		lp, err := sdk.NewProvider(audiostream.Plugin("test", audiostream.WithPortPool(4, 50*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		h := newHarnessWith(t, lp)
		a := create(t, h.lp, account("a", nil))
		ports := streamPorts(t, a.Stream, a.Media)
		mustCall(t, "End", a.Stream.End)
		mustBeHeld(t, ports) // by the pool, for its linger
		waitFor(t, "the pool to close the pair after its linger", func() bool {
			held := portstest.Held(ports)
			return len(held) == 0
		})
	})
}

// flowing waits until both streams of c have received audio.
func flowing(t *testing.T, c *call) {
	t.Helper()
	waitFor(t, "media both ways", func() bool {
		return stats(t, c.a.Stream).RX.Packets > 20 && stats(t, c.b.Stream).RX.Packets > 20
	})
}

// sameSet tells whether a and b hold the same ports.
func sameSet(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[int]int{}
	for _, p := range a {
		seen[p]++
	}
	for _, p := range b {
		if seen[p]--; seen[p] < 0 {
			return false
		}
	}
	return true
}

// TestMaxStreams: audio.max_streams bounds the plugin's live streams;
// beyond it Create and NewFromSDP are refused with sdk.ErrBusy naming the
// setting (the host answers such a call 503 with Retry-After), and ending
// a stream makes room again.
func TestMaxStreams(t *testing.T) {
	h := newHarness(t)
	acc := account("a", map[string]string{sdkaudio.SettingMaxStreams: "2"})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	first := create(t, h.lp, acc)
	create(t, h.lp, acc)
	_, err := h.lp.Create(ctx, &sdk.CreateRequest{Type: sdkaudio.Type, Account: acc, Prepare: session("a", sdk.DirectionOutgoing)})
	if !errors.Is(err, sdk.ErrBusy) || !strings.Contains(err.Error(), sdkaudio.SettingMaxStreams) {
		t.Fatalf("third Create: %v, want ErrBusy naming %s", err, sdkaudio.SettingMaxStreams)
	}
	offer := wrap(first.Media)
	_, err = h.lp.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: acc, RemoteSDP: offer, Prepare: session("b", sdk.DirectionIncoming)})
	if !errors.Is(err, sdk.ErrBusy) || !strings.Contains(err.Error(), sdkaudio.SettingMaxStreams) {
		t.Fatalf("NewFromSDP beyond the limit: %v, want ErrBusy naming %s", err, sdkaudio.SettingMaxStreams)
	}
	if n := h.lp.Len(); n != 2 {
		t.Fatalf("%d live streams, want 2", n)
	}
	mustCall(t, "End", first.Stream.End)
	// An offer refused for its SDP takes no room.
	_, err = h.lp.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: acc, RemoteSDP: wrap("m=audio 4000 RTP/AVPF 0\r\n")})
	if !errors.Is(err, sdk.ErrInvalidStream) || strings.Contains(err.Error(), sdkaudio.SettingMaxStreams) {
		t.Fatalf("bad offer: %v", err)
	}
	b, err := h.lp.NewFromSDP(ctx, &sdk.NewFromSDPRequest{Account: acc, RemoteSDP: offer, Prepare: session("b", sdk.DirectionIncoming)})
	if err != nil {
		t.Fatalf("NewFromSDP after an End: %v", err)
	}
	defer b.Stream.End(context.Background())

	for _, v := range []string{"0", "-1", "many"} {
		_, err := h.lp.Create(ctx, &sdk.CreateRequest{Type: sdkaudio.Type, Account: account("x", map[string]string{sdkaudio.SettingMaxStreams: v})})
		if !errors.Is(err, sdk.ErrInvalidArgument) || !strings.Contains(err.Error(), sdkaudio.SettingMaxStreams) {
			t.Errorf("max_streams=%q: %v, want ErrInvalidArgument naming the setting", v, err)
		}
	}
}
