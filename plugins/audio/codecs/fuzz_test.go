package codecs

import (
	"errors"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
)

// FuzzModuleDecode feeds arbitrary RTP payloads, as a peer could send
// them, to the decoders of every shipped module: the module never fails
// (no trap, no bad result: codec.ErrCodecFailed would end the call), a
// payload it takes gives the samples its length implies (G.711 one per
// byte, G.726-32 two), and one it refuses (longer than a call takes) is
// codec.ErrCorruptPayload with dst unchanged. One decoder per module runs
// through every input, so its state sees them all in turn.
func FuzzModuleDecode(f *testing.F) {
	type dec struct {
		name    string
		perByte int
		d       codec.Decoder
	}
	var decs []dec
	for _, m := range modules {
		mod := codectest.Load(f, build(f, m.file))
		d, err := mod.NewDecoder()
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = codec.Close(d) })
		perByte := 1
		if m.name == "G726-32" {
			perByte = 2
		}
		decs = append(decs, dec{m.file, perByte, d})
		enc, err := mod.NewEncoder()
		if err != nil {
			f.Fatal(err)
		}
		p, err := enc.Encode(codectest.Tone(1000, 8000, 160, 8000), nil)
		_ = codec.Close(enc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add([]byte{})
	f.Add([]byte{0x00, 0xFF, 0x0F, 0xF0})
	f.Add(make([]byte, codec.IOSize/2+1))

	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, d := range decs {
			prefix := []int16{7}
			out, err := d.d.Decode(payload, prefix)
			switch {
			case errors.Is(err, codec.ErrCodecFailed):
				t.Fatalf("%s failed on %d bytes: %v", d.name, len(payload), err)
			case err == nil && len(out) != 1+d.perByte*len(payload):
				t.Fatalf("%s: %d samples for %d bytes", d.name, len(out)-1, len(payload))
			case err != nil && (!errors.Is(err, codec.ErrCorruptPayload) || len(out) != 1 || out[0] != 7):
				t.Fatalf("%s: %v, %d samples for %d bytes", d.name, err, len(out)-1, len(payload))
			}
		}
	})
}
