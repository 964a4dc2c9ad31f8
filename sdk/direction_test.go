package sdk

import "testing"

var allDirections = []MediaDirection{SendRecv, SendOnly, RecvOnly, Inactive}

func TestDirectionOf(t *testing.T) {
	tests := []struct {
		send, recv bool
		want       MediaDirection
		reverse    MediaDirection
	}{
		{true, true, SendRecv, SendRecv},
		{true, false, SendOnly, RecvOnly},
		{false, true, RecvOnly, SendOnly},
		{false, false, Inactive, Inactive},
	}
	for _, tt := range tests {
		d := DirectionOf(tt.send, tt.recv)
		if d != tt.want || d.Sends() != tt.send || d.Receives() != tt.recv || d.Reverse() != tt.reverse {
			t.Errorf("DirectionOf(%t, %t) = %s (sends %t, receives %t, reverse %s); want %s, reverse %s",
				tt.send, tt.recv, d, d.Sends(), d.Receives(), d.Reverse(), tt.want, tt.reverse)
		}
	}
	// Nothing negotiated: neither half.
	var none MediaDirection
	if none.Sends() || none.Receives() || none.String() != "" {
		t.Errorf("zero direction sends %t receives %t string %q", none.Sends(), none.Receives(), none.String())
	}
	if a := none.Attribute(); a.Key != "sendrecv" || a.Value != "" {
		t.Errorf("zero direction attribute %+v, want a=sendrecv", a)
	}
	if a := RecvOnly.Attribute(); a.String() != "recvonly" {
		t.Errorf("recvonly attribute %q", a.String())
	}
}

func TestOfferDirection(t *testing.T) {
	tests := []struct {
		last    MediaDirection
		holding bool
		want    MediaDirection
	}{
		{"", false, SendRecv},
		{"", true, SendRecv}, // nothing negotiated yet: the reference ignores hold
		{SendRecv, false, SendRecv},
		{SendRecv, true, SendOnly},
		{SendOnly, false, SendRecv},
		{SendOnly, true, SendOnly},
		{RecvOnly, false, RecvOnly},
		{RecvOnly, true, Inactive},
		{Inactive, false, RecvOnly},
		{Inactive, true, Inactive},
	}
	for _, tt := range tests {
		if got := OfferDirection(tt.last, tt.holding); got != tt.want {
			t.Errorf("OfferDirection(%q, holding=%t) = %s, want %s", tt.last, tt.holding, got, tt.want)
		}
	}
}

func TestAnswerDirection(t *testing.T) {
	// The answer to each offered direction (columns sendrecv, sendonly,
	// recvonly, inactive) given our last negotiated direction.
	tests := []struct {
		last MediaDirection
		want [4]MediaDirection
	}{
		{"", [4]MediaDirection{SendRecv, RecvOnly, SendOnly, Inactive}},
		{SendRecv, [4]MediaDirection{SendRecv, RecvOnly, SendOnly, Inactive}},
		{RecvOnly, [4]MediaDirection{SendRecv, RecvOnly, SendOnly, Inactive}},
		// We hold the stream: we keep not receiving.
		{SendOnly, [4]MediaDirection{SendOnly, Inactive, SendOnly, Inactive}},
		{Inactive, [4]MediaDirection{SendOnly, Inactive, SendOnly, Inactive}},
	}
	for _, tt := range tests {
		for i, off := range allDirections {
			if got := AnswerDirection(tt.last, off); got != tt.want[i] {
				t.Errorf("AnswerDirection(last %q, offered %s) = %s, want %s", tt.last, off, got, tt.want[i])
			}
		}
	}
}

func TestNegotiatedDirection(t *testing.T) {
	// Rows: our SDP; columns: the remote's (sendrecv, sendonly, recvonly,
	// inactive).
	tests := []struct {
		local MediaDirection
		want  [4]MediaDirection
	}{
		{SendRecv, [4]MediaDirection{SendRecv, RecvOnly, SendOnly, Inactive}},
		{SendOnly, [4]MediaDirection{SendOnly, Inactive, SendOnly, Inactive}},
		{RecvOnly, [4]MediaDirection{RecvOnly, RecvOnly, Inactive, Inactive}},
		{Inactive, [4]MediaDirection{Inactive, Inactive, Inactive, Inactive}},
	}
	for _, tt := range tests {
		for i, remote := range allDirections {
			if got := NegotiatedDirection(tt.local, remote); got != tt.want[i] {
				t.Errorf("NegotiatedDirection(%s, %s) = %s, want %s", tt.local, remote, got, tt.want[i])
			}
		}
	}
}

func TestHoldFlags(t *testing.T) {
	tests := []struct {
		dir                MediaDirection
		wasLocal           bool
		wantLocal, wantRem bool
	}{
		{SendRecv, false, false, false},
		{SendRecv, true, false, false},
		{SendOnly, false, true, false},
		{SendOnly, true, true, false},
		{RecvOnly, false, false, true},
		{RecvOnly, true, false, true},
		{Inactive, false, false, true}, // inactive keeps the local flag
		{Inactive, true, true, true},
	}
	for _, tt := range tests {
		local, remote := HoldFlags(tt.dir, tt.wasLocal)
		if local != tt.wantLocal || remote != tt.wantRem {
			t.Errorf("HoldFlags(%s, was %t) = %t, %t; want %t, %t", tt.dir, tt.wasLocal, local, remote, tt.wantLocal, tt.wantRem)
		}
	}
}

func TestRemoteDirection(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	tests := []struct {
		name string
		sdp  string
		want MediaDirection
	}{
		{"plain", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", SendRecv},
		{"recvonly", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n", RecvOnly},
		// RFC 2543 hold: the remote does not want to receive.
		{"old-style hold", head + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", SendOnly},
		{"old-style hold, media level", head + "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n", Inactive},
		{"old-style hold, IPv6", head + "c=IN IP6 ::\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n", SendOnly},
		{"no address", head + "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendonly\r\n", SendOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m, err := MediaAt(tt.sdp, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := RemoteDirection(s, m); got != tt.want {
				t.Errorf("RemoteDirection = %s, want %s", got, tt.want)
			}
		})
	}
}
