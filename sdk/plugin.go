package sdk

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
)

// Plugin is what a stream vendor declares: its name and version, the stream
// types it serves with their factories, and optional plugin-scope methods.
// Pass it to Serve from main, or to NewProvider to run it in-process.
type Plugin struct {
	Name    string
	Version string
	// Capabilities are optional contract features the plugin uses.
	Capabilities []string
	Types        []StreamType
	// Methods are plugin-scope methods, reached with Invoke on the provider.
	Methods map[string]MethodFunc
	// Close, if set, releases what the plugin's streams share (a sound
	// device kept open between calls, caches). It is called once, when the
	// provider closes, after its live streams ended: by LocalProvider.Close,
	// and by Serve when the host stops the plugin or goes away.
	Close func(ctx context.Context) error
}

// StreamType declares one stream type and how to build its streams.
type StreamType struct {
	Type          string
	Priority      int
	HoldSupported bool
	Match         MatchRule
	Codecs        []string
	// NewFromSDP builds a stream for an incoming m-line (the reference's
	// new_from_sdp). Return an error wrapping ErrUnknownStream for "not
	// mine" and ErrInvalidStream for "mine but unacceptable". Only called
	// for m-lines that satisfy Match.
	NewFromSDP func(ctx context.Context, req *NewFromSDPRequest, env *Env) (Stream, error)
	// Create builds a stream for an outgoing offer.
	Create func(ctx context.Context, req *CreateRequest, env *Env) (Stream, error)
}

// Env is what the SDK gives a stream or method: a Notifier bound to it and a
// logger. Handle is the stream's handle (0 for plugin-scope methods).
type Env struct {
	Handle   uint64
	Notifier Notifier
	Logger   *slog.Logger
}

// Post posts a notification for the stream (shorthand for Env.Notifier.Post).
func (e *Env) Post(name string, data any) { e.Notifier.Post(name, data) }

// Observed returns an Env for the same stream whose notifications are
// posted as through e and then shown to fn by name: the Env a stream
// gives a base it is built on (msrpstream's, say), to act on the base's
// MediaStreamDidFail or MediaStreamWillEnd. fn runs on the posting
// goroutine, inside the base's own locking.
func (e *Env) Observed(fn func(name string)) *Env {
	return &Env{Handle: e.Handle, Logger: e.Logger, Notifier: observer{next: e.Notifier, fn: fn}}
}

// observer forwards notifications, then shows their names to fn.
type observer struct {
	next Notifier
	fn   func(name string)
}

func (o observer) Post(name string, data any) {
	o.next.Post(name, data)
	o.fn(name)
}

// MethodFunc is a plugin-scope method. Its result is marshalled to JSON.
type MethodFunc func(ctx context.Context, args json.RawMessage, env *Env) (any, error)

// Manifest returns the plugin's manifest.
func (p *Plugin) Manifest() *Manifest {
	m := &Manifest{
		Name:          p.Name,
		Version:       p.Version,
		ContractMajor: ContractMajor,
		ContractMinor: ContractMinor,
		Capabilities:  append([]string(nil), p.Capabilities...),
	}
	for _, t := range p.Types {
		m.StreamTypes = append(m.StreamTypes, StreamTypeInfo{
			Type:          t.Type,
			Priority:      t.Priority,
			HoldSupported: t.HoldSupported,
			Match:         t.Match,
			Codecs:        append([]string(nil), t.Codecs...),
		})
	}
	for name := range p.Methods {
		m.Methods = append(m.Methods, name)
	}
	slices.Sort(m.Methods)
	return m
}
