package focustest

import (
	"context"
	"fmt"
	"strings"
)

// EventKind says what an Event records.
type EventKind string

// The kinds of Event.
const (
	// EventJoined: a participant's call was answered and acknowledged
	// (From: the participant; Value: the stream types taken, comma
	// separated).
	EventJoined EventKind = "joined"
	// EventLeft: a participant hung up (From).
	EventLeft EventKind = "left"
	// EventRefusedCall: an INVITE was refused (From; Code).
	EventRefusedCall EventKind = "refused-call"
	// EventChatBound: a participant's MSRP session bound (From).
	EventChatBound EventKind = "chat-bound"
	// EventSubscribed: a conference SUBSCRIBE was accepted (From: the
	// subscriber; Value: "initial", "refresh" or "unsubscribe").
	EventSubscribed EventKind = "subscribed"
	// EventNotifyAnswered: a subscriber answered a NOTIFY (From: the
	// subscriber; Value: the Event header; Code).
	EventNotifyAnswered EventKind = "notify-answered"
	// EventSubscriptionEnded: a subscription is over, its terminating
	// NOTIFY answered or a NOTIFY answered 481 (From: the subscriber;
	// Value: the Event header; Code: that answer). NotifyRaw no longer
	// sends on it.
	EventSubscriptionEnded EventKind = "subscription-ended"
	// EventNickname: a NICKNAME request (From; Value: the nickname; Code:
	// the focus's answer).
	EventNickname EventKind = "nickname"
	// EventMessage: a chat message (From: the sender; To: its CPIM To;
	// Value: the text; Private: To names a participant, not the focus;
	// Code: 200 when relayed, 404 when a private message names nobody in
	// the conference).
	EventMessage EventKind = "message"
	// EventRefer: a REFER (From: the referrer; Value: the Refer-To URI;
	// Method: INVITE or BYE; Code: the focus's answer).
	EventRefer EventKind = "refer"
	// EventDialed: the call to a participant the focus dialed out ended
	// its INVITE transaction (From: the participant; Code: its final
	// response, or 408/500 without one).
	EventDialed EventKind = "dialed"
	// EventRemoved: the focus sent a participant a BYE for a REFER
	// (From; Code: the BYE's answer, 404 for nobody in the conference).
	EventRemoved EventKind = "removed"
)

// Event is something the focus saw or did.
type Event struct {
	Kind    EventKind
	From    string
	To      []string
	Value   string
	Method  string
	Code    int
	Private bool
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s from=%s", e.Kind, e.From)
	if len(e.To) > 0 {
		fmt.Fprintf(&b, " to=%v", e.To)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " value=%q", e.Value)
	}
	if e.Method != "" {
		fmt.Fprintf(&b, " method=%s", e.Method)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " code=%d", e.Code)
	}
	if e.Private {
		b.WriteString(" private")
	}
	return b.String()
}

// record adds an event.
func (f *Focus) record(e Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recordLocked(e)
}

func (f *Focus) recordLocked(e Event) {
	f.log.Debug("event", "event", e.String())
	f.events = append(f.events, e)
	close(f.changed)
	f.changed = make(chan struct{})
}

// Events returns every event so far, in order.
func (f *Focus) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// Since returns the events after the first n, waiting until there is
// one or ctx ends.
func (f *Focus) Since(ctx context.Context, n int) ([]Event, error) {
	for {
		f.mu.Lock()
		var evs []Event
		if n < len(f.events) {
			evs = append(evs, f.events[n:]...)
		}
		changed := f.changed
		f.mu.Unlock()
		if len(evs) > 0 {
			return evs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Await returns the first event, from the start, that pred accepts,
// waiting for it until ctx ends; the error then lists what was seen.
func (f *Focus) Await(ctx context.Context, pred func(Event) bool) (Event, error) {
	seen := 0
	for {
		evs, err := f.Since(ctx, seen)
		if err != nil {
			var b strings.Builder
			for _, e := range f.Events() {
				b.WriteString("\n  ")
				b.WriteString(e.String())
			}
			return Event{}, fmt.Errorf("focustest: %w; the focus saw:%s", err, b.String())
		}
		for _, e := range evs {
			if pred(e) {
				return e, nil
			}
		}
		seen += len(evs)
	}
}
