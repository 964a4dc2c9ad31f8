package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/registry"
)

// printer prints each notification as it happens: a human-readable line, or
// a JSON object per line with --json.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	start time.Time
	names map[any]string // sender → label
}

func newPrinter(w io.Writer, asJSON bool) *printer {
	return &printer{w: w, json: asJSON, start: time.Now(), names: map[any]string{}}
}

// label names a sender in the output ("A", "B", "echo plugin").
func (p *printer) label(sender any, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names[sender] = name
}

func (p *printer) senderName(s any) string {
	if n, ok := p.names[s]; ok {
		return n
	}
	switch v := s.(type) {
	case *registry.Stream:
		return fmt.Sprintf("%s stream %d", v.Type(), v.Handle())
	case *registry.Plugin:
		return v.Name() + " plugin"
	case nil:
		return "-"
	}
	return fmt.Sprintf("%T", s)
}

// HandleNotification implements notify.Observer.
func (p *printer) HandleNotification(n notify.Notification) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sender := p.senderName(n.Sender)
	data := n.Data
	if raw, ok := data.(json.RawMessage); ok {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			data = v
		}
	}
	if p.json {
		_ = json.NewEncoder(p.w).Encode(struct {
			Time   time.Time `json:"time"`
			Name   string    `json:"name"`
			Sender string    `json:"sender"`
			Data   any       `json:"data,omitempty"`
		}{n.Time, n.Name, sender, data})
		return
	}
	line := fmt.Sprintf("%8.3fs  %-12s %s", n.Time.Sub(p.start).Seconds(), sender, n.Name)
	if data != nil {
		if b, err := json.Marshal(data); err == nil && string(b) != "{}" {
			line += " " + string(b)
		}
	}
	fmt.Fprintln(p.w, line)
}

// say prints a narrative line (not in --json mode), serialised with the
// notification lines.
func (p *printer) say(format string, args ...any) {
	if p.json {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
