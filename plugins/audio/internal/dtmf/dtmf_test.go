package dtmf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestEventMarshal(t *testing.T) {
	tests := []struct {
		ev   Event
		wire string
	}{
		{Event{Code: 5, Volume: 10, Duration: 160}, "050a00a0"},
		{Event{Code: 11, End: true, Volume: 10, Duration: 1600}, "0b8a0640"},
		{Event{Code: 0, Volume: 0, Duration: 0}, "00000000"},
		{Event{Code: 15, End: true, Volume: 63, Duration: 0xFFFF}, "0fbfffff"},
		{Event{Code: 16, Volume: 7, Duration: 800}, "10070320"}, // flash, not DTMF
	}
	for _, tt := range tests {
		t.Run(tt.wire, func(t *testing.T) {
			if got := hex.EncodeToString(tt.ev.Marshal()); got != tt.wire {
				t.Fatalf("Marshal = %s, want %s", got, tt.wire)
			}
			b, _ := hex.DecodeString(tt.wire)
			got, err := Unmarshal(b)
			if err != nil || got != tt.ev {
				t.Fatalf("Unmarshal = %+v, %v; want %+v", got, err, tt.ev)
			}
		})
	}
}

func TestUnmarshalIgnoresReservedBitAndVolumeOverflow(t *testing.T) {
	// R bit set and extra trailing bytes.
	got, err := Unmarshal([]byte{0x03, 0xCA, 0x00, 0x50, 0xFF})
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Code: 3, End: true, Volume: 10, Duration: 80}
	if got != want {
		t.Fatalf("Unmarshal = %+v, want %+v", got, want)
	}
	// Volume only has 6 bits on the wire.
	if b := (Event{Volume: 0xFF}).Marshal(); b[1] != 0x3F {
		t.Fatalf("volume byte = %#02x, want 0x3f", b[1])
	}
}

func TestUnmarshalShort(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {1, 2}, {1, 2, 3}} {
		if _, err := Unmarshal(b); !errors.Is(err, ErrShortPayload) {
			t.Errorf("Unmarshal(%x) error = %v, want ErrShortPayload", b, err)
		}
	}
}

func TestCodeAndDigit(t *testing.T) {
	for i, d := range "0123456789*#ABCD" {
		code, err := Code(d)
		if err != nil || int(code) != i {
			t.Errorf("Code(%q) = %d, %v; want %d", d, code, err, i)
		}
		back, ok := Event{Code: code}.Digit()
		if !ok || back != d {
			t.Errorf("Event{%d}.Digit() = %q, %v", code, back, ok)
		}
	}
	if c, err := Code('b'); err != nil || c != 13 {
		t.Errorf("Code('b') = %d, %v; want 13", c, err)
	}
	for _, d := range "eE+ 9\x00é" {
		if d == '9' {
			continue
		}
		if _, err := Code(d); !errors.Is(err, ErrInvalidDigit) {
			t.Errorf("Code(%q) error = %v, want ErrInvalidDigit", d, err)
		}
	}
	if _, ok := (Event{Code: 16}).Digit(); ok {
		t.Error("code 16 reported as a DTMF digit")
	}
}

// drain ticks s until it has nothing to send.
func drain(t *testing.T, s *Sender) []Packet {
	t.Helper()
	var out []Packet
	for i := 0; ; i++ {
		p, ok := s.Tick()
		if !ok {
			return out
		}
		if i > 10000 {
			t.Fatal("sender never finished")
		}
		out = append(out, p)
	}
}

func formatPackets(ps []Packet) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s marker=%v start=%v\n", hex.EncodeToString(p.Payload), p.Marker, p.Start)
	}
	return b.String()
}

