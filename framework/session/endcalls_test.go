package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// countingStream counts the Deactivate and End calls a session makes on a
// stream; ended is closed at the first End.
type countingStream struct {
	Stream
	mu          sync.Mutex
	deactivates int
	ends        int
	ended       chan struct{}
}

func counted(st Stream) *countingStream {
	return &countingStream{Stream: st, ended: make(chan struct{})}
}

func (c *countingStream) Deactivate(ctx context.Context) error {
	c.mu.Lock()
	c.deactivates++
	c.mu.Unlock()
	return c.Stream.Deactivate(ctx)
}

func (c *countingStream) End(ctx context.Context) error {
	c.mu.Lock()
	c.ends++
	if c.ends == 1 {
		close(c.ended)
	}
	c.mu.Unlock()
	return c.Stream.End(ctx)
}

func (c *countingStream) counts() (deactivates, ends int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deactivates, c.ends
}

// TestByeCallsEachStreamOnce: a session ended by a BYE, sent or received,
// deactivates each stream once and ends it once — the calls into the
// stream's plugin that every call costs at its end (it deactivated them
// twice: before the BYE and again in End).
func TestByeCallsEachStreamOnce(t *testing.T) {
	for _, ender := range []string{"caller", "callee"} {
		t.Run("ended by "+ender, func(t *testing.T) {
			var mu sync.Mutex
			var bobStreams []*countingStream
			a := newHost(t, "alice")
			b := newHostOn(t, "bob", udp4, func(c *Config) {
				src := c.Streams
				c.Streams = StreamSourceFunc(func(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error) {
					st, err := src.NewFromSDP(ctx, req)
					if err != nil {
						return nil, err
					}
					cs := counted(st)
					mu.Lock()
					bobStreams = append(bobStreams, cs)
					mu.Unlock()
					return cs, nil
				})
			})
			recA, recB := sessionRecorder(t, a), sessionRecorder(t, b)
			incoming := make(chan *Session, 1)
			var aliceStream *countingStream
			s := callWith(t, a, b, func(st Stream) Stream { aliceStream = counted(st); return aliceStream }, func(in *Session, streams []Stream) {
				if err := in.Accept(streams); err != nil {
					t.Errorf("Accept: %v", err)
				}
				incoming <- in
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			in := <-incoming
			waitFor(t, recA, SIPSessionDidStart)
			waitFor(t, recB, SIPSessionDidStart)
			if ender == "caller" {
				s.End()
			} else {
				in.End()
			}
			mu.Lock()
			streams := append([]*countingStream{aliceStream}, bobStreams...)
			mu.Unlock()
			if len(streams) != 2 {
				t.Fatalf("%d streams, want alice's and bob's", len(streams))
			}
			for i, cs := range streams {
				select {
				case <-cs.ended:
				case <-ctx.Done():
					t.Fatalf("stream %d never ended", i)
				}
				if d, e := cs.counts(); d != 1 || e != 1 {
					t.Errorf("%s's stream: %d Deactivate and %d End calls, want 1 and 1", []string{"alice", "bob"}[i], d, e)
				}
			}
		})
	}
}
