package codec

import (
	"fmt"
	"strings"
	"sync"
)

// DefaultOrder returns the reference's default rtp.audio_codec_list:
// opus, G722, PCMU, PCMA (the audio plugin's built-in codecs).
func DefaultOrder() []string {
	return []string{"opus", "G722", "PCMU", "PCMA"}
}

// Registry is a set of codecs keyed by case-insensitive name. Its methods
// are safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	codecs []Codec
	byName map[string]Codec
}

// NewRegistry returns a registry holding codecs, in that order.
func NewRegistry(codecs ...Codec) (*Registry, error) {
	r := &Registry{byName: make(map[string]Codec)}
	for _, c := range codecs {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds c. It fails with ErrInvalidCodec for an invalid Info and
// ErrDuplicateCodec when a codec of the same name is already present.
func (r *Registry) Register(c Codec) error {
	if c == nil {
		return fmt.Errorf("register nil codec: %w", ErrInvalidCodec)
	}
	info := c.Info()
	if err := info.Validate(); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	key := strings.ToLower(info.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byName[key]; ok {
		return fmt.Errorf("register %s: %w", info.Name, ErrDuplicateCodec)
	}
	r.byName[key] = c
	r.codecs = append(r.codecs, c)
	return nil
}

// Lookup returns the codec called name, ignoring case.
func (r *Registry) Lookup(name string) (Codec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.byName[strings.ToLower(name)]
	return c, ok
}

// Match returns the codec an a=rtpmap line names: encoding name (any case)
// and clock rate must both agree, so "G722/16000" does not match G.722.
func (r *Registry) Match(name string, clockRate int) (Codec, bool) {
	c, ok := r.Lookup(name)
	if !ok || c.Info().ClockRate != clockRate {
		return nil, false
	}
	return c, true
}

// Codecs returns every registered codec in registration order.
func (r *Registry) Codecs() []Codec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]Codec(nil), r.codecs...)
}

// Ordered returns the registered codecs named in list, in list order, as the
// rtp.audio_codec_list setting orders them. Unknown names are ignored and a
// name listed twice appears once.
func (r *Registry) Ordered(list []string) []Codec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Codec, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, name := range list {
		key := strings.ToLower(name)
		c, ok := r.byName[key]
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c)
	}
	return out
}
