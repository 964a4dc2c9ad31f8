package audiostream

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/dtmf"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/jitter"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
	"github.com/sipstreams/sipstreams/sdk/codec"
)

// dtmfEndPackets is how often the final packet of an event is sent (the
// reference's pjmedia sends it three times).
const dtmfEndPackets = 3

// sender is what the port sends RTP with: an *rtpsession.Session.
type sender interface {
	Send(payloadType uint8, payload []byte, marker bool, advance uint32) error
}

// mediaPort is the stream as a port of the voice mixer: the mixer's 20 ms
// clock drives it, at the codec's sample rate (a mixer.RatedPort: the
// mixer converts to and from the device's rate only on the connections
// that need it). WriteFrame takes the audio to send (the microphone or
// the input file), encodes it and sends it, or sends the next DTMF packet
// instead; ReadFrame plays out the jitter buffer, decoded, as the remote's
// audio. Both run on the mixer's clock goroutine; receive runs on the RTP
// session's. mu guards the codec state that a re-INVITE may replace.
type mediaPort struct {
	name string
	rate int // the mixer's

	mu    sync.Mutex
	out   sender
	codec codec.Codec // the codec enc and dec come from
	// toCodec and fromCodec convert between the mixer's rate and a codec
	// rate that the mixer does not run at (not one of pcm.SupportedRates:
	// a codec module's 24 kHz, say); nil when the port runs at the codec's.
	toCodec   *pcm.Resampler
	fromCodec *pcm.Resampler
	info      codec.Info
	enc       codec.Encoder
	dec       codec.Decoder
	jb        *jitter.Buffer
	sendPT    uint8
	recvPT    uint8
	events    bool
	sendEvPT  uint8
	recvEvPT  uint8
	sending   bool
	marker    bool // the next audio packet starts a talk spurt
	txFIFO    []int16
	rxFIFO    []int16
	pcmBuf    []int16
	payload   []byte
	evTicks   uint32 // packets of the DTMF event in progress
	evEnds    int
	evRate    int
	dtmfTx    *dtmf.Sender
	dtmfRx    dtmf.Receiver // owned by the RTP receive goroutine
	onDTMF    func(rune)

	// onFail is called once, with p.mu held, when the codec failed
	// (codec.ErrCodecFailed: a codec module trapped, ran too long or out
	// of memory); failure says how. The stream fails with it. Set before
	// the port joins the mixer; it must not block.
	onFail  func()
	failure error

	ticks     atomic.Uint64
	played    atomic.Uint64
	concealed atomic.Uint64
	digits    atomic.Uint64
}

func newMediaPort(name string, rate int, onDTMF func(rune)) (*mediaPort, error) {
	tx, err := dtmf.NewSender(dtmf.WithEndPackets(dtmfEndPackets), dtmf.WithClockRate(eventsRate))
	if err != nil {
		return nil, err
	}
	return &mediaPort{name: name, rate: rate, dtmfTx: tx, evRate: eventsRate, onDTMF: onDTMF}, nil
}

// Name implements mixer.Port.
func (p *mediaPort) Name() string { return p.name }

// SampleRate implements mixer.RatedPort: the codec's PCM rate, the
// mixer's until a codec is configured.
func (p *mediaPort) SampleRate() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.enc == nil || p.toCodec != nil {
		return p.rate
	}
	return p.info.SampleRate
}

