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

// infoCodec is a codec of which only the description matters.
type infoCodec Info

func (c infoCodec) Info() Info                 { return Info(c) }
func (infoCodec) NewEncoder() (Encoder, error) { return nil, ErrInvalidCodec }
func (infoCodec) NewDecoder() (Decoder, error) { return nil, ErrInvalidCodec }

func opus() Codec {
	return infoCodec{Name: "opus", PayloadType: DynamicPayloadType, ClockRate: 48000, SampleRate: 48000, Channels: 2}
}
func g722() Codec { return infoCodec{Name: "G722", PayloadType: 9, ClockRate: 8000, SampleRate: 16000} }
func pcmu() Codec { return infoCodec{Name: "PCMU", PayloadType: 0, ClockRate: 8000, SampleRate: 8000} }
func pcma() Codec { return infoCodec{Name: "PCMA", PayloadType: 8, ClockRate: 8000, SampleRate: 8000} }

// defaults is a registry with the built-in codecs' descriptions.
func defaults(t *testing.T) *Registry {
	t.Helper()
	r, err := NewRegistry(opus(), g722(), pcmu(), pcma())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDefaultOrder(t *testing.T) {
	r := defaults(t)
	if got := names(r.Ordered(DefaultOrder())); !slices.Equal(got, DefaultOrder()) {
		t.Fatalf("Ordered(DefaultOrder()) = %v", got)
	}
}

func TestRegistryOrdered(t *testing.T) {
	r := defaults(t)
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
	r := defaults(t)
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
	r, err := NewRegistry(pcmu())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    Codec
		want error
	}{
		{"duplicate", pcmu(), ErrDuplicateCodec},
		{"duplicate other case", infoCodec{Name: "pcmu", PayloadType: DynamicPayloadType, ClockRate: 8000, SampleRate: 8000}, ErrDuplicateCodec},
		{"nil", nil, ErrInvalidCodec},
		{"invalid info", infoCodec{Name: "X"}, ErrInvalidCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Register(tt.c); !errors.Is(err, tt.want) {
				t.Fatalf("Register error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewRegistry(pcma(), pcma()); !errors.Is(err, ErrDuplicateCodec) {
		t.Fatalf("NewRegistry with duplicates: %v", err)
	}
	if got := names(r.Codecs()); !slices.Equal(got, []string{"PCMU"}) {
		t.Fatalf("failed registrations changed the registry: %v", got)
	}
}
