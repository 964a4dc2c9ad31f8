package mixer_test

import (
	"fmt"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
)

// call stands for an audio stream: it sends a constant to the bridge and
// keeps the first sample of what it receives.
type call struct {
	send, heard int16
}

func (c *call) Name() string { return "call" }
func (c *call) ReadFrame(f []int16) {
	for i := range f {
		f[i] = c.send
	}
}
func (c *call) WriteFrame(f []int16) { c.heard = f[0] }

// recorder keeps the first sample of what it receives.
type recorder struct{ heard int16 }

func (r *recorder) Name() string         { return "recorder" }
func (r *recorder) WriteFrame(f []int16) { r.heard = f[0] }

// A call's bridge: the sound device, the call and a recorder. The speaker
// plays the call, the call hears the microphone, the recorder both. The
// tick is run by hand here; after Start the device clock runs it.
func Example() {
	m, err := mixer.NewVoice(mixer.WithSampleRate(8000))
	if err != nil {
		panic(err)
	}
	defer m.Close()
	c, rec := &call{send: 1000}, &recorder{}
	br := m.NewBridge()
	for _, p := range []mixer.Port{m.Device(), c, rec} {
		if err := br.Add(p); err != nil {
			panic(err)
		}
	}
	mic := make([]int16, m.SamplesPerFrame())
	for i := range mic {
		mic[i] = 200
	}
	speaker := make([]int16, m.SamplesPerFrame())
	m.ProcessFrame(mic, speaker)
	fmt.Println("speaker:", speaker[0])
	fmt.Println("call hears:", c.heard)
	fmt.Println("recorder:", rec.heard)

	m.SetMuted(m.Device(), true) // the reference's mixer.muted
	m.ProcessFrame(mic, speaker)
	fmt.Println("muted, call hears:", c.heard)
	// Output:
	// speaker: 1000
	// call hears: 200
	// recorder: 1200
	// muted, call hears: 0
}
