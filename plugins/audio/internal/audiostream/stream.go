package audiostream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/icetransport"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpmux"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/rtpsession"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdes"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/sdpaudio"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/module"
)

// edge is one mixer connection the stream made.
type edge struct{ src, dst mixer.Port }

// stream is one audio stream. The SDK serialises the sdk.Stream calls; the
// mixer clock and the RTP goroutines run beside them and only touch the
// mediaPort (its own lock) and the atomics. mu guards everything else, the
// SDK's lifecycle and hold helpers included. Notifications are posted with
// mu held where their order matters; Post never blocks.
type stream struct {
	sdk.UnimplementedStream

	env    *sdk.Env
	plugin *plugin
	st     settings

	// For the RTP goroutines, which take no lock of the stream's: the
	// negotiated direction is sendrecv (RTP timeout), Deactivate was called.
	sendrecv    atomic.Bool
	deactivated atomic.Bool

	mu           sync.Mutex
	life         sdk.Lifecycle // states (reference §3.1), ICE goroutines, End
	hold         sdk.HoldState // reference §3.5
	index        int
	session      *sdk.SessionInfo
	sessionDir   string
	pair         mediaPorts // until the RTP session owns them
	havePair     bool
	shared       *rtpmux.Mux // the shared pairs the stream uses (released at End)
	local        localEndpoint
	offerCrypto  []sdes.Crypto
	answerCrypto sdes.Crypto
	neg          negotiation
	rtp          *rtpsession.Session
	port         *mediaPort
	mix          *mixer.Mixer
	input        *filePort
	inputFile    string
	inputLoops   int
	recorder     *recorderPort
	wired        map[edge]bool
	remoteSDP    sdpMemo // the remote description last parsed

	// ICE: the transport while gathering, checking or in use; the
	// goroutine that gathers or checks is the lifecycle's (Go).
	remoteHasICE bool
	ice          *icetransport.Transport
	iceActive    bool
}

var _ sdk.Stream = (*stream)(nil)

func newStream(env *sdk.Env, p *plugin, st settings, index int) *stream {
	return &stream{
		env: env, plugin: p, st: st, index: index, wired: map[edge]bool{}, inputFile: st.inputFile,
		life: sdk.NewLifecycle(env), hold: sdk.NewHoldState(env, sdkaudio.DidChangeHoldState, sdkaudio.RTPDidChangeHoldState),
	}
}

// Initialize binds the RTP/RTCP port pair on the session's local address
// and posts MediaStreamDidInitialize, or MediaStreamDidNotInitialize with
// the reason.
func (s *stream) Initialize(ctx context.Context, req *sdk.InitializeRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Initializing(); err != nil {
		return err
	}
	s.session, s.sessionDir = req.Session, req.Direction
	ip, err := req.Session.LocalAddr()
	var pair mediaPorts
	if err == nil {
		pair, err = s.openPortsLocked(ctx, ip)
	}
	if err != nil {
		s.life.NotInitialized(sdk.ReasonOf(err))
		return nil
	}
	s.pair, s.havePair = pair, true
	s.local = localEndpoint{addr: ip, rtpPort: pair.rtpPort, rtcpPort: pair.rtcpPort, ssrc: pair.ssrc, cname: pair.cname}
	// ICE when enabled, and when answering only if the offer has it
	// (reference §3.6). The plain pair stays the default address, for a
	// peer without ICE.
	if s.st.useICE && (req.Direction == sdk.DirectionOutgoing || s.remoteHasICE) {
		t, err := s.newICE(ip, req.Direction == sdk.DirectionOutgoing)
		if err != nil {
			s.releaseLocked()
			s.life.NotInitialized(err.Error())
			return nil
		}
		s.ice = t
		s.life.Go(func(ctx context.Context) { s.gather(ctx, t) })
		return nil
	}
	s.life.Initialized()
	return nil
}

