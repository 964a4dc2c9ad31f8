package mixer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/tone"
)

func newTestMixer(t *testing.T, opts ...Option) *Mixer {
	t.Helper()
	m, err := NewVoice(append([]Option{WithSampleRate(8000), WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestConference walks a call's bridge through the changes a call makes and
// checks what every sink hears after each tick.
func TestConference(t *testing.T) {
	m := newTestMixer(t)
	a, b := newDuplex("a", 100), newDuplex("b", 1000)
	rec := newSink("rec")
	br := m.NewBridge()
	for _, p := range []Port{m.Device(), a, b} {
		if err := br.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	mic := fill(160, 5)
	out := make([]int16, 160)
	steps := []struct {
		name            string
		change          func() error
		speaker, ga, gb int16
		rec             int16 // -1: recorder not in the mixer
	}{
		{"mesh", nil, 1100, 1005, 105, -1},
		{"recorder joins", func() error { return br.Add(rec) }, 1100, 1005, 105, 1105},
		{"a muted", func() error { return m.SetMuted(a, true) }, 1000, 1005, 5, 1005},
		{"mic muted", func() error { return m.SetMuted(m.Device(), true) }, 1000, 1000, 0, 1000},
		{"unmuted", func() error { m.SetMuted(a, false); return m.SetMuted(m.Device(), false) }, 1100, 1005, 105, 1105},
		{"b leaves", func() error { return br.Remove(b) }, 100, 5, 105, 105},
		{"a removed from mixer", func() error { return m.Remove(a) }, 0, 5, 105, 5},
	}
	for _, s := range steps {
		if s.change != nil {
			if err := s.change(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		a.last, b.last, rec.last = nil, nil, nil
		m.ProcessFrame(mic, out)
		if got := constant(t, out); got != s.speaker {
			t.Errorf("%s: speaker %d, want %d", s.name, got, s.speaker)
		}
		if s.name == "a removed from mixer" {
			if a.last != nil {
				t.Errorf("%s: a still written to", s.name)
			}
		} else if got := constant(t, a.last); got != s.ga {
			t.Errorf("%s: a hears %d, want %d", s.name, got, s.ga)
		}
		if s.name != "b leaves" && s.name != "a removed from mixer" {
			if got := constant(t, b.last); got != s.gb {
				t.Errorf("%s: b hears %d, want %d", s.name, got, s.gb)
			}
		}
		if s.rec >= 0 {
			if got := constant(t, rec.last); got != s.rec {
				t.Errorf("%s: recorder hears %d, want %d", s.name, got, s.rec)
			}
		}
	}
}

func TestSaturationAndVolume(t *testing.T) {
	m := newTestMixer(t)
	x, y := newSrc("x", 30000), newSrc("y", 30000)
	for _, p := range []Port{x, y} {
		m.Add(p)
		if err := m.Connect(p, m.Device()); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]int16, 160)
	m.ProcessFrame(make([]int16, 160), out)
	if got := constant(t, out); got != 32767 {
		t.Fatalf("speaker %d, want saturation at 32767", got)
	}
	if l, _ := m.Level(x); l != 233 {
		t.Errorf("Level(x) = %d, want 233", l)
	}
	m.Disconnect(y, m.Device())
	m.SetOutputVolume(50)
	m.ProcessFrame(make([]int16, 160), out)
	if got := constant(t, out); got != 15000 {
		t.Fatalf("speaker at 50%% volume %d, want 15000", got)
	}
}

// TestConnectionCounting puts two ports in two bridges (a stream's bridge
// nested in a conference): leaving one keeps the connection.
func TestConnectionCounting(t *testing.T) {
	m := newTestMixer(t)
	a, b := newDuplex("a", 1), newDuplex("b", 2)
	b1, b2 := m.NewBridge(), m.NewBridge()
	for _, br := range []*Bridge{b1, b2} {
		br.Add(a)
		br.Add(b)
	}
	b1.Remove(a)
	if !m.Connected(a, b) || !m.Connected(b, a) {
		t.Fatal("connection lost while the other bridge holds it")
	}
	b2.Remove(b)
	if m.Connected(a, b) || m.Connected(b, a) {
		t.Fatal("connection kept after both bridges let go")
	}
	if got := b2.Ports(); len(got) != 1 || got[0] != Port(a) {
		t.Fatalf("b2 ports %v", got)
	}
}

func TestUnconnectedSourceNotRead(t *testing.T) {
	m := newTestMixer(t)
	s := newSrc("s", 1)
	m.Add(s)
	m.ProcessFrame(make([]int16, 160), make([]int16, 160))
	if s.reads != 0 {
		t.Fatalf("unconnected source read %d times", s.reads)
	}
	m.Connect(s, m.Device())
	m.ProcessFrame(make([]int16, 160), make([]int16, 160))
	if s.reads != 1 {
		t.Fatalf("connected source read %d times, want 1", s.reads)
	}
}

type namedOnly string

func (n namedOnly) Name() string { return string(n) }

func TestErrors(t *testing.T) {
	m := newTestMixer(t)
	src, sink, other := newSrc("src", 1), newSink("sink"), newSink("other")
	m.Add(src)
	m.Add(sink)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate", m.Add(src), ErrDuplicatePort},
		{"duplicate name", m.Add(newSink("src")), ErrDuplicatePort},
		{"neither source nor sink", m.Add(namedOnly("x")), ErrNotSink},
		{"unknown", m.Connect(src, other), ErrUnknownPort},
		{"self", m.Connect(m.Device(), m.Device()), ErrSelfConnection},
		{"from a sink", m.Connect(sink, m.Device()), ErrNotSource},
		{"to a source", m.Connect(m.Device(), src), ErrNotSink},
		{"not connected", m.Disconnect(src, sink), ErrNotConnected},
		{"remove unknown", m.Remove(other), ErrUnknownPort},
		{"mute unknown", m.SetMuted(other, true), ErrUnknownPort},
		{"remove device", m.Remove(m.Device()), ErrDevicePort},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if _, err := NewVoice(WithSampleRate(11025)); err == nil {
		t.Error("NewVoice at 11025 Hz succeeded")
	}
	m.Close()
	if err := m.Add(other); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %v", err)
	}
}

// stepClock is a device.Null driven by the test.
type stepClock struct {
	ticks  chan time.Time
	frames chan []int16
}

func newStepClock(t *testing.T) *stepClock {
	c := &stepClock{ticks: make(chan time.Time), frames: make(chan []int16, 1)}
	return c
}

func (c *stepClock) backend() *device.Null {
	return &device.Null{Ticks: c.ticks, Output: func(f []int16) { c.frames <- append([]int16(nil), f...) }}
}

func (c *stepClock) step(t *testing.T) []int16 {
	t.Helper()
	c.ticks <- time.Time{}
	return <-c.frames
}

// TestClockAndFallback runs a voice mixer with no device backend: Start
// reports the device error, and the null clock still drives the mixer.
func TestClockAndFallback(t *testing.T) {
	clk := newStepClock(t)
	m := newTestMixer(t, WithNullClock(clk.backend()))
	var oe *device.OpenError
	if err := m.Start(context.Background()); !errors.As(err, &oe) || !m.OnNullDevice() {
		t.Fatalf("Start without a backend = %v (on null %v)", err, m.OnNullDevice())
	}
	tg, err := NewToneGenerator("tones", m.SampleRate(), tone.WithVolume(50))
	if err != nil {
		t.Fatal(err)
	}
	m.Add(tg)
	m.Connect(tg, m.Device())
	done := tg.PlayTones(tone.Tone{F1: 440, Duration: 200 * time.Millisecond})
	var out []int16
	for i := 0; i < 10; i++ {
		out = append(out, clk.step(t)...)
	}
	if a := amplitude(out, 8000, 440); a < 15000 {
		t.Fatalf("440 Hz amplitude %.0f at the speaker", a)
	}
	clk.step(t)
	select {
	case <-done:
	default:
		t.Fatal("tone generator did not report the end of its tones")
	}
	if err := m.SetDevices(context.Background(), device.None, device.None); err != nil {
		t.Fatalf("SetDevices(none) = %v", err)
	}
	if got := m.Devices(); got.Input != device.None || got.Output != device.None {
		t.Fatalf("Devices = %+v", got)
	}
	for _, v := range clk.step(t) {
		if v != 0 {
			t.Fatal("speaker not silent after the tones")
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAlertMixerHasNoInput(t *testing.T) {
	clk := newStepClock(t)
	m, err := NewAlert(WithSampleRate(16000), WithLogger(quiet), WithNullClock(clk.backend()), WithDevices("mic", "speaker"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Start(context.Background())
	if got := m.Devices(); got.Input != device.None || got.Output != "speaker" {
		t.Fatalf("alert mixer devices %+v", got)
	}
	m.SetDevices(context.Background(), "mic", "other")
	if got := m.Devices(); got.Input != device.None || got.Output != "other" {
		t.Fatalf("alert mixer devices after SetDevices %+v", got)
	}
	if m.SamplesPerFrame() != 320 {
		t.Fatalf("SamplesPerFrame = %d", m.SamplesPerFrame())
	}
}

func TestToneGeneratorDTMF(t *testing.T) {
	m := newTestMixer(t)
	tg, _ := NewToneGenerator("dtmf", 8000)
	m.Add(tg)
	m.Connect(tg, m.Device())
	if _, err := tg.PlayDTMF("Z"); !errors.Is(err, tone.ErrInvalidDigit) {
		t.Fatalf("PlayDTMF(Z) = %v", err)
	}
	done, err := tg.PlayDTMF("0")
	if err != nil {
		t.Fatal(err)
	}
	var heard []int16
	out := make([]int16, 160)
	for i := 0; i < 8; i++ { // 160 ms: 100 ms tone + 50 ms pause
		m.ProcessFrame(make([]int16, 160), out)
		heard = append(heard, out...)
	}
	<-done
	for _, f := range []float64{941, 1336} {
		if a := amplitude(heard[:800], 8000, f); a < 5000 {
			t.Errorf("%v Hz amplitude %.0f", f, a)
		}
	}
	stopped := tg.PlayTones(tone.Tone{F1: 500, Duration: time.Hour})
	tg.Stop()
	<-stopped
	if tg.Playing() {
		t.Fatal("playing after Stop")
	}
}

func BenchmarkProcessFrame(b *testing.B) {
	m, _ := NewVoice(WithLogger(quiet))
	defer m.Close()
	br := m.NewBridge()
	br.Add(m.Device())
	for _, name := range []string{"call1", "call2", "call3"} {
		br.Add(newDuplex(name, 100))
	}
	br.Add(newSink("rec"))
	in, out := make([]int16, m.SamplesPerFrame()), make([]int16, m.SamplesPerFrame())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.ProcessFrame(in, out)
	}
}

// ratedPort is a duplex port at a rate of its own (RatedPort) producing a
// sine: it records the frames it is given and the slices themselves.
type ratedPort struct {
	name  string
	rate  int
	freq  float64
	reads int
	got   [][]int16
	given []*int16 // the first element of each frame passed in
}

func (p *ratedPort) Name() string    { return p.name }
func (p *ratedPort) SampleRate() int { return p.rate }
func (p *ratedPort) ReadFrame(f []int16) {
	if len(f) != p.rate/50 {
		panic("rated port read at another rate")
	}
	copy(f, sine(p.rate, p.freq, 8000, p.reads*len(f), len(f)))
	p.reads++
}
func (p *ratedPort) WriteFrame(f []int16) {
	p.got = append(p.got, slices.Clone(f))
	p.given = append(p.given, &f[0])
}

// TestRatedPorts: ports at rates of their own are read and written at
// those rates; a sink fed by one source of its rate gets that source's
// frame itself (no resampling, no mixing), others get converted frames;
// the device is left out when nothing plays it.
func TestRatedPorts(t *testing.T) {
	m := newTestMixer(t, WithSampleRate(32000))
	call := &ratedPort{name: "call", rate: 8000, freq: 400}
	file := &ratedPort{name: "file", rate: 8000, freq: 1000}
	wide := &ratedPort{name: "wide", rate: 16000, freq: 700}
	for _, p := range []Port{call, file, wide} {
		if err := m.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][2]Port{{file, call}, {call, m.Device()}, {call, wide}} {
		if err := m.Connect(c[0], c[1]); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]int16, 640)
	var speaker []int16
	for range 50 {
		m.ProcessFrame(nil, out)
		speaker = append(speaker, out...)
	}
	if len(call.got) != 50 || len(call.got[0]) != 160 {
		t.Fatalf("the 8 kHz call got %d frames of %d samples", len(call.got), len(call.got[0]))
	}
	// The file's own frames, passed through: the same memory each tick as
	// the mixer's frame of the file, and the file's samples exactly.
	if want := sine(8000, 1000, 8000, 160*10, 160); !slices.Equal(call.got[10], want) {
		t.Errorf("the call did not get the file's frame unchanged")
	}
	if call.given[10] != call.given[11] {
		t.Errorf("a single source of the sink's rate was copied")
	}
	// The 16 kHz sink gets the call converted, the speaker too, at 32 kHz.
	if len(wide.got[0]) != 320 {
		t.Fatalf("the 16 kHz port got %d samples a frame", len(wide.got[0]))
	}
	var w []int16
	for _, f := range wide.got {
		w = append(w, f...)
	}
	if a := amplitude(w[3200:], 16000, 400); a < 7500 || a > 8500 {
		t.Errorf("16 kHz port: 400 Hz amplitude %.0f, want about 8000", a)
	}
	if a := amplitude(speaker[6400:], 32000, 400); a < 7500 || a > 8500 {
		t.Errorf("speaker: 400 Hz amplitude %.0f, want about 8000", a)
	}

	// Nothing plays the device: sources feeding it are still read (the
	// call's jitter buffer plays out), nothing is mixed for it.
	reads := call.reads
	m.ProcessFrame(nil, nil)
	if call.reads != reads+1 {
		t.Error("a source feeding only a silent device was not read")
	}

	// A rate change between ticks (a re-INVITE changed the codec).
	call.rate = 16000
	n := len(call.got)
	m.ProcessFrame(nil, out)
	if got := len(call.got[n]); got != 320 {
		t.Fatalf("after its rate changed to 16 kHz the call got %d samples", got)
	}
	if got := len(wide.got[len(wide.got)-1]); got != 320 {
		t.Fatalf("the 16 kHz port got %d samples from a 16 kHz call", got)
	}
}

// TestManyPorts: a mixer of hundreds of ports spreads its tick over the
// processors (run it with -race): every sink still hears exactly its
// sources, tick after tick.
func TestManyPorts(t *testing.T) {
	m := newTestMixer(t)
	const pairs = 300
	srcs := make([]srcPort, pairs)
	sinks := make([]sinkPort, pairs)
	for i := range pairs {
		srcs[i], sinks[i] = newSrc(fmt.Sprintf("src%d", i), int16(i)), newSink(fmt.Sprintf("sink%d", i))
		for _, p := range []Port{srcs[i], sinks[i]} {
			if err := m.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Connect(srcs[i], sinks[i]); err != nil {
			t.Fatal(err)
		}
		if i > 0 { // and the previous source: two to mix
			if err := m.Connect(srcs[i-1], sinks[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for tick := range 5 {
		m.ProcessFrame(nil, nil)
		for i, s := range sinks {
			want := int16(i)
			if i > 0 {
				want += int16(i - 1)
			}
			if got := constant(t, s.last); got != want {
				t.Fatalf("tick %d: sink %d hears %d, want %d", tick, i, got, want)
			}
			if srcs[i].reads != tick+1 {
				t.Fatalf("tick %d: source %d read %d times", tick, i, srcs[i].reads)
			}
		}
	}
}
