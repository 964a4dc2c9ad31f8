package system

import (
	"encoding/binary"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
)

// TestStreamBridging drives a stream's callback and its worker step by step
// (no device, no goroutine): with a Processor that loops the microphone
// back to the speaker, a counting sequence captured in odd-sized callback
// chunks comes out of the playback side whole and in order, after the
// initial latency.
func TestStreamBridging(t *testing.T) {
	tests := []struct {
		name  string
		chunk int
	}{
		{"callback of 100 samples", 100},
		{"callback of one frame", 160},
		{"callback of 7 samples", 7},
		{"callback of 3.5 frames", 560},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loop := device.ProcessorFunc(func(in, out []int16) { copy(out, in) })
			s := newStream(8000, loop, true, true, quiet)
			in, out := make([]int16, s.spf), make([]int16, s.spf)
			s.fill(in, out) // what start does before the device runs
			next := int16(1)
			var played []int16
			capture := make([]byte, 2*tt.chunk)
			playback := make([]byte, 2*tt.chunk)
			for len(played) < 8000 {
				for i := 0; i < tt.chunk; i++ {
					binary.LittleEndian.PutUint16(capture[2*i:], uint16(next))
					next = next%30000 + 1
				}
				s.onData(playback, capture, uint32(tt.chunk))
				for i := 0; i < tt.chunk; i++ {
					played = append(played, int16(binary.LittleEndian.Uint16(playback[2*i:])))
				}
				s.fill(in, out)
			}
			start := 0
			for start < len(played) && played[start] == 0 {
				start++
			}
			if limit := max(6*s.spf, 3*tt.chunk); start > limit {
				t.Fatalf("latency %d samples, want at most %d", start, limit)
			}
			t.Logf("latency %d samples", start)
			want := int16(1)
			for i, v := range played[start:] {
				if v != want {
					t.Fatalf("sample %d after the latency = %d, want %d", i, v, want)
				}
				want = want%30000 + 1
			}
		})
	}
}

// TestStreamOverrunDrops checks that a capture side running ahead of the
// playback side is cut back instead of building latency.
func TestStreamOverrunDrops(t *testing.T) {
	var frames int
	s := newStream(8000, device.ProcessorFunc(func(in, out []int16) { frames++ }), true, true, quiet)
	in, out := make([]int16, s.spf), make([]int16, s.spf)
	s.onData(nil, make([]byte, 2*10*s.spf), uint32(10*s.spf)) // 10 frames captured, nothing played
	s.fill(in, out)
	if lag := s.capt.Len(); lag > maxLagFrames*s.spf {
		t.Fatalf("capture lag %d samples after fill, want at most %d", lag, maxLagFrames*s.spf)
	}
	if frames != aheadFrames {
		t.Fatalf("%d frames processed, want %d to fill the playback ring", frames, aheadFrames)
	}
}