// GetLocalMedia returns our m-line: an offer (codecs in
// rtp.audio_codec_list order, telephone-event, a=crypto per policy) or the
// answer to the remote's m-line (one common codec).
func (s *stream) GetLocalMedia(ctx context.Context, req *sdk.GetLocalMediaRequest) (*sdk.GetLocalMediaResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Check("GetLocalMedia", sdk.StateInitialized, sdk.StateStarting, sdk.StateStarted); err != nil {
		return nil, err
	}
	var media sdpaudio.Media
	if req.ForOffer || req.RemoteSDP == "" {
		if s.offerCrypto == nil && s.st.srtp != sdkaudio.SRTPDisabled {
			lines, err := sdes.Offer(offeredSuites, nil)
			if err != nil {
				return nil, sdk.Errorf(sdk.ErrInternal, "SRTP keys: %v", err)
			}
			s.offerCrypto = lines
		}
		media = buildOffer(&s.st, s.local, s.offerCrypto, s.hold.Offer())
	} else {
		remote, err := s.remoteSDP.parse(req.RemoteSDP, req.StreamIndex)
		if err != nil {
			return nil, err
		}
		s.refreshForReofferLocked(ctx)
		ans, line, err := buildAnswer(&s.st, s.local, remote, s.answerCrypto, s.hold.Answer(remote.Direction))
		if err != nil {
			return nil, err
		}
		if len(line.Key) > 0 {
			s.answerCrypto = line
		}
		media = ans
	}
	return sdk.LocalMediaResponse(media.Build())
}

// Start starts RTP and the media path after negotiation; it posts the
// encryption outcome, then MediaStreamDidStart, or MediaStreamDidFail.
func (s *stream) Start(ctx context.Context, req *sdk.StartRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Starting(); err != nil {
		return err
	}
	n, err := negotiate(&s.st, &s.remoteSDP, req.LocalSDP, req.RemoteSDP, req.StreamIndex)
	if err == nil && n.removed {
		err = errors.New("the remote refused the stream (port 0)")
	}
	if err != nil {
		s.releaseLocked()
		if errors.Is(err, errNoSRTP) {
			s.env.Post(sdkaudio.DidNotEnableEncryption, sdkaudio.NotEncryptedData{Reason: "Negotiation failed: " + sdk.ReasonOf(err)})
		}
		s.life.Fail("start", sdk.ReasonOf(err))
		return nil
	}
	if s.ice != nil {
		if remote, ok := remoteICE(n.remoteICE); ok {
			t, index := s.ice, req.StreamIndex
			s.life.Go(func(ctx context.Context) { s.connectICE(ctx, t, remote, n, index) })
			return nil
		}
		closeICE(s.ice) // the answer has no ICE: plain RTP
		s.ice = nil
	}
	s.finishStartLocked(ctx, n, req.StreamIndex, transports{})
	return nil
}

// finishStartLocked starts the media over tr and posts the outcome.
func (s *stream) finishStartLocked(ctx context.Context, n negotiation, index int, tr transports) {
	if err := s.startMediaLocked(ctx, n, tr); err != nil {
		s.releaseLocked()
		s.life.Fail("start", sdk.ReasonOf(err))
		return
	}
	s.index, s.neg = index, n
	if n.srtp != nil {
		s.env.Post(sdkaudio.DidEnableEncryption, sdkaudio.EncryptionData{Type: "SRTP/SDES", Cipher: string(n.srtp.suite)})
	} else if n.notEncrypted != "" {
		s.env.Post(sdkaudio.DidNotEnableEncryption, sdkaudio.NotEncryptedData{Reason: n.notEncrypted})
	}
	s.life.Started()
	s.negotiatedLocked(n.direction)
	s.applyLocked()
}

