package echostream

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"
)

// MaxPayload is the largest payload, in bytes, that a datagram may carry.
const MaxPayload = 1024

// ErrMalformedDatagram is returned by ParseDatagram for input that is not an
// echo datagram.
var ErrMalformedDatagram = errors.New("echostream: malformed datagram")

// Kind is the type of an echo datagram.
type Kind uint8

// Datagram kinds.
const (
	// KindPing asks the peer to echo the datagram back.
	KindPing Kind = iota + 1
	// KindPong is the echo of a ping, with its sequence number and payload.
	KindPong
)

// String returns the keyword of the kind on the wire ("PING", "PONG").
func (k Kind) String() string {
	switch k {
	case KindPing:
		return "PING"
	case KindPong:
		return "PONG"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Datagram is one datagram of the echo protocol. On the wire it is ASCII
// text: the kind, a space, the decimal sequence number, a space and the
// payload (UTF-8, up to MaxPayload bytes, possibly empty):
//
//	PING 7 hello
//	PONG 7 hello
type Datagram struct {
	Kind    Kind
	Seq     uint64
	Payload string
}

// ParseDatagram parses one datagram. It accepts exactly what Marshal
// produces, plus a missing space before an empty payload ("PING 7"); for
// anything else it returns an error wrapping ErrMalformedDatagram. It never
// panics: its input comes from the network.
func ParseDatagram(b []byte) (Datagram, error) {
	var d Datagram
	switch {
	case bytes.HasPrefix(b, []byte("PING ")):
		d.Kind = KindPing
	case bytes.HasPrefix(b, []byte("PONG ")):
		d.Kind = KindPong
	default:
		return Datagram{}, ErrMalformedDatagram
	}
	rest := b[len("PING "):]
	seq, payload, hasPayload := bytes.Cut(rest, []byte(" "))
	if len(seq) == 0 || len(seq) > 20 {
		return Datagram{}, ErrMalformedDatagram
	}
	for _, c := range seq {
		if c < '0' || c > '9' {
			return Datagram{}, ErrMalformedDatagram
		}
	}
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if err != nil {
		return Datagram{}, ErrMalformedDatagram
	}
	d.Seq = n
	if hasPayload {
		if len(payload) > MaxPayload || !utf8.Valid(payload) {
			return Datagram{}, ErrMalformedDatagram
		}
		d.Payload = string(payload)
	}
	return d, nil
}

// Marshal returns the datagram's wire form.
func (d Datagram) Marshal() []byte {
	b := make([]byte, 0, len("PING ")+20+1+len(d.Payload))
	b = append(b, d.Kind.String()...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, d.Seq, 10)
	b = append(b, ' ')
	return append(b, d.Payload...)
}
