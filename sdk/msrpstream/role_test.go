package msrpstream

import (
	"errors"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

func TestDecideRole(t *testing.T) {
	tests := []struct {
		name string
		in   RoleInput
		want Role
	}{
		{"p2p offerer", RoleInput{PeerToPeer: true, Offerer: true}, Role{Dial, SetupActive}},
		{"p2p answerer, offer active", RoleInput{PeerToPeer: true, RemoteSetup: SetupActive}, Role{Listen, SetupPassive}},
		{"p2p answerer, offer without setup", RoleInput{PeerToPeer: true}, Role{Listen, SetupPassive}},
		{"p2p answerer, offer actpass", RoleInput{PeerToPeer: true, RemoteSetup: SetupActPass}, Role{Listen, SetupPassive}},
		{"p2p answerer, offer passive", RoleInput{PeerToPeer: true, RemoteSetup: SetupPassive}, Role{Dial, SetupActive}},

		{"relay answerer, offer actpass", RoleInput{Model: ModelRelay, RemoteSetup: SetupActPass, RelayConfigured: true}, Role{Dial, SetupActive}},
		{"relay answerer, offer passive", RoleInput{RemoteSetup: SetupPassive, RelayConfigured: true}, Role{Dial, SetupActive}},
		{"relay answerer, offer active, relay", RoleInput{RemoteSetup: SetupActive, RelayConfigured: true}, Role{Relay, SetupPassive}},
		{"relay answerer, offer without setup, relay", RoleInput{RelayConfigured: true}, Role{Relay, SetupPassive}},
		{"relay answerer, offer active, no relay", RoleInput{RemoteSetup: SetupActive}, Role{Listen, SetupPassive}},
		{"relay offerer", RoleInput{Offerer: true, RelayConfigured: true}, Role{Dial, SetupActive}},
		{"relay offerer, relay for outbound", RoleInput{Offerer: true, RelayConfigured: true, RelayForOutbound: true}, Role{Relay, SetupActPass}},
		{"relay offerer, relay for outbound, none set", RoleInput{Offerer: true, RelayForOutbound: true}, Role{Listen, SetupActPass}},

		{"acm answerer, offer actpass", RoleInput{Model: ModelACM, RemoteSetup: SetupActPass}, Role{Dial, SetupActive}},
		{"acm answerer, offer passive", RoleInput{Model: ModelACM, RemoteSetup: SetupPassive}, Role{Dial, SetupActive}},
		{"acm answerer, offer active", RoleInput{Model: ModelACM, RemoteSetup: SetupActive, RelayConfigured: true}, Role{Listen, SetupPassive}},
		{"acm offerer", RoleInput{Model: ModelACM, Offerer: true, RelayConfigured: true}, Role{Listen, SetupActPass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideRole(tt.in); got != tt.want {
				t.Fatalf("DecideRole(%+v) = %v/%s, want %v/%s", tt.in, got.Connect, got.Setup, tt.want.Connect, tt.want.Setup)
			}
		})
	}
}

// TestRolesPair checks the property the table exists for: whatever the two
// accounts, the offerer's and the answerer's final roles pair up — exactly
// one end connects and the other waits.
func TestRolesPair(t *testing.T) {
	inputs := []RoleInput{
		{PeerToPeer: true},
		{Model: ModelRelay},
		{Model: ModelRelay, RelayConfigured: true},
		{Model: ModelRelay, RelayConfigured: true, RelayForOutbound: true},
		{Model: ModelRelay, RelayForOutbound: true},
		{Model: ModelACM},
	}
	for _, o := range inputs {
		for _, a := range inputs {
			o, a := o, a
			o.Offerer = true
			offer := DecideRole(o)
			a.RemoteSetup = offer.Setup
			answer := DecideRole(a)
			final, err := ResolveAnswer(offer, answer.Setup)
			if err != nil {
				t.Fatalf("offerer %+v, answerer %+v: %v", o, a, err)
			}
			if final.Setup == answer.Setup {
				t.Fatalf("offerer %+v, answerer %+v: both %s", o, a, final.Setup)
			}
			actives := 0
			for _, r := range []Role{final, answer} {
				if r.Setup == SetupActive {
					actives++
					if r.Connect == Listen {
						t.Fatalf("offerer %+v, answerer %+v: active role listens: %+v", o, a, r)
					}
				}
			}
			if actives != 1 {
				t.Fatalf("offerer %+v, answerer %+v: %d active ends (%+v, %+v)", o, a, actives, final, answer)
			}
		}
	}
}

func TestResolveAnswer(t *testing.T) {
	tests := []struct {
		name    string
		local   Role
		answer  Setup
		want    Role
		wantErr bool
	}{
		{"actpass listener, answer passive", Role{Listen, SetupActPass}, SetupPassive, Role{Dial, SetupActive}, false},
		{"actpass listener, answer without setup", Role{Listen, SetupActPass}, "", Role{Dial, SetupActive}, false},
		{"actpass listener, answer active", Role{Listen, SetupActPass}, SetupActive, Role{Listen, SetupPassive}, false},
		{"actpass relay, answer passive", Role{Relay, SetupActPass}, SetupPassive, Role{Relay, SetupActive}, false},
		{"actpass relay, answer active", Role{Relay, SetupActPass}, SetupActive, Role{Relay, SetupPassive}, false},
		{"active, answer passive", Role{Dial, SetupActive}, SetupPassive, Role{Dial, SetupActive}, false},
		{"active, answer without setup", Role{Dial, SetupActive}, "", Role{Dial, SetupActive}, false},
		{"active, answer active", Role{Dial, SetupActive}, SetupActive, Role{}, true},
		{"actpass, answer actpass", Role{Listen, SetupActPass}, SetupActPass, Role{}, true},
		{"active, answer actpass", Role{Dial, SetupActive}, SetupActPass, Role{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveAnswer(tt.local, tt.answer)
			if tt.wantErr {
				if !errors.Is(err, sdk.ErrInvalidStream) {
					t.Fatalf("ResolveAnswer error %v, want ErrInvalidStream", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveAnswer = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseSetup(t *testing.T) {
	for in, want := range map[string]Setup{"": "", "active": SetupActive, " PASSIVE ": SetupPassive, "actpass": SetupActPass} {
		if got, err := ParseSetup(in); err != nil || got != want {
			t.Errorf("ParseSetup(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSetup("holdconn"); !errors.Is(err, sdk.ErrInvalidStream) {
		t.Errorf("ParseSetup(holdconn) error %v, want ErrInvalidStream", err)
	}
}

// TestAgreesWithMSRPSetup cross-checks the role decision with sdk/msrp's
// own a=setup helpers, so the two packages cannot drift apart.
func TestAgreesWithMSRPSetup(t *testing.T) {
	setups := []Setup{SetupActive, SetupPassive, SetupActPass}
	for _, offer := range setups {
		mOffer, err := msrp.ParseSetup(string(offer), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, model := range []ConnectionModel{ModelRelay, ModelACM} {
			got := DecideRole(RoleInput{Model: model, RemoteSetup: offer}).Setup
			if want := msrp.AnswerSetup(mOffer).String(); string(got) != want {
				t.Errorf("answer to %s (%s model): %s, msrp says %s", offer, model, got, want)
			}
		}
		for _, answer := range append([]Setup{""}, setups...) {
			mAnswer, err := msrp.ParseSetup(string(answer), false)
			if err != nil {
				t.Fatal(err)
			}
			connects, merr := msrp.OffererConnects(mOffer, mAnswer)
			role, err := ResolveAnswer(Role{Listen, offer}, answer)
			if (err != nil) != (merr != nil) {
				t.Errorf("offer %s, answer %q: error %v, msrp error %v", offer, answer, err, merr)
				continue
			}
			if err == nil && (role.Setup == SetupActive) != connects {
				t.Errorf("offer %s, answer %q: we settle on %s, msrp says offerer connects=%v", offer, answer, role.Setup, connects)
			}
		}
	}
}