// startMediaLocked builds the RTP session over tr (else the plain port
// pair) and joins the voice mixer.
func (s *stream) startMediaLocked(ctx context.Context, n negotiation, tr transports) error {
	mix, err := s.plugin.engine.acquireVoice(ctx, s.st.sampleRate, s.st.input, s.st.output)
	if err != nil {
		return err
	}
	port, err := newMediaPort(fmt.Sprintf("audio-stream:%d:%p", s.env.Handle, s), mix.SampleRate(), s.gotDTMF)
	if err == nil {
		port.onFail = func() { go s.codecFailed(port) }
		err = mix.Add(port)
	}
	if err != nil {
		s.plugin.engine.releaseVoice()
		return err
	}
	cfg := rtpsession.Config{
		RTP:        s.pair.rtp,
		RTCP:       s.pair.rtcp,
		SSRC:       s.pair.ssrc,
		CNAME:      s.pair.cname,
		RemoteRTP:  udpAddrOrNil(n.remoteRTP),
		RemoteRTCP: udpAddrOrNil(n.remoteRTCP),
		Latch:      true,
		ClockRate:  uint32(n.codec.Info().ClockRate),
		// Every payload type reaches the port, which keeps the negotiated
		// ones: a re-INVITE may change them.
		KeepAlivePayloadType: &n.sendPT,
		Timeout:              s.st.timeout,
		OnTimeout:            s.timedOut,
		OnPacket:             port.receive,
		Logger:               s.env.Logger,
	}
	if tr.ice() {
		// Connected ICE components: the pair is not needed any more.
		cfg.RTP, cfg.RTCP, cfg.RTCPMux = tr.rtp, tr.rtcp, tr.rtcp == nil
		cfg.RemoteRTP, cfg.RemoteRTCP, cfg.Latch = nil, nil, false
		if s.havePair {
			_ = s.pair.Close()
			s.havePair = false
		}
	}
	if n.srtp != nil {
		cfg.SRTP = &rtpsession.SRTP{Profile: n.srtp.profile, LocalKey: n.srtp.localKey, RemoteKey: n.srtp.remoteKey}
	}
	if !tr.ice() && n.remoteSSRC != 0 {
		s.pair.expect(n.remoteSSRC)
	}
	sess, err := rtpsession.New(cfg)
	if err == nil {
		s.havePair = false // the session owns the sockets now
		if err = sess.Start(ctx); err != nil {
			_ = sess.Close()
		}
	}
	if err == nil {
		err = port.configure(sess, n)
		if err != nil {
			_ = sess.Close()
		}
	}
	if err != nil {
		_ = mix.Remove(port)
		s.plugin.engine.releaseVoice()
		return err
	}
	s.rtp, s.port, s.mix = sess, port, mix
	if s.inputFile != "" {
		if err := s.openInputLocked(s.inputFile, s.inputLoops); err != nil {
			s.env.Logger.Warn("input file", "file", s.inputFile, "error", err)
		}
	}
	return nil
}

// codecFailed fails the stream when its codec failed (a codec module that
// trapped, ran past its call timeout or out of memory): only the streams
// of that module fail, with MediaStreamDidFail naming the module. It runs
// on a goroutine of its own, started by the port's onFail (from the mixer,
// whose locks the stream's lock must not be taken under).
func (s *stream) codecFailed(port *mediaPort) {
	err := port.codecFailure()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port != port || s.life.State() == sdk.StateEnded {
		return // replaced or ended meanwhile
	}
	if s.life.TransportClosed("codec", err.Error()) {
		s.env.Logger.Warn("codec failed", "error", err)
		s.applyLocked()
	}
}

// releaseLocked gives back the ports of a stream that failed before its
// media started: the plain pair and the ICE transport (closed here: its
// callbacks take no lock of the stream's). End finds nothing left to close.
// Ports go back at the failure, not at End, which may come much later
// (the session's INVITE transaction).
func (s *stream) releaseLocked() {
	if s.havePair {
		_ = s.pair.Close()
		s.havePair = false
	}
	if s.ice != nil {
		closeICE(s.ice)
		s.ice = nil
	}
}

// udpAddrOrNil keeps a nil *net.UDPAddr from becoming a non-nil net.Addr.
func udpAddrOrNil(a *net.UDPAddr) net.Addr {
	if a == nil {
		return nil
	}
	return a
}

// gotDTMF runs on the RTP receive goroutine.
func (s *stream) gotDTMF(d rune) {
	s.env.Post(sdkaudio.GotDTMF, sdkaudio.DTMFData{Digit: string(d)})
}

// timedOut runs on the RTP session's goroutine: no RTP for rtp.timeout.
// As the reference, it is reported only while the direction is sendrecv.
func (s *stream) timedOut() {
	if !s.sendrecv.Load() || s.deactivated.Load() {
		return
	}
	postAll(s.env, nil, sdkaudio.DidTimeout, sdkaudio.RTPDidTimeout)
}

