package codec

import (
	"errors"
	"slices"
	"testing"
)

func names(cs []Codec) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Info().Name)
	}
	return out
}

func TestDefaultRegistry(t *testing.T) {
	r := Default()
	if got, want := names(r.Codecs()), []string{"opus", "G722", "PCMU", "PCMA"}; !slices.Equal(got, want) {
		t.Fatalf("Codecs = %v, want %v", got, want)
	}
	if got := names(r.Ordered(DefaultOrder())); !slices.Equal(got, DefaultOrder()) {
		t.Fatalf("Ordered(DefaultOrder()) = %v", got)
	}
	// Each call gives an independent registry.
	if err := r.Register(l16()); err != nil {
		t.Fatal(err)
	}
	if _, ok := Default().Lookup("L16"); ok {
		t.Fatal("a codec registered on one Default() registry shows up in another")
	}
}

func TestRegistryOrdered(t *testing.T) {
	r := Default()
	tests := []struct {
		name string
		list []string
		want []string
	}{
		{"reference default", []string{"opus", "G722", "PCMU", "PCMA"}, []string{"opus", "G722", "PCMU", "PCMA"}},
		{"reordered", []string{"PCMA", "PCMU"}, []string{"PCMA", "PCMU"}},
		{"case-insensitive", []string{"g722", "OPUS", "pcmu"}, []string{"G722", "opus", "PCMU"}},
		{"unknown ignored", []string{"speex", "G729", "PCMU", "iLBC"}, []string{"PCMU"}},
		{"duplicates once", []string{"PCMU", "pcmu", "G722", "PCMU"}, []string{"PCMU", "G722"}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(r.Ordered(tt.list)); !slices.Equal(got, tt.want) {
				t.Fatalf("Ordered(%v) = %v, want %v", tt.list, got, tt.want)
			}
		})
	}
}

func TestRegistryLookupAndMatch(t *testing.T) {
	r := Default()
	tests := []struct {
		name      string
		clock     int
		lookupOK  bool
		matchOK   bool
		wantMatch string
	}{
		{"PCMU", 8000, true, true, "PCMU"},
		{"pcma", 8000, true, true, "PCMA"},
		{"G722", 8000, true, true, "G722"},
		{"G722", 16000, true, false, ""},
		{"OPUS", 48000, true, true, "opus"},
		{"opus", 8000, true, false, ""},
		{"telephone-event", 8000, false, false, ""},
		{"", 8000, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := r.Lookup(tt.name); ok != tt.lookupOK {
				t.Errorf("Lookup(%q) ok = %v, want %v", tt.name, ok, tt.lookupOK)
			}
			c, ok := r.Match(tt.name, tt.clock)
			if ok != tt.matchOK {
				t.Fatalf("Match(%q, %d) ok = %v, want %v", tt.name, tt.clock, ok, tt.matchOK)
			}
			if ok && c.Info().Name != tt.wantMatch {
				t.Fatalf("Match(%q, %d) = %s, want %s", tt.name, tt.clock, c.Info().Name, tt.wantMatch)
			}
		})
	}
}

func TestRegistryRegisterErrors(t *testing.T) {
	r, err := NewRegistry(PCMU())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    Codec
		want error
	}{
		{"duplicate", PCMU(), ErrDuplicateCodec},
		{"duplicate other case", &staticCodec{info: Info{Name: "pcmu", PayloadType: DynamicPayloadType, ClockRate: 8000, SampleRate: 8000}}, ErrDuplicateCodec},
		{"nil", nil, ErrInvalidCodec},
		{"invalid info", &staticCodec{info: Info{Name: "X"}}, ErrInvalidCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Register(tt.c); !errors.Is(err, tt.want) {
				t.Fatalf("Register error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewRegistry(PCMA(), PCMA()); !errors.Is(err, ErrDuplicateCodec) {
		t.Fatalf("NewRegistry with duplicates: %v", err)
	}
	if got := names(r.Codecs()); !slices.Equal(got, []string{"PCMU"}) {
		t.Fatalf("failed registrations changed the registry: %v", got)
	}
}

// l16 returns a valid codec that is not built in (μ-law framing under
// another name: only its registration matters here).
func l16() Codec {
	return &staticCodec{
		info:   Info{Name: "L16", PayloadType: DynamicPayloadType, ClockRate: 8000, SampleRate: 8000, Channels: 1},
		newEnc: func(Info) (Encoder, error) { return g711Encoder(LinearToUlaw), nil },
		newDec: func(i Info) (Decoder, error) { return &g711Decoder{expand: UlawToLinear}, nil },
	}
}
