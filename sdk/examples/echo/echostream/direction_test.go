package echostream

import "testing"

func TestOfferDirection(t *testing.T) {
	tests := []struct {
		last    string
		holding bool
		want    string
	}{
		{"", false, "sendrecv"},
		{"", true, "sendrecv"}, // nothing negotiated yet: the reference ignores hold
		{"sendrecv", false, "sendrecv"},
		{"sendrecv", true, "sendonly"},
		{"sendonly", false, "sendrecv"},
		{"sendonly", true, "sendonly"},
		{"recvonly", false, "recvonly"},
		{"recvonly", true, "inactive"},
		{"inactive", false, "recvonly"},
		{"inactive", true, "inactive"},
	}
	for _, tt := range tests {
		if got := offerDirection(tt.last, tt.holding); got != tt.want {
			t.Errorf("offerDirection(%q, holding=%t) = %s, want %s", tt.last, tt.holding, got, tt.want)
		}
	}
}

func TestAnswerDirection(t *testing.T) {
	// The answer to each offered direction (columns sendrecv, sendonly,
	// recvonly, inactive) given our last negotiated direction.
	offered := []string{"sendrecv", "sendonly", "recvonly", "inactive"}
	tests := []struct {
		last string
		want [4]string
	}{
		{"", [4]string{"sendrecv", "recvonly", "sendonly", "inactive"}},
		{"sendrecv", [4]string{"sendrecv", "recvonly", "sendonly", "inactive"}},
		{"recvonly", [4]string{"sendrecv", "recvonly", "sendonly", "inactive"}},
		// We hold the stream: we keep not receiving.
		{"sendonly", [4]string{"sendonly", "inactive", "sendonly", "inactive"}},
		{"inactive", [4]string{"sendonly", "inactive", "sendonly", "inactive"}},
	}
	for _, tt := range tests {
		for i, off := range offered {
			if got := answerDirection(tt.last, off); got != tt.want[i] {
				t.Errorf("answerDirection(last %q, offered %s) = %s, want %s", tt.last, off, got, tt.want[i])
			}
		}
	}
}

func TestCheckHold(t *testing.T) {
	tests := []struct {
		dir                string
		wasLocal           bool
		wantLocal, wantRem bool
	}{
		{"sendrecv", false, false, false},
		{"sendrecv", true, false, false},
		{"sendonly", false, true, false},
		{"sendonly", true, true, false},
		{"recvonly", false, false, true},
		{"recvonly", true, false, true},
		{"inactive", false, false, true}, // inactive keeps the local flag
		{"inactive", true, true, true},
	}
	for _, tt := range tests {
		local, remote := checkHold(tt.dir, tt.wasLocal)
		if local != tt.wantLocal || remote != tt.wantRem {
			t.Errorf("checkHold(%s, was %t) = %t, %t; want %t, %t", tt.dir, tt.wasLocal, local, remote, tt.wantLocal, tt.wantRem)
		}
	}
}

func TestDirectionHelpers(t *testing.T) {
	for _, tt := range []struct{ in, noRecv string }{
		{"sendrecv", "sendonly"},
		{"sendonly", "sendonly"},
		{"recvonly", "inactive"},
		{"inactive", "inactive"},
	} {
		if got := withoutRecv(tt.in); got != tt.noRecv {
			t.Errorf("withoutRecv(%s) = %s, want %s", tt.in, got, tt.noRecv)
		}
	}
}
