package templates

import (
	"slices"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/codectest"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// templates builds the Go and the C template.
func templates(t *testing.T) map[string]*module.Module {
	t.Helper()
	return map[string]*module.Module{
		"go": codectest.Load(t, codectest.BuildGo(t, "l16-go.wasm", "./go")),
		"c":  codectest.Load(t, codectest.BuildC(t, "l16-c.wasm", "c/codec.c")),
	}
}

func TestTemplatesConformance(t *testing.T) {
	for lang, m := range templates(t) {
		t.Run(lang, func(t *testing.T) {
			if !m.HasConceal() {
				t.Error("the template does not show the optional conceal export")
			}
			if d := m.Description(); d.Name != "L16" || d.Version == "" {
				t.Errorf("description %+v", d)
			}
			codectest.Run(t, m)
		})
	}
}

// TestTemplatesAgree: both templates are L16, byte for byte: network byte
// order out, the same samples back, the same concealment.
func TestTemplatesAgree(t *testing.T) {
	ms := templates(t)
	pcm := codectest.Tone(700, 8000, 160, 12000)
	pcm[0], pcm[1] = -32768, 32767
	type result struct {
		payload []byte
		pcm     []int16
		conceal []int16
	}
	run := func(m *module.Module) result {
		enc, err := m.NewEncoder()
		if err != nil {
			t.Fatal(err)
		}
		defer codec.Close(enc)
		dec, err := m.NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer codec.Close(dec)
		var r result
		if r.payload, err = enc.Encode(pcm, nil); err != nil {
			t.Fatal(err)
		}
		if r.pcm, err = dec.Decode(r.payload, nil); err != nil {
			t.Fatal(err)
		}
		if r.conceal, err = dec.Conceal(nil); err != nil {
			t.Fatal(err)
		}
		return r
	}
	g, c := run(ms["go"]), run(ms["c"])
	if g.payload[0] != 0x80 || g.payload[1] != 0x00 || g.payload[2] != 0x7F || g.payload[3] != 0xFF {
		t.Errorf("Go template payload starts % x, want 80 00 7f ff (network byte order)", g.payload[:4])
	}
	if !slices.Equal(g.payload, c.payload) || !slices.Equal(g.pcm, c.pcm) || !slices.Equal(g.conceal, c.conceal) {
		t.Error("the Go and C templates differ")
	}
	if !slices.Equal(g.pcm, pcm) {
		t.Error("L16 did not give the samples back")
	}
}
