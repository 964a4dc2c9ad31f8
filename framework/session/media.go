package session

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// rpcTimeout bounds one call into a stream plugin made by the loop (a
// hung plugin is caught by the registry's health check well before);
// abortRPCTimeout bounds those of a session aborted by its manager.
const (
	rpcTimeout      = 10 * time.Second
	abortRPCTimeout = time.Second
)

// rpc is the context of one call into a stream plugin. It outlives the
// manager's life so that a session ending at Close still ends its streams.
func (s *Session) rpc() (context.Context, context.CancelFunc) {
	limit := rpcTimeout
	if s.rpcLimit > 0 {
		limit = s.rpcLimit
	}
	return context.WithTimeout(context.WithoutCancel(s.m.life), limit)
}

// streamFailure is why one stream did not initialize or start.
type streamFailure struct {
	Stream Stream
	Reason string
}

func (f streamFailure) String() string { return fmt.Sprintf("%s: %s", f.Stream.Type(), f.Reason) }

func failureList(fs []streamFailure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

func streamsOf(fs []streamFailure) []Stream {
	out := make([]Stream, len(fs))
	for i, f := range fs {
		out[i] = f.Stream
	}
	return out
}

// observe makes the session the owner of st's events: each one becomes a
// message to the loop.
func (s *Session) observe(streams ...Stream) {
	for _, st := range streams {
		st.Observe(func(e sdk.StreamEvent) {
			s.q.push(func() { s.streamEvent(st, e) })
		})
	}
}

// streamWait waits, on the loop, for each stream's first outcome: the
// notification ok or the notification bad.
type streamWait struct {
	ok, bad string
	pending map[Stream]bool
	failed  []streamFailure
	timer   *time.Timer
	done    func(failed []streamFailure)
}

// waitStreams calls done once every stream posted ok or bad, or after
// timeout (the streams still pending fail with timeoutReason). Streams
// whose call failed are given to fail before the wait starts counting.
func (s *Session) waitStreams(streams []Stream, ok, bad string, timeout time.Duration, timeoutReason string, done func([]streamFailure)) *streamWait {
	w := &streamWait{ok: ok, bad: bad, pending: map[Stream]bool{}, done: done}
	for _, st := range streams {
		w.pending[st] = true
	}
	s.waits = append(s.waits, w)
	w.timer = s.after(timeout, func() {
		if !s.waiting(w) {
			return
		}
		for st := range w.pending {
			w.failed = append(w.failed, streamFailure{st, timeoutReason})
		}
		clear(w.pending)
		s.finishWait(w)
	})
	return w
}

func (s *Session) waiting(w *streamWait) bool {
	for _, x := range s.waits {
		if x == w {
			return true
		}
	}
	return false
}

// settle records st's outcome in w (reason "" for success) and finishes w
// when nothing is pending any more.
func (s *Session) settle(w *streamWait, st Stream, reason string, failed bool) {
	if !w.pending[st] {
		return
	}
	delete(w.pending, st)
	if failed {
		w.failed = append(w.failed, streamFailure{st, reason})
	}
	if len(w.pending) == 0 {
		s.finishWait(w)
	}
}

func (s *Session) finishWait(w *streamWait) {
	s.stopTimer(w.timer)
	for i, x := range s.waits {
		if x == w {
			s.waits = append(s.waits[:i], s.waits[i+1:]...)
			break
		}
	}
	w.done(w.failed)
}

// streamEvent handles one of a stream's own events on the loop: the
// outcome a wait expects, or the failure of a stream of the session.
func (s *Session) streamEvent(st Stream, e sdk.StreamEvent) {
	for _, w := range s.waits {
		if !w.pending[st] {
			continue
		}
		switch e.Name {
		case w.ok:
			s.settle(w, st, "", false)
			return
		case w.bad:
			s.settle(w, st, e.Reason(), true)
			return
		}
	}
	if e.Name != sdk.MediaStreamDidFail || !s.knows(st) {
		return
	}
	reason := fmt.Sprintf("%s media stream failed: %s", st.Type(), e.Reason())
	s.failures[st] = reason
	s.streamFailed(st, reason)
}

// streamFailed acts on the failure of a stream of the session, as the
// reference does (§2.5): once nothing else is in progress, the session
// ends when it was its only stream, else the stream is removed by
// re-INVITE. A failure while the session starts or negotiates waits for
// that to finish; a stream no longer active by then is left alone.
func (s *Session) streamFailed(st Stream, reason string) {
	if s.busy() {
		s.later(func() { s.streamFailed(st, reason) })
		return
	}
	if !s.active(st) || s.state != StateConnected {
		return
	}
	s.m.log.Info("stream failed", "session", s.callID, "reason", reason)
	if len(s.streams) > 1 {
		s.removeStreams([]Stream{st})
		return
	}
	s.endLocal(reason)
}

// knows tells whether st is an active or proposed stream of the session.
func (s *Session) knows(st Stream) bool {
	return s.active(st) || contains(s.proposed, st)
}

func (s *Session) active(st Stream) bool { return contains(s.streams, st) }

func contains(list []Stream, st Stream) bool {
	for _, x := range list {
		if x == st {
			return true
		}
	}
	return false
}

// initialize initializes streams for direction dir and calls done with
// those that did, and the failures. Streams prepared by a fused
// Create/NewFromSDP are not called again.
func (s *Session) initialize(streams []Stream, dir Direction, done func(ok []Stream, failed []streamFailure)) {
	var todo, ok []Stream
	var failed []streamFailure
	for _, st := range streams {
		if p := st.Prepared(); p.Done() {
			if p.Initialized {
				ok = append(ok, st)
			} else {
				failed = append(failed, streamFailure{st, p.InitError})
			}
			continue
		}
		todo = append(todo, st)
	}
	if len(todo) == 0 {
		done(ok, failed)
		return
	}
	info := s.info()
	w := s.waitStreams(todo, sdk.MediaStreamDidInitialize, sdk.MediaStreamDidNotInitialize, MediaStreamTimeout, "timed out", func(f []streamFailure) {
		bad := setOf(streamsOf(f))
		for _, st := range todo {
			if !bad[st] {
				ok = append(ok, st)
			}
		}
		done(ok, append(failed, f...))
	})
	for _, st := range todo {
		ctx, cancel := s.rpc()
		err := st.Initialize(ctx, &sdk.InitializeRequest{Session: info, Direction: string(dir)})
		cancel()
		if err != nil {
			s.settle(w, st, sdk.ReasonOf(err), true)
		}
	}
}

// start starts streams with the negotiated descriptions and calls done
// with those that failed (MediaStreamDidFail, a refused call, a stream
// that failed before, or no outcome within MediaStreamTimeout).
func (s *Session) start(streams []Stream, local, remote string, done func(failed []streamFailure)) {
	if len(streams) == 0 {
		done(nil)
		return
	}
	w := s.waitStreams(streams, sdk.MediaStreamDidStart, sdk.MediaStreamDidFail, MediaStreamTimeout, "media stream timed-out while starting", done)
	info := s.info()
	for _, st := range streams {
		if reason, failed := s.failures[st]; failed {
			s.settle(w, st, reason, true)
			continue
		}
		ctx, cancel := s.rpc()
		err := st.Start(ctx, &sdk.StartRequest{LocalSDP: local, RemoteSDP: remote, StreamIndex: s.index[st], Session: info})
		cancel()
		if err != nil {
			s.settle(w, st, sdk.ReasonOf(err), true)
		}
	}
}

// deactivate deactivates streams (the first phase of their end).
func (s *Session) deactivate(streams []Stream) {
	for _, st := range streams {
		ctx, cancel := s.rpc()
		_ = st.Deactivate(ctx)
		cancel()
	}
}

// end deactivates then ends streams; they post MediaStreamDidEnd when
// done. The session stops observing them. A single stream whose plugin
// does both in one call (sdk.DeactivateEnder: contract 1.3) gets one call;
// several are all deactivated before any ends, as the reference does.
func (s *Session) end(streams []Stream) {
	if len(streams) == 1 {
		if de, ok := streams[0].(sdk.DeactivateEnder); ok {
			st := streams[0]
			ctx, cancel := s.rpc()
			_ = de.DeactivateAndEnd(ctx)
			cancel()
			s.forget(st)
			return
		}
	}
	s.deactivate(streams)
	s.endDeactivated(streams)
}

// endDeactivated ends streams that were deactivated already (a BYE's
// streams, deactivated before it was sent or answered): one call each
// into the plugin instead of two.
func (s *Session) endDeactivated(streams []Stream) {
	for _, st := range streams {
		ctx, cancel := s.rpc()
		_ = st.End(ctx)
		cancel()
		s.forget(st)
	}
}

// forget stops observing an ended stream and drops what the session kept
// about it.
func (s *Session) forget(st Stream) {
	st.Observe(nil)
	delete(s.failures, st)
	delete(s.index, st)
}

// update applies negotiated SDP to every active stream.
func (s *Session) update(local, remote string) {
	for _, st := range s.streams {
		ctx, cancel := s.rpc()
		err := st.Update(ctx, &sdk.UpdateRequest{LocalSDP: local, RemoteSDP: remote, StreamIndex: s.index[st]})
		cancel()
		if err != nil {
			s.m.log.Warn("stream update failed", "type", st.Type(), "error", err)
		}
	}
}

// holdFlags returns, per hold-capable stream, whether it is held by the
// local (local=true) or the remote party.
func (s *Session) holdFlags(local bool) map[Stream]bool {
	out := map[Stream]bool{}
	for _, st := range s.streams {
		if !st.HoldSupported() {
			continue
		}
		ctx, cancel := s.rpc()
		a, err := st.Attributes(ctx)
		cancel()
		if err != nil {
			continue
		}
		if local {
			out[st] = a.OnHoldByLocal
		} else {
			out[st] = a.OnHoldByRemote
		}
	}
	return out
}

// partial is true when some but not all hold-capable streams are held.
func partial(flags map[Stream]bool) bool {
	held := 0
	for _, h := range flags {
		if h {
			held++
		}
	}
	return held > 0 && held < len(flags)
}

// holdChange tells whether the set of held streams changed, and whether
// any is held now.
func holdChange(before, after map[Stream]bool) (changed, anyHeld bool) {
	for st, h := range after {
		if h {
			anyHeld = true
		}
		if before[st] != h {
			changed = true
		}
	}
	return changed, anyHeld
}

func setOf(streams []Stream) map[Stream]bool {
	m := make(map[Stream]bool, len(streams))
	for _, s := range streams {
		m[s] = true
	}
	return m
}

func without(list, drop []Stream) []Stream {
	d := setOf(drop)
	out := list[:0:0]
	for _, st := range list {
		if !d[st] {
			out = append(out, st)
		}
	}
	return out
}