// configure installs the negotiated codec and payload types. A new codec
// — another name, or another codec module of the same name — gets fresh
// encoder, decoder, resamplers and jitter buffer; the same codec keeps its
// state (a re-INVITE that only moved the peer).
func (p *mediaPort) configure(out sender, n negotiation) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	info := n.codec.Info()
	if p.enc == nil || n.codec != p.codec || info.Name != p.info.Name || info.ClockRate != p.info.ClockRate {
		enc, err := n.codec.NewEncoder()
		if err != nil {
			return err
		}
		dec, err := n.codec.NewDecoder()
		if err != nil {
			_ = codec.Close(enc)
			return err
		}
		var toCodec, fromCodec *pcm.Resampler
		if pcm.CheckRate(info.SampleRate) != nil {
			toCodec, err = pcm.NewResampler(p.rate, info.SampleRate)
			if err == nil {
				fromCodec, err = pcm.NewResampler(info.SampleRate, p.rate)
			}
		}
		var jb *jitter.Buffer
		if err == nil {
			jb, err = jitter.New(jitter.Config{ClockRate: uint32(info.ClockRate), Frame: info.Packet(), Adaptive: true})
		}
		if err != nil {
			_ = codec.Close(enc)
			_ = codec.Close(dec)
			return err
		}
		p.closeCodecLocked() // the previous codec's states (a module's)
		p.codec, p.info, p.enc, p.dec, p.toCodec, p.fromCodec, p.jb = n.codec, info, enc, dec, toCodec, fromCodec, jb
		p.txFIFO, p.rxFIFO, p.marker = p.txFIFO[:0], p.rxFIFO[:0], true
	}
	if n.events && n.evRate != p.evRate && p.evTicks == 0 {
		// Event durations count in the telephone-event clock.
		tx, err := dtmf.NewSender(dtmf.WithEndPackets(dtmfEndPackets), dtmf.WithClockRate(n.evRate))
		if err != nil {
			return err
		}
		p.dtmfTx, p.evRate = tx, n.evRate
	}
	p.out = out
	p.sendPT, p.recvPT = n.sendPT, n.recvPT
	p.events, p.sendEvPT, p.recvEvPT = n.events, n.sendEvPT, n.recvEvPT
	return nil
}

// closeCodecLocked releases the encoder and decoder (a codec module's
// states).
func (p *mediaPort) closeCodecLocked() {
	_ = codec.Close(p.enc)
	_ = codec.Close(p.dec)
	p.enc, p.dec = nil, nil
}

// close releases the codec once the port left the mixer.
func (p *mediaPort) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeCodecLocked()
}

// codecErrLocked records a failure of the codec itself: the stream fails.
func (p *mediaPort) codecErrLocked(err error) {
	if err == nil || !errors.Is(err, codec.ErrCodecFailed) || p.failure != nil {
		return
	}
	p.failure = err
	if p.onFail != nil {
		p.onFail()
	}
}

// codecFailure is why the codec failed.
func (p *mediaPort) codecFailure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failure
}

// setSending turns sending media on or off (hold, direction).
func (p *mediaPort) setSending(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && !p.sending {
		p.marker = true
	}
	p.sending = on
}

// sendDTMF queues a digit; it is sent only if telephone-event was
// negotiated, silently dropped otherwise (reference §3.7).
func (p *mediaPort) sendDTMF(digit rune) error {
	p.mu.Lock()
	events, tx := p.events, p.dtmfTx
	p.mu.Unlock()
	if _, err := dtmf.Code(digit); err != nil {
		return err
	}
	if !events {
		return nil
	}
	if err := tx.Enqueue(digit); err != nil && !errors.Is(err, dtmf.ErrQueueFull) {
		return err
	}
	return nil
}

// WriteFrame implements mixer.Sink: one 20 ms tick of the send side.
func (p *mediaPort) WriteFrame(frame []int16) {
	p.ticks.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil || p.enc == nil {
		return
	}
	step := p.info.TimestampStep()
	if !p.sending {
		// Held: nothing is sent, the timestamp keeps time.
		_ = p.out.Send(p.sendPT, nil, false, step)
		p.txFIFO = p.txFIFO[:0]
		return
	}
	if p.events && (p.evTicks > 0 || p.dtmfTx.Busy()) {
		if pkt, ok := p.dtmfTx.Tick(); ok {
			p.sendEvent(pkt, step)
			return
		}
	}
	if p.toCodec != nil {
		p.txFIFO = p.toCodec.Resample(p.txFIFO, frame)
	} else {
		p.txFIFO = append(p.txFIFO, frame...)
	}
	n := p.info.FrameSamples()
	if len(p.txFIFO) < n {
		_ = p.out.Send(p.sendPT, nil, false, step) // not a whole packet yet: keep time
		return
	}
	payload, err := p.enc.Encode(p.txFIFO[:n], p.payload[:0])
	p.txFIFO = append(p.txFIFO[:0], p.txFIFO[n:]...)
	if err != nil {
		p.codecErrLocked(err)
		return
	}
	p.payload = payload
	_ = p.out.Send(p.sendPT, payload, p.marker, step)
	p.marker = false
}

