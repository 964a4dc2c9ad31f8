package msrp

import (
	"errors"
	"testing"
)

func TestParseSetup(t *testing.T) {
	tests := []struct {
		in      string
		inOffer bool
		want    Setup
		ok      bool
	}{
		{"active", true, SetupActive, true},
		{"PASSIVE", false, SetupPassive, true},
		{"actpass", true, SetupActpass, true},
		{"", true, SetupActive, true},
		{"", false, SetupPassive, true},
		{"holdconn", true, 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSetup(tt.in, tt.inOffer)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseSetup(%q, %v) = %v, %v", tt.in, tt.inOffer, got, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("error %v does not wrap ErrInvalidArgument", err)
		}
	}
}

// TestSetupRoles walks the reference's role table (behaviour notes §4.1)
// with the answerer-goes-active rows working as intended.
func TestSetupRoles(t *testing.T) {
	tests := []struct {
		name            string
		offer           Setup
		offererConnects bool
	}{
		{"offer active (Bonjour, direct)", SetupActive, true},
		{"offer actpass (relay/acm)", SetupActpass, false},
		{"offer passive", SetupPassive, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := AnswerSetup(tt.offer)
			got, err := OffererConnects(tt.offer, answer)
			if err != nil || got != tt.offererConnects {
				t.Fatalf("offer %v answer %v: connects=%v err=%v", tt.offer, answer, got, err)
			}
		})
	}
	// The answer to actpass or passive is active: the answerer connects.
	for _, offer := range []Setup{SetupActpass, SetupPassive} {
		if a := AnswerSetup(offer); a != SetupActive {
			t.Errorf("AnswerSetup(%v) = %v, want active", offer, a)
		}
	}
	// An absent answer to actpass means passive: the offerer connects.
	answer, _ := ParseSetup("", false)
	if c, err := OffererConnects(SetupActpass, answer); err != nil || !c {
		t.Errorf("actpass offer, absent answer: connects=%v err=%v", c, err)
	}
	for _, bad := range [][2]Setup{{SetupActive, SetupActive}, {SetupPassive, SetupPassive}, {SetupActpass, SetupActpass}, {SetupActive, SetupActpass}} {
		if _, err := OffererConnects(bad[0], bad[1]); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("OffererConnects(%v, %v) err = %v", bad[0], bad[1], err)
		}
	}
}
