package sdk

import (
	"errors"
	"testing"
)

func TestSessionLocalAddr(t *testing.T) {
	tests := []struct {
		name    string
		session *SessionInfo
		want    string
		err     bool
	}{
		{"no session", nil, DefaultLocalIP, false},
		{"no local IP", &SessionInfo{}, DefaultLocalIP, false},
		{"IPv4", &SessionInfo{LocalIP: "192.0.2.7"}, "192.0.2.7", false},
		{"IPv6", &SessionInfo{LocalIP: "::1"}, "::1", false},
		{"mapped", &SessionInfo{LocalIP: "::ffff:127.0.0.1"}, "127.0.0.1", false},
		{"host name", &SessionInfo{LocalIP: "host.example.com"}, "", true},
		{"unspecified IPv4", &SessionInfo{LocalIP: "0.0.0.0"}, "", true},
		{"unspecified IPv6", &SessionInfo{LocalIP: "::"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.session.LocalAddr()
			if tt.err {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("LocalAddr = %v, %v; want ErrInvalidArgument", got, err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("LocalAddr = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}
