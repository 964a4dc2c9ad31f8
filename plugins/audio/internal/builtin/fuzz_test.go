package builtin

import (
	codec "github.com/sipstreams/sipstreams/sdk/codec"
	"testing"
)

// FuzzDecode feeds arbitrary RTP payloads, as a peer could send them, to
// every decoder: no panic, and the fixed-rate codecs produce exactly the
// samples their payload length implies. Opus may reject a payload but must
// then report ErrCorruptPayload and leave dst unchanged.
func FuzzDecode(f *testing.F) {
	seedEnc := func(c codec.Codec) []byte {
		enc, err := c.NewEncoder()
		if err != nil {
			f.Fatal(err)
		}
		p, err := enc.Encode(sine(1000, c.Info().SampleRate, c.Info().FrameSamples(), 8000), nil)
		if err != nil {
			f.Fatal(err)
		}
		return p
	}
	f.Add(seedEnc(Opus()))
	f.Add(seedEnc(G722()))
	f.Add(seedEnc(PCMU()))
	f.Add([]byte{})
	f.Add([]byte{0x03, 0x00})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF})

	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, c := range []codec.Codec{PCMU(), PCMA(), G722(), Opus()} {
			dec, err := c.NewDecoder()
			if err != nil {
				t.Fatal(err)
			}
			prefix := []int16{7}
			out, err := dec.Decode(payload, prefix)
			name := c.Info().Name
			switch name {
			case "PCMU", "PCMA":
				if err != nil || len(out) != 1+len(payload) {
					t.Fatalf("%s: %d samples, %v for %d bytes", name, len(out)-1, err, len(payload))
				}
			case "G722":
				if err != nil || len(out) != 1+2*len(payload) {
					t.Fatalf("%s: %d samples, %v for %d bytes", name, len(out)-1, err, len(payload))
				}
			case "opus":
				if err != nil {
					if len(out) != 1 {
						t.Fatalf("opus: error %v but dst grew to %d", err, len(out))
					}
					break
				}
				if n := len(out) - 1; n%120 != 0 || n > opusMaxFrame {
					t.Fatalf("opus: decoded %d samples", n)
				}
			}
			if out[0] != 7 {
				t.Fatalf("%s: dst prefix overwritten", name)
			}
			// Concealment after any payload still gives a frame.
			if _, err := dec.Conceal(nil); err != nil {
				t.Fatalf("%s: conceal: %v", name, err)
			}
		}
	})
}
