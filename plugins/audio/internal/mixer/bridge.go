package mixer

import (
	"errors"
	"slices"
	"sync"
)

// Bridge keeps a set of ports connected as a full mesh: every Source in it
// feeds every other Sink in it (the reference's AudioBridge). A call's
// bridge holds the device, the call's stream and, while recording, a
// WAVRecorder, which therefore hears both sides.
type Bridge struct {
	m *Mixer

	mu    sync.Mutex
	ports []Port
}

// NewBridge returns an empty Bridge on m.
func (m *Mixer) NewBridge() *Bridge { return &Bridge{m: m} }

// Add adds p to the Mixer if it is not there yet and connects it both ways
// with every port already in the Bridge.
func (b *Bridge) Add(p Port) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(b.ports, p) {
		return ErrDuplicatePort
	}
	if err := b.m.Add(p); err != nil && !errors.Is(err, ErrDuplicatePort) {
		return err
	}
	for _, o := range b.ports {
		if err := b.link(o, p, true); err != nil {
			return err
		}
	}
	b.ports = append(b.ports, p)
	return nil
}

// Remove disconnects p from the other ports of the Bridge. The port stays
// in the Mixer (with any connections made outside the Bridge).
func (b *Bridge) Remove(p Port) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.ports, p)
	if i < 0 {
		return ErrUnknownPort
	}
	b.ports = slices.Delete(b.ports, i, i+1)
	var errs []error
	for _, o := range b.ports {
		errs = append(errs, b.link(o, p, false))
	}
	return errors.Join(errs...)
}

// Ports returns the ports in the Bridge, in the order added.
func (b *Bridge) Ports() []Port {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ports)
}

// link connects (or disconnects) a and c in each direction a Source-Sink
// pair allows.
func (b *Bridge) link(a, c Port, connect bool) error {
	op := b.m.Connect
	if !connect {
		op = b.m.Disconnect
	}
	var errs []error
	for _, pair := range [2][2]Port{{a, c}, {c, a}} {
		_, isSrc := pair[0].(Source)
		_, isSink := pair[1].(Sink)
		if isSrc && isSink {
			errs = append(errs, op(pair[0], pair[1]))
		}
	}
	return errors.Join(errs...)
}