// sendEvent sends one telephone-event packet. Every packet of an event
// carries the event's start timestamp (RFC 4733 §2.5.1.1), so the media
// timestamp is advanced by the whole event with its last packet.
func (p *mediaPort) sendEvent(pkt dtmf.Packet, step uint32) {
	p.evTicks++
	var advance uint32
	if pkt.Event.End {
		p.evEnds++
		if p.evEnds >= dtmfEndPackets {
			advance = p.evTicks * step
			p.evTicks, p.evEnds = 0, 0
		}
	}
	_ = p.out.Send(p.sendEvPT, pkt.Payload, pkt.Marker, advance)
	if advance > 0 {
		p.marker = true
	}
}

// ReadFrame implements mixer.Source: one 20 ms tick of the receive side.
func (p *mediaPort) ReadFrame(frame []int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dec == nil {
		clear(frame)
		return
	}
	n := p.info.FrameSamples()
	pkt, status := p.jb.Pop()
	buf := p.pcmBuf[:0]
	var err error
	switch status {
	case jitter.StatusOK:
		buf, err = p.dec.Decode(pkt.Payload, buf)
		p.played.Add(1)
	case jitter.StatusLost:
		buf, err = p.dec.Conceal(buf)
		p.concealed.Add(1)
	}
	p.codecErrLocked(err)
	if err != nil || len(buf) == 0 {
		buf = append(buf[:0], make([]int16, n)...)
	}
	p.pcmBuf = buf
	if p.fromCodec != nil {
		p.rxFIFO = p.fromCodec.Resample(p.rxFIFO, buf)
	} else {
		p.rxFIFO = append(p.rxFIFO, buf...)
	}
	c := copy(frame, p.rxFIFO)
	clear(frame[c:])
	p.rxFIFO = append(p.rxFIFO[:0], p.rxFIFO[c:]...)
}

// receive takes one RTP packet from the session (its receive goroutine).
func (p *mediaPort) receive(pkt rtpsession.Packet) {
	p.mu.Lock()
	events, evPT, jb, recvPT, sendPT := p.events, p.recvEvPT, p.jb, p.recvPT, p.sendPT
	p.mu.Unlock()
	switch {
	case events && pkt.PayloadType == evPT:
		d, ok, err := p.dtmfRx.Receive(pkt.Timestamp, pkt.Marker, pkt.Payload)
		if err == nil && ok {
			p.digits.Add(1)
			p.onDTMF(d.Digit)
		}
	case jb != nil && (pkt.PayloadType == recvPT || pkt.PayloadType == sendPT):
		arrival := pkt.Arrival
		if arrival.IsZero() {
			arrival = time.Now()
		}
		jb.Push(jitter.Packet{
			SSRC:           pkt.SSRC,
			SequenceNumber: pkt.SequenceNumber,
			Timestamp:      pkt.Timestamp,
			Marker:         pkt.Marker,
			PayloadType:    pkt.PayloadType,
			Payload:        pkt.Payload,
		}, arrival)
	}
}

// jitterStats returns the jitter buffer's counters.
func (p *mediaPort) jitterStats() jitter.Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.jb == nil {
		return jitter.Stats{}
	}
	return p.jb.Stats()
}

// codecInfo returns the codec in use.
func (p *mediaPort) codecInfo() codec.Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}
