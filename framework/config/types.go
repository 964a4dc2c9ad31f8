package config

import (
	"errors"
	"strconv"
	"strings"
)

// PortRange is a range of local UDP ports, written "START-END" (for
// example "50000-50500"). RTP uses the even port of each pair and RTCP the
// odd one above it.
type PortRange struct {
	Start int
	End   int
}

// String formats the range as "START-END".
func (r PortRange) String() string {
	return strconv.Itoa(r.Start) + "-" + strconv.Itoa(r.End)
}

// ParsePortRange parses "START-END", where both are decimal numbers. It
// checks only the form; [Settings.Validate] checks the bounds.
func ParsePortRange(s string) (PortRange, error) {
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		return PortRange{}, errors.New("want START-END, for example 50000-50500")
	}
	a, err1 := parsePort(start)
	b, err2 := parsePort(end)
	if err1 != nil || err2 != nil {
		return PortRange{}, errors.New("want START-END with decimal port numbers, for example 50000-50500")
	}
	return PortRange{Start: a, End: b}, nil
}

// parsePort parses an unsigned decimal number of at most 5 digits (so it
// cannot overflow and leading signs or spaces are refused).
func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 {
		return 0, errors.New("bad port")
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, errors.New("bad port")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// Transport is a SIP or MSRP transport protocol name.
type Transport string

// Transports. SIP may use all three; MSRP only TCP and TLS.
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	TransportTLS Transport = "tls"
)

// String returns the transport's name.
func (t Transport) String() string { return string(t) }

// SRTPEncryption is the SRTP key-negotiation policy for RTP streams
// (reference: rtp.encryption.key_negotiation, without ZRTP).
type SRTPEncryption string

// SRTP policies.
const (
	// SRTPDisabled offers and accepts plain RTP only.
	SRTPDisabled SRTPEncryption = "disabled"
	// SRTPOpportunistic offers SDES keys on RTP/AVP and, when answering,
	// takes whatever the remote offered.
	SRTPOpportunistic SRTPEncryption = "opportunistic"
	// SRTPSDESOptional offers RTP/AVP with a=crypto.
	SRTPSDESOptional SRTPEncryption = "sdes_optional"
	// SRTPSDESMandatory offers RTP/SAVP with a=crypto and refuses plain RTP.
	SRTPSDESMandatory SRTPEncryption = "sdes_mandatory"
)

// String returns the policy's name.
func (e SRTPEncryption) String() string { return string(e) }

func (e SRTPEncryption) valid() bool {
	switch e {
	case SRTPDisabled, SRTPOpportunistic, SRTPSDESOptional, SRTPSDESMandatory:
		return true
	}
	return false
}