// TestSenderGolden pins the packets of the digits "5#" with the reference's
// defaults to testdata/sender-5hash.golden (go test -update rewrites it).
func TestSenderGolden(t *testing.T) {
	s, err := NewSender()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range "5#" {
		if err := s.Enqueue(d); err != nil {
			t.Fatal(err)
		}
	}
	got := formatPackets(drain(t, s))
	path := filepath.Join("testdata", "sender-5hash.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("packets differ from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestSenderSequence(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		updates   int    // packets without E bit
		ends      int    // packets with E bit
		step      uint16 // duration growth per packet
		total     uint16
		wantVol   uint8
		firstsEnd bool // the first packet already ends the event
	}{
		{"defaults", nil, 9, 3, 160, 1600, 10, false},
		{"100 ms", []Option{WithDuration(100 * time.Millisecond)}, 4, 3, 160, 800, 10, false},
		{"48 kHz clock", []Option{WithClockRate(48000)}, 9, 3, 960, 9600, 10, false},
		{"one end packet", []Option{WithEndPackets(1), WithVolume(20)}, 9, 1, 160, 1600, 20, false},
		{"single interval", []Option{WithDuration(20 * time.Millisecond)}, 0, 3, 160, 160, 10, true},
		{"uneven duration", []Option{WithDuration(110 * time.Millisecond)}, 5, 3, 160, 880, 10, false},
		{"10 ms interval", []Option{WithInterval(10 * time.Millisecond), WithDuration(50 * time.Millisecond)}, 4, 3, 80, 400, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSender(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if s.Busy() {
				t.Fatal("new sender busy")
			}
			if err := s.Enqueue('7'); err != nil {
				t.Fatal(err)
			}
			if !s.Busy() {
				t.Fatal("sender with a queued digit not busy")
			}
			ps := drain(t, s)
			if len(ps) != tt.updates+tt.ends {
				t.Fatalf("%d packets, want %d:\n%s", len(ps), tt.updates+tt.ends, formatPackets(ps))
			}
			for i, p := range ps {
				ev, err := Unmarshal(p.Payload)
				if err != nil || ev != p.Event {
					t.Fatalf("packet %d: payload %x does not match event %+v", i, p.Payload, p.Event)
				}
				if ev.Code != 7 || ev.Volume != tt.wantVol {
					t.Errorf("packet %d: code %d volume %d", i, ev.Code, ev.Volume)
				}
				first := i == 0
				if p.Marker != first || p.Start != first {
					t.Errorf("packet %d: marker=%v start=%v, want %v", i, p.Marker, p.Start, first)
				}
				wantEnd := i >= tt.updates
				if ev.End != wantEnd {
					t.Errorf("packet %d: E=%v, want %v", i, ev.End, wantEnd)
				}
				wantDur := tt.total
				if !wantEnd {
					wantDur = uint16(i+1) * tt.step
				}
				if ev.Duration != wantDur {
					t.Errorf("packet %d: duration %d, want %d", i, ev.Duration, wantDur)
				}
			}
			if s.Busy() {
				t.Fatal("sender busy after the event")
			}
		})
	}
}

func TestSenderQueue(t *testing.T) {
	s, err := NewSender(WithQueueSize(2), WithDuration(40*time.Millisecond), WithEndPackets(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue('x'); !errors.Is(err, ErrInvalidDigit) {
		t.Fatalf("Enqueue('x') = %v, want ErrInvalidDigit", err)
	}
	for _, d := range "1a" {
		if err := s.Enqueue(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Enqueue('2'); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third Enqueue = %v, want ErrQueueFull", err)
	}
	// Taking the first digit off the queue makes room.
	if _, ok := s.Tick(); !ok {
		t.Fatal("no packet")
	}
	if err := s.Enqueue('2'); err != nil {
		t.Fatalf("Enqueue after a digit started: %v", err)
	}
	ps := drain(t, s)
	var digits []rune
	for _, p := range ps {
		if p.Start {
			d, _ := p.Event.Digit()
			digits = append(digits, d)
		}
	}
	// '1' started before drain; its end packet and the other two events.
	if got := string(digits); got != "A2" {
		t.Fatalf("events started during drain: %q, want %q", got, "A2")
	}
	if len(ps) != 1+2+2 {
		t.Fatalf("%d packets, want 5:\n%s", len(ps), formatPackets(ps))
	}
}

func TestNewSenderInvalid(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{"zero clock", []Option{WithClockRate(0)}},
		{"zero interval", []Option{WithInterval(0)}},
		{"duration shorter than interval", []Option{WithDuration(10 * time.Millisecond)}},
		{"duration overflows 16 bits", []Option{WithClockRate(48000), WithDuration(2 * time.Second)}},
		{"volume", []Option{WithVolume(64)}},
		{"negative volume", []Option{WithVolume(-1)}},
		{"no end packets", []Option{WithEndPackets(0)}},
		{"no queue", []Option{WithQueueSize(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSender(tt.opts...); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewSender error = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// rx is one received packet in a receiver scenario.
type rx struct {
	ts     uint32
	marker bool
	ev     Event
}

func ev(code uint8, end bool, dur uint16) Event {
	return Event{Code: code, End: end, Volume: 10, Duration: dur}
}

func TestReceiver(t *testing.T) {
	tests := []struct {
		name    string
		packets []rx
		want    string // digits reported, in order
	}{
		{"complete event", []rx{
			{1000, true, ev(5, false, 160)}, {1000, false, ev(5, false, 320)},
			{1000, false, ev(5, true, 480)}, {1000, false, ev(5, true, 480)}, {1000, false, ev(5, true, 480)},
		}, "5"},
		{"lost start packet", []rx{
			{1000, false, ev(1, false, 320)}, {1000, false, ev(1, true, 480)},
		}, "1"},
		{"only an end packet arrives", []rx{{1000, false, ev(11, true, 1600)}}, "#"},
		{"same digit twice", []rx{
			{1000, true, ev(3, false, 160)}, {1000, false, ev(3, true, 320)},
			{3000, true, ev(3, false, 160)}, {3000, false, ev(3, true, 320)},
		}, "33"},
		{"end packets lost, next event same digit", []rx{
			{1000, true, ev(3, false, 160)}, {1000, false, ev(3, false, 320)},
			{3000, true, ev(3, false, 160)}, {3000, false, ev(3, true, 320)},
		}, "33"},
		{"end and next start lost, short event", []rx{
			{1000, true, ev(4, false, 160)},
			{3000, false, ev(4, false, 320)},
		}, "44"},
		{"reordered packet of the previous event", []rx{
			{1000, true, ev(7, false, 160)},
			{3000, true, ev(8, false, 160)},
			{1000, false, ev(7, true, 320)},
			{3000, false, ev(8, true, 320)},
		}, "78"},
		{"timestamp wraps", []rx{
			{0xFFFFFF00, true, ev(9, true, 160)},
			{0x00000100, true, ev(0, true, 160)},
		}, "90"},
		{"long event in two segments", []rx{
			{1000, true, ev(12, false, 0xFF60)}, {1000, false, ev(12, false, 0xFFFF)},
			{1000 + 0xFFFF, false, ev(12, false, 160)}, {1000 + 0xFFFF, false, ev(12, true, 800)},
		}, "A"},
		{"non-DTMF event ignored", []rx{
			{1000, true, ev(16, false, 160)}, {1000, false, ev(16, true, 800)},
			{5000, true, ev(2, true, 800)},
		}, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Receiver
			var got []rune
			for i, p := range tt.packets {
				d, ok, err := r.Receive(p.ts, p.marker, p.ev.Marshal())
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if ok {
					if d.Timestamp != p.ts || d.Volume != p.ev.Volume {
						t.Errorf("packet %d: digit %+v, want timestamp %d volume %d", i, d, p.ts, p.ev.Volume)
					}
					got = append(got, d.Digit)
				}
			}
			if string(got) != tt.want {
				t.Fatalf("digits %q, want %q", string(got), tt.want)
			}
		})
	}
}

func TestReceiverActive(t *testing.T) {
	var r Receiver
	if r.Active() {
		t.Fatal("zero Receiver active")
	}
	steps := []struct {
		ev     Event
		active bool
	}{
		{ev(1, false, 160), true},
		{ev(1, false, 320), true},
		{ev(1, true, 480), false},
		{ev(1, true, 480), false},
	}
	for i, s := range steps {
		if _, _, err := r.Receive(1000, i == 0, s.ev.Marshal()); err != nil {
			t.Fatal(err)
		}
		if r.Active() != s.active {
			t.Fatalf("after packet %d Active() = %v, want %v", i, r.Active(), s.active)
		}
	}
	if _, _, err := r.Receive(2000, true, []byte{1, 2}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("short payload error = %v", err)
	}
}

// TestSenderToReceiverWithLoss sends digits through a lossy, in-order
// channel that stamps packets as an RTP layer would, and checks that every
// digit with at least one surviving packet is reported exactly once.
func TestSenderToReceiverWithLoss(t *testing.T) {
	const digits = "0123456789*#ABCD5555"
	for _, loss := range []float64{0, 0.2, 0.5, 0.8} {
		t.Run(fmt.Sprintf("loss %.0f%%", loss*100), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(loss*100)))
			s, err := NewSender(WithQueueSize(len(digits)))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range digits {
				if err := s.Enqueue(d); err != nil {
					t.Fatal(err)
				}
			}
			var r Receiver
			var mediaTS, eventTS uint32 = 0xFFFF0000, 0 // wraps midway
			var want, got []rune
			survived := false
			var current rune
			flush := func() {
				if survived {
					want = append(want, current)
				}
			}
			for {
				p, ok := s.Tick()
				if !ok {
					break
				}
				if p.Start {
					flush()
					eventTS = mediaTS
					current, _ = p.Event.Digit()
					survived = false
				}
				mediaTS += 160
				if rng.Float64() < loss {
					continue
				}
				survived = true
				d, ok, err := r.Receive(eventTS, p.Marker, p.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, d.Digit)
				}
			}
			flush()
			if string(got) != string(want) {
				t.Fatalf("received %q, want %q", string(got), string(want))
			}
			if loss == 0 && string(got) != digits {
				t.Fatalf("lossless channel gave %q", string(got))
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte{0x05, 0x0a, 0x00, 0xa0})
	f.Add([]byte{0x0b, 0x8a, 0x06, 0x40})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x00})
	f.Add([]byte{0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if len(b) < PayloadSize {
			if !errors.Is(err, ErrShortPayload) {
				t.Fatalf("Unmarshal(%x) = %v, want ErrShortPayload", b, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		// Marshal gives back the first 4 bytes with the R bit cleared.
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if got := e.Marshal(); !bytes.Equal(got, want) {
			t.Fatalf("Marshal(Unmarshal(%x)) = %x, want %x", b, got, want)
		}
		var r Receiver
		if _, _, err := r.Receive(1, true, b); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkSenderTick(b *testing.B) {
	s, _ := NewSender(WithQueueSize(1))
	for b.Loop() {
		if _, ok := s.Tick(); !ok {
			_ = s.Enqueue('5')
		}
	}
}
