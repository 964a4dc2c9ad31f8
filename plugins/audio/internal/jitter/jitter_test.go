package jitter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// script runs a compact scenario against a fixed 40 ms (2-frame) buffer.
// Tokens: "+N" pushes sequence N (N may exceed 65535 to show wrapping; it is
// taken modulo 2^16), "+N@S" pushes with SSRC S, "p" pops. Pops print "N"
// for a packet, "L" for lost, "E" for empty.
func script(t *testing.T, b *Buffer, ops string) string {
	t.Helper()
	var out []string
	now := time.Unix(0, 0)
	for _, op := range strings.Fields(ops) {
		if op == "p" {
			now = now.Add(20 * time.Millisecond)
			p, st := b.Pop()
			switch st {
			case StatusOK:
				out = append(out, fmt.Sprint(p.SequenceNumber))
			case StatusLost:
				out = append(out, "L")
			default:
				out = append(out, "E")
			}
			continue
		}
		var seq int
		ssrc := uint32(1)
		if strings.Contains(op, "@") {
			fmt.Sscanf(op, "+%d@%d", &seq, &ssrc)
		} else {
			fmt.Sscanf(op, "+%d", &seq)
		}
		b.Push(Packet{SSRC: ssrc, SequenceNumber: uint16(seq), Timestamp: uint32(seq) * 160, Payload: []byte{byte(seq)}}, now)
	}
	return strings.Join(out, " ")
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name string
		ops  string
		want string
		stat func(Stats) bool
	}{
		{"in order", "+1 p +2 p +3 p +4 p p p", "E 1 2 3 4 L",
			func(s Stats) bool { return s.Played == 4 && s.Underruns == 1 && s.Lost == 0 }},
		{"reorder", "+1 +3 +2 p p p", "1 2 3",
			func(s Stats) bool { return s.Played == 3 }},
		{"reorder before start", "+5 +4 p p", "4 5", nil},
		{"loss", "+1 +2 p p +4 +5 p p p", "1 2 L 4 5",
			func(s Stats) bool { return s.Lost == 1 && s.Played == 4 }},
		{"duplicate", "+1 +1 +2 p p", "1 2",
			func(s Stats) bool { return s.Duplicate == 1 }},
		{"late", "+1 +2 p p +1 +3 +4 p p", "1 2 3 4",
			func(s Stats) bool { return s.Late == 1 }},
		{"wraparound", "+65534 +65535 +65536 +65537 p p p p", "65534 65535 0 1",
			func(s Stats) bool { return s.Played == 4 && s.Lost == 0 }},
		{"wraparound reordered", "+65535 +65537 +65536 p p p", "65535 0 1", nil},
		{"ssrc change resets", "+1 +2 p +500@2 +501@2 p p p", "1 500 501 L",
			func(s Stats) bool { return s.Resets == 1 }},
		{"delayed packet after underrun still plays", "+1 +2 p p p +3 +4 p p", "1 2 L 3 4",
			func(s Stats) bool { return s.Underruns == 1 && s.Lost == 0 }},
		{"stray far packet dropped", "+1 +2 p +30000 +3 p p", "1 2 3",
			func(s Stats) bool { return s.Late == 1 && s.Resets == 0 }},
		{"sequence restart confirmed", "+1 +2 p +30000 +30001 p p", "1 30000 30001",
			func(s Stats) bool { return s.Resets == 1 }},
		{"latency cut", "+1 +2 +3 +4 +5 +6 p p", "2 3",
			func(s Stats) bool { return s.Discarded == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 80 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if got := script(t, b, tt.ops); got != tt.want {
				t.Fatalf("pops = %q, want %q", got, tt.want)
			}
			if s := b.Stats(); tt.stat != nil && !tt.stat(s) {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestOverflow(t *testing.T) {
	b, err := New(Config{MinDelay: 20 * time.Millisecond, MaxDelay: 40 * time.Millisecond, Capacity: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Six packets into four slots: the two oldest are discarded.
	if got := script(t, b, "+1 +2 +3 +4 +5 +6 p"); got != "4" {
		t.Fatalf("first pop %q", got)
	}
	if s := b.Stats(); s.Discarded != 3 || s.Depth != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestAdaptiveTarget(t *testing.T) {
	b, err := New(Config{Adaptive: true, MinDelay: 40 * time.Millisecond, MaxDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Stats().Target; got != 40*time.Millisecond {
		t.Fatalf("initial target %v", got)
	}
	// Packets every 20 ms of media but arriving alternately 0 and 60 ms late.
	start := time.Unix(0, 0)
	for i := 0; i < 200; i++ {
		arr := start.Add(time.Duration(i) * 20 * time.Millisecond)
		if i%2 == 1 {
			arr = arr.Add(60 * time.Millisecond)
		}
		b.Push(Packet{SSRC: 9, SequenceNumber: uint16(i), Timestamp: uint32(i) * 160}, arr)
		b.Pop()
	}
	s := b.Stats()
	if s.Jitter < 40*time.Millisecond || s.Target <= 100*time.Millisecond || s.Target > 200*time.Millisecond {
		t.Fatalf("jitter %v target %v: want the target to grow with the jitter", s.Jitter, s.Target)
	}
	fixed, _ := New(Config{MinDelay: 40 * time.Millisecond})
	fixed.Push(Packet{SSRC: 9}, start)
	fixed.Push(Packet{SSRC: 9, SequenceNumber: 1, Timestamp: 160}, start.Add(time.Second))
	if got := fixed.Stats().Target; got != 40*time.Millisecond {
		t.Fatalf("fixed target moved to %v", got)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{MinDelay: 100 * time.Millisecond, MaxDelay: 60 * time.Millisecond}, false},
		{Config{Capacity: 2}, false},
		{Config{Frame: -1}, false},
	}
	for i, tt := range tests {
		_, err := New(tt.cfg)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%d: err = %v", i, err)
		}
	}
}

func TestReset(t *testing.T) {
	b, _ := New(Config{})
	script(t, b, "+1 +2 +3")
	b.Reset()
	if got := script(t, b, "p +900 +901 p"); got != "E 900" {
		t.Fatalf("after reset: %q", got)
	}
}

// FuzzBuffer drives a buffer with arbitrary pushes and pops: it must never
// panic and its counters must stay consistent.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 2, 0, 255, 0, 0, 3, 0, 255})
	f.Add([]byte{0, 0xff, 0xfe, 0, 0xff, 0xff, 0, 0, 0, 255, 255, 255})
	f.Add([]byte{1, 0x80, 0, 0, 0x80, 1, 2, 0x80, 2, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := New(Config{Adaptive: len(data)%2 == 0, Capacity: 8, MaxDelay: 100 * time.Millisecond, MinDelay: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		var pops, ok, lost uint64
		for len(data) >= 3 {
			op, hi, lo := data[0], data[1], data[2]
			data = data[3:]
			now = now.Add(time.Duration(op) * time.Millisecond)
			if op == 255 {
				_, st := b.Pop()
				pops++
				switch st {
				case StatusOK:
					ok++
				case StatusLost:
					lost++
				}
				continue
			}
			seq := uint16(hi)<<8 | uint16(lo)
			b.Push(Packet{SSRC: uint32(op % 3), SequenceNumber: seq, Timestamp: uint32(seq) * 160}, now)
			if s := b.Stats(); s.Depth > 8 || s.Depth < 0 {
				t.Fatalf("depth %d", s.Depth)
			}
		}
		s := b.Stats()
		if s.Played != ok || s.Lost+s.Underruns != lost || s.Played > s.Pushed {
			t.Fatalf("stats %+v after %d pops (%d ok, %d lost)", s, pops, ok, lost)
		}
	})
}

func BenchmarkPushPop(b *testing.B) {
	buf, _ := New(Config{})
	now := time.Unix(0, 0)
	payload := make([]byte, 160)
	for i := 0; i < b.N; i++ {
		now = now.Add(20 * time.Millisecond)
		buf.Push(Packet{SSRC: 1, SequenceNumber: uint16(i), Timestamp: uint32(i) * 160, Payload: payload}, now)
		buf.Pop()
	}
}

// TestPayloadCopied: Push copies the payload (the RTP session reuses its
// read buffer for the next packet), so every packet plays with its own
// bytes, a probe of a sequence jump included, and after warming up the
// buffer allocates nothing per packet.
func TestPayloadCopied(t *testing.T) {
	b, err := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 80 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 160) // one read buffer for every packet, as rtpsession
	now := time.Unix(0, 0)
	push := func(seq uint16) {
		for i := range buf {
			buf[i] = byte(seq)
		}
		b.Push(Packet{SSRC: 1, SequenceNumber: seq, Timestamp: uint32(seq) * 160, Payload: buf}, now)
		buf[0] = 0xEE // the caller reuses its buffer at once
	}
	check := func(want uint16) {
		t.Helper()
		p, st := b.Pop()
		if st != StatusOK || p.SequenceNumber != want {
			t.Fatalf("popped %d (%v), want %d", p.SequenceNumber, st, want)
		}
		for i, v := range p.Payload {
			if v != byte(want) {
				t.Fatalf("packet %d: payload byte %d is %#x, want %#x", want, i, v, byte(want))
			}
		}
	}
	var seq uint16
	for ; seq < 3; seq++ {
		push(seq)
	}
	for ; seq < 200; seq++ {
		check(seq - 3)
		push(seq)
		now = now.Add(20 * time.Millisecond)
	}
	// A sequence jump, confirmed by the next packet: the probe's payload
	// too is the buffer's own.
	push(30000)
	push(30001)
	if p, st := b.Pop(); st == StatusOK && p.SequenceNumber == 30000 && p.Payload[0] != byte(30000%256) {
		t.Fatalf("the probe's payload was not kept: %#x", p.Payload[0])
	}
	allocs := testing.AllocsPerRun(100, func() {
		seq++
		push(seq)
		b.Pop()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per packet, want 0", allocs)
	}
}
