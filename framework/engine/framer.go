package engine

import "bytes"

// maxMessage bounds a SIP message on a stream, headers and body; it
// matches sipgo's ParseMaxMessageLength.
const maxMessage = 65535

// frameKind tells what a frame of a SIP byte stream is.
type frameKind int

const (
	// frameMessage is one whole message, headers and Content-Length bytes
	// of body.
	frameMessage frameKind = iota
	// frameKeepAlive is a run of CR and LF between messages (RFC 5626
	// §3.5.1 keep-alives, or the CRLF a peer put before a start line).
	frameKeepAlive
	// frameBroken ends the stream: from here on it cannot be cut into
	// messages. data holds the message's headers when they could be read
	// (so that the request can be answered), else nil.
	frameBroken
)

// frame is one unit of a SIP byte stream.
type frame struct {
	kind frameKind
	data []byte
	// rej says why a broken stream cannot be framed, as the answer to its
	// request; nil when there is none to give.
	rej *rejection
}

// framer cuts a SIP byte stream (TCP or TLS) into messages by the blank
// line after the headers and Content-Length (RFC 3261 §7.5, §18.3). A
// message without Content-Length, with more than one, with one that is
// not a number, or larger than maxMessage breaks the stream: there is no
// way to know where the next message starts (RFC 4475 §3.1.2.3, §3.3.9).
type framer struct {
	buf    []byte
	broken bool
}

// feed appends p to what the framer holds.
func (f *framer) feed(p []byte) {
	if !f.broken {
		f.buf = append(f.buf, p...)
	}
}

// pending reports whether part of a message is held.
func (f *framer) pending() bool { return len(f.buf) > 0 }

// next returns the next frame, or false if more bytes are needed. After
// a frameBroken it returns nothing more.
func (f *framer) next() (frame, bool) {
	if f.broken || len(f.buf) == 0 {
		return frame{}, false
	}
	i := 0
	for i < len(f.buf) && (f.buf[i] == '\r' || f.buf[i] == '\n') {
		i++
	}
	if i > 0 {
		return frame{kind: frameKeepAlive, data: f.take(i)}, true
	}
	end := bytes.Index(f.buf, crlfcrlf)
	if end < 0 {
		if len(f.buf) > maxMessage {
			return f.breakOff(nil, nil), true
		}
		return frame{}, false
	}
	head := f.buf[:end+4]
	n, rej := streamContentLength(head)
	if rej == nil && end+4+n > maxMessage {
		rej = reject(413, "message larger than 65535 bytes")
	}
	if rej != nil {
		return f.breakOff(head, rej), true
	}
	if len(f.buf) < end+4+n {
		return frame{}, false
	}
	return frame{kind: frameMessage, data: f.take(end + 4 + n)}, true
}

// take removes and returns the first n bytes.
func (f *framer) take(n int) []byte {
	out := f.buf[:n:n]
	f.buf = f.buf[n:]
	if len(f.buf) == 0 {
		f.buf = nil
	}
	return out
}

func (f *framer) breakOff(head []byte, rej *rejection) frame {
	f.broken = true
	f.buf = nil
	return frame{kind: frameBroken, data: head, rej: rej}
}

// streamContentLength reads the Content-Length of a message's headers
// (start line to the blank line), as needed to frame it on a stream. It
// reads the header names only, without copying them.
func streamContentLength(head []byte) (int, *rejection) {
	var value []byte
	n := 0
	inCL := false
	first := true
	for len(head) > 0 {
		i := bytes.Index(head, []byte("\r\n"))
		if i < 0 {
			i = len(head)
		}
		line := head[:i]
		head = head[min(i+2, len(head)):]
		if first {
			first = false
			continue
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if inCL {
				value = append(append(bytes.Clone(value), ' '), line...) // a folded value: rare
			}
			continue
		}
		name, v, ok := bytes.Cut(line, []byte(":"))
		name = bytes.TrimRight(name, " \t")
		inCL = ok && (bytes.EqualFold(name, []byte("Content-Length")) || bytes.EqualFold(name, []byte("l")))
		if inCL {
			n++
			value = v
		}
	}
	cl := string(bytes.TrimSpace(value))
	switch {
	case n == 0:
		return 0, reject(400, "no Content-Length: it is required on stream transports")
	case n > 1:
		return 0, reject(400, "more than one Content-Length header")
	case !isDigits(cl) || len(cl) > 10:
		return 0, reject(400, "malformed Content-Length")
	}
	return atoi(cl), nil
}