// ValidateUpdate accepts a re-INVITE whose m-line is removed (port 0) or
// still acceptable under the account's codecs and SRTP policy.
func (s *stream) ValidateUpdate(ctx context.Context, req *sdk.ValidateUpdateRequest) (*sdk.ValidateUpdateResponse, error) {
	remote, err := parseRemote(req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return &sdk.ValidateUpdateResponse{OK: false}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshForReofferLocked(ctx)
	return &sdk.ValidateUpdateResponse{OK: checkOffer(&s.st, remote) == nil}, nil
}

// refreshForReofferLocked takes the codec directory's current modules into
// the codec list before a running stream answers a re-offer, so that the
// peer's renegotiation can move the call onto a codec just added here. The
// first offer/answer keeps the list the stream was made with. The codec in
// use stays as it is — its module even if that was replaced or removed
// meanwhile: a re-offer (a hold, a session refresh) does not move a
// running call onto another module of its codec; RefreshCodecs does.
func (s *stream) refreshForReofferLocked(ctx context.Context) {
	if s.life.State() != sdk.StateStarted {
		return
	}
	st := s.st
	if err := s.plugin.resolveCodecs(ctx, &st); err != nil {
		return
	}
	if cur := s.neg.codec; cur != nil {
		i := slices.IndexFunc(st.codecs, func(c codec.Codec) bool { return strings.EqualFold(c.Info().Name, cur.Info().Name) })
		if i >= 0 {
			st.codecs[i] = cur
		} else {
			st.codecs = append(st.codecs, cur)
		}
	}
	s.st = st
}

// Update applies renegotiated SDP: a new codec replaces the encoder and
// decoder, a new remote address rebinds the peer in place (keeping SSRC,
// sequence numbers and SRTP state), a new direction updates the hold
// flags and the media path.
func (s *stream) Update(_ context.Context, req *sdk.UpdateRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.life.Check("Update", sdk.StateStarted); err != nil {
		return err
	}
	n, err := negotiate(&s.st, &s.remoteSDP, req.LocalSDP, req.RemoteSDP, req.StreamIndex)
	if err != nil {
		return err
	}
	if n.removed {
		return nil
	}
	old := s.neg
	oldInfo, newInfo := old.codec.Info(), n.codec.Info()
	if old.codec != n.codec || oldInfo.Name != newInfo.Name || oldInfo.ClockRate != newInfo.ClockRate || old.sendPT != n.sendPT {
		if err := s.port.configure(s.rtp, n); err != nil {
			return sdk.Errorf(sdk.ErrInternal, "codec %s: %v", newInfo.Name, err)
		}
		data := sdkaudio.RTPParametersData{Change: sdkaudio.ChangeCodec, Codec: newInfo.Name, SampleRate: newInfo.SampleRate}
		postAll(s.env, data, sdkaudio.DidChangeRTPParameters, sdkaudio.RTPDidChangeRTPParameters)
	} else if err := s.port.configure(s.rtp, n); err != nil {
		return sdk.Errorf(sdk.ErrInternal, "update: %v", err)
	}
	if n.remoteRTP != nil && !s.iceActive && (old.remoteRTP == nil || !old.remoteRTP.IP.Equal(n.remoteRTP.IP) || old.remoteRTP.Port != n.remoteRTP.Port) {
		s.rtp.SetRemote(n.remoteRTP, n.remoteRTCP)
		data := sdkaudio.RTPParametersData{Change: sdkaudio.ChangeRemotePeerRebind, NewRemoteAddress: n.remoteRTP.IP.String(), NewRemotePort: n.remoteRTP.Port}
		if old.remoteRTP != nil {
			data.OldRemoteAddress, data.OldRemotePort = old.remoteRTP.IP.String(), old.remoteRTP.Port
		}
		postAll(s.env, data, sdkaudio.DidChangeRTPParameters, sdkaudio.RTPDidChangeRTPParameters)
	}
	if n.remoteRTP == nil {
		n.remoteRTP, n.remoteRTCP = old.remoteRTP, old.remoteRTCP // old-style hold: keep the peer
	}
	s.index, s.neg = req.StreamIndex, n
	s.negotiatedLocked(n.direction)
	s.applyLocked()
	return nil
}

// negotiatedLocked records the negotiated direction: the hold state posts
// AudioStreamDidChangeHoldState and RTPStreamDidChangeHoldState for each
// flag that changed.
func (s *stream) negotiatedLocked(dir sdk.MediaDirection) {
	s.hold.Negotiated(dir)
	s.sendrecv.Store(dir == sdk.SendRecv)
}

// postAll posts data under each of names, in order: the seed's name and
// the reference's for the same event (see package sdk/audio).
func postAll(n sdk.Notifier, data any, names ...string) {
	for _, name := range names {
		n.Post(name, data)
	}
}

// activeLocked reports whether media flows: started, not deactivated, and
// held by nobody (the reference pauses the stream, removing it from its
// bridge, while either side holds).
func (s *stream) activeLocked() bool {
	return s.life.Active() && !s.hold.Paused()
}

// applyLocked brings the mixer connections and the sending state in line
// with the stream's state: while active, the input (the microphone, or the
// input file instead) feeds the stream, the stream feeds the speaker, and a
// recorder hears the stream and what it sends (microphone or input file).
func (s *stream) applyLocked() {
	want := map[edge]bool{}
	active := s.activeLocked()
	if active && s.mix != nil && s.port != nil {
		dev := s.mix.Device()
		if s.input != nil {
			want[edge{s.input, s.port}] = true
		} else {
			want[edge{dev, s.port}] = true
		}
		want[edge{s.port, dev}] = true
		if s.recorder != nil {
			// Both directions: what arrives and what is sent (the
			// input file when one replaces the microphone).
			want[edge{s.port, s.recorder}] = true
			if s.input != nil {
				want[edge{s.input, s.recorder}] = true
			} else {
				want[edge{dev, s.recorder}] = true
			}
		}
	}
	for e := range s.wired {
		if !want[e] {
			if err := s.mix.Disconnect(e.src, e.dst); err != nil {
				s.env.Logger.Warn("mixer disconnect", "src", e.src.Name(), "dst", e.dst.Name(), "error", err)
			}
			delete(s.wired, e)
		}
	}
	for e := range want {
		if !s.wired[e] {
			if err := s.mix.Connect(e.src, e.dst); err != nil {
				s.env.Logger.Warn("mixer connect", "src", e.src.Name(), "dst", e.dst.Name(), "error", err)
				continue
			}
			s.wired[e] = true
		}
	}
	send := active && s.hold.Direction().Sends()
	if s.port != nil {
		s.port.setSending(send)
	}
	if s.rtp != nil {
		s.rtp.SetSending(send)
	}
}

// Hold takes the stream out of the media path at once; the next offer asks
// the remote to stop sending (reference §3.5).
func (s *stream) Hold(context.Context) error { return s.requestHold(true) }

// Unhold withdraws the hold request; media resumes once the next exchange
// says so.
func (s *stream) Unhold(context.Context) error { return s.requestHold(false) }

func (s *stream) requestHold(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold.Request(on)
	s.applyLocked()
	return nil
}

// Reset records the stream's index after a re-INVITE without SDP.
func (s *stream) Reset(_ context.Context, req *sdk.ResetRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index = req.StreamIndex
	return nil
}

// Deactivate stops the media; closing the transport is normal from now on.
func (s *stream) Deactivate(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.life.Deactivate()
	s.deactivated.Store(true)
	s.applyLocked()
	return nil
}

// End stops recording, leaves the mixer, stops the ICE goroutine and
// closes ICE, RTP and the ports; the lifecycle posts MediaStreamWillEnd
// then MediaStreamDidEnd (before initialization finished:
// MediaStreamDidNotInitialize "Interrupted"). A second End does nothing.
func (s *stream) End(context.Context) error {
	return s.life.End(&s.mu, func(prev sdk.StreamState) func() {
		if prev != sdk.StateNew && prev != sdk.StateInitializing {
			s.stopRecordingLocked("")
			s.applyLocked() // not active any more: every connection goes
			if s.mix != nil {
				if s.port != nil {
					_ = s.mix.Remove(s.port)
				}
				if s.input != nil {
					_ = s.mix.Remove(s.input)
				}
			}
		}
		rtp, input, mix, pair, havePair, t, port, shared := s.rtp, s.input, s.mix, s.pair, s.havePair, s.ice, s.port, s.shared
		s.rtp, s.input, s.mix, s.havePair, s.ice, s.shared = nil, nil, nil, false, nil, nil
		// Run once the ICE goroutine has stopped. Closing RTP waits for its
		// goroutines, whose callbacks take no lock of ours.
		return func() {
			closeICE(t)
			if rtp != nil {
				_ = rtp.Close()
			}
			if havePair {
				_ = pair.Close()
			}
			if shared != nil {
				s.plugin.engine.releaseShared(shared)
			}
			if input != nil {
				_ = input.Close()
			}
			if port != nil {
				port.close() // the codec's states: a module keeps running streams' until here
			}
			if mix != nil {
				s.plugin.engine.releaseVoice()
			}
			s.plugin.leave()
		}
	})
}

// Attributes returns the hold flags and the audio attributes.
func (s *stream) Attributes(context.Context) (*sdk.Attributes, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	own := sdkaudio.Attributes{Direction: s.hold.Direction(), InputFile: s.inputFile}
	if s.local.addr.IsValid() {
		own.LocalRTPAddress, own.LocalRTPPort = s.local.addr.String(), s.local.rtpPort
	}
	if s.port != nil && s.neg.codec != nil {
		info := s.port.codecInfo()
		own.Codec, own.SampleRate = info.Name, info.SampleRate
		if m, ok := s.neg.codec.(*module.Module); ok {
			own.CodecModule, own.CodecVersion = m.Name(), m.Description().Version
		}
	}
	if s.neg.srtp != nil {
		own.SRTPActive = true
		own.Encryption = sdkaudio.Encryption{Type: "SRTP/SDES", Active: true, Cipher: string(s.neg.srtp.suite)}
	}
	if s.neg.remoteRTP != nil {
		own.RemoteRTPAddress, own.RemoteRTPPort = s.neg.remoteRTP.IP.String(), s.neg.remoteRTP.Port
		own.RemoteRTPAddressSDP = s.neg.remoteRTP.String()
	}
	if s.rtp != nil {
		st := s.rtp.Stats()
		if st.RemoteRTPReceived != nil {
			own.RemoteRTPAddressReceived = st.RemoteRTPReceived.String()
		}
		own.Statistics = s.statisticsLocked()
	}
	if s.recorder != nil {
		own.RecordingFilename = s.recorder.path
	}
	if s.mix != nil && s.port != nil && s.activeLocked() {
		var in mixer.Port = s.mix.Device()
		if s.input != nil {
			in = s.input
		}
		own.SignalLevel[0], _ = s.mix.Level(in)
		own.SignalLevel[1], _ = s.mix.Level(s.port)
	}
	if s.iceActive && s.ice != nil {
		own.ICEActive = true
		var remote *net.UDPAddr
		own.LocalRTPCandidateType, own.RemoteRTPCandidateType, remote = selectedTypes(s.ice)
		if remote != nil {
			own.RemoteRTPAddress, own.RemoteRTPPort = remote.IP.String(), remote.Port
		}
	}
	return s.hold.Attributes(own)
}

// statisticsLocked gathers the RTP, RTCP and jitter buffer figures.
func (s *stream) statisticsLocked() sdkaudio.Statistics {
	var out sdkaudio.Statistics
	if s.rtp == nil {
		return out
	}
	st := s.rtp.Stats()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	out.RTT.LastMillis = ms(st.RTT)
	out.RX = sdkaudio.RXStatistics{
		Packets:      st.PacketsReceived,
		Bytes:        st.BytesReceived,
		PacketsLost:  st.Lost,
		LossRate:     st.FractionLost,
		JitterMillis: ms(st.Jitter),
		SRTPFailures: st.SRTPFailures,
		Dropped:      st.Dropped,
	}
	out.TX = sdkaudio.TXStatistics{
		Packets:      st.PacketsSent,
		Bytes:        st.BytesSent,
		PacketsLost:  st.RemoteLost,
		LossRate:     st.RemoteFractionLost,
		JitterMillis: ms(st.RemoteJitter),
	}
	out.RTCPSent, out.RTCPReceived = st.RTCPSent, st.RTCPReceived
	if s.port != nil {
		out.RX.DTMFDigits = s.port.digits.Load()
		out.RX.Played = s.port.played.Load()
		out.RX.Concealed = s.port.concealed.Load()
		out.Ticks = s.port.ticks.Load()
	}
	return out
}
