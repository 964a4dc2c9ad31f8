package sdk

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// postLog is a Notifier that keeps "name data" lines.
type postLog []string

func (p *postLog) Post(name string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	*p = append(*p, fmt.Sprintf("%s %s", name, raw))
}

func TestHoldState(t *testing.T) {
	var posted postLog
	h := NewHoldState(&posted, "A", "B")
	step := func(what string, want []string) {
		t.Helper()
		if !slices.Equal(posted, want) {
			t.Fatalf("%s: posted %q, want %q", what, posted, want)
		}
		posted = nil
	}
	if h.Offer() != SendRecv || h.Direction() != "" || h.Paused() || h.MaySend() {
		t.Fatalf("new: offer %s direction %q paused %t may send %t", h.Offer(), h.Direction(), h.Paused(), h.MaySend())
	}
	h.Negotiated(SendRecv)
	step("first exchange", nil)
	if !h.MaySend() || h.Paused() {
		t.Fatal("sendrecv: may not send")
	}

	// We hold: the request takes effect on sending at once, on the flags
	// once negotiated.
	h.Request(true)
	if !h.Requested() || h.MaySend() || !h.Paused() || h.Offer() != SendOnly {
		t.Fatalf("hold requested: requested %t may send %t paused %t offer %s", h.Requested(), h.MaySend(), h.Paused(), h.Offer())
	}
	h.Negotiated(SendOnly)
	step("local hold", []string{`A {"originator":"local","on_hold":true}`, `B {"originator":"local","on_hold":true}`})

	// The remote holds too: inactive keeps our flag.
	if got := h.Answer(SendOnly); got != Inactive {
		t.Fatalf("answer to sendonly while holding = %s", got)
	}
	h.Negotiated(Inactive)
	step("mutual hold", []string{`A {"originator":"remote","on_hold":true}`, `B {"originator":"remote","on_hold":true}`})
	if !h.OnHoldByLocal() || !h.OnHoldByRemote() {
		t.Fatalf("mutual hold flags %t %t", h.OnHoldByLocal(), h.OnHoldByRemote())
	}

	// Both unhold.
	h.Request(false)
	if h.Offer() != RecvOnly {
		t.Fatalf("offer after unhold while the remote holds = %s", h.Offer())
	}
	h.Negotiated(SendRecv)
	step("both unhold", []string{
		`A {"originator":"local","on_hold":false}`, `B {"originator":"local","on_hold":false}`,
		`A {"originator":"remote","on_hold":false}`, `B {"originator":"remote","on_hold":false}`,
	})

	a, err := h.Attributes(map[string]int{"n": 1})
	if err != nil || !a.HoldSupported || a.OnHold() || string(a.Extra) != `{"n":1}` {
		t.Fatalf("Attributes = %+v, %v", a, err)
	}
	h.Negotiated(RecvOnly)
	if a, _ := h.Attributes(nil); !a.OnHoldByRemote || a.OnHoldByLocal || a.Extra != nil {
		t.Fatalf("Attributes when held by the remote = %+v", a)
	}
	if _, err := h.Attributes(func() {}); err == nil {
		t.Fatal("Attributes with unmarshalable own attributes: no error")
	}

	// The zero value posts nothing but keeps the flags.
	var zero HoldState
	zero.Negotiated(SendOnly)
	if !zero.OnHoldByLocal() {
		t.Fatal("zero HoldState: no local hold after sendonly")
	}
}
