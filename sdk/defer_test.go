package sdk

import (
	"context"
	"sync/atomic"
	"testing"
)

// deferringStream is a fakeStream that asks not to be prepared by
// NewFromSDP, and counts its Initialize calls.
type deferringStream struct {
	fakeStream
	defers bool
	inits  *atomic.Int32
}

func (d *deferringStream) DeferPrepare() bool { return d.defers }

func (d *deferringStream) Initialize(context.Context, *InitializeRequest) error {
	d.inits.Add(1)
	d.env.Post(MediaStreamDidInitialize, nil)
	return nil
}

func (d *deferringStream) GetLocalMedia(context.Context, *GetLocalMediaRequest) (*GetLocalMediaResponse, error) {
	return &GetLocalMediaResponse{Media: "m=audio 5000 RTP/AVP 0\r\n"}, nil
}

// TestPrepareDeferred: a stream that implements PrepareDeferrer and says
// so is returned unprepared by a NewFromSDP asked to prepare it (the
// session initializes it when accepted), in-process and over gRPC; one
// that says no is prepared as any other; Create always prepares.
func TestPrepareDeferred(t *testing.T) {
	for _, defers := range []bool{true, false} {
		name := "prepared"
		if defers {
			name = "deferred"
		}
		t.Run(name, func(t *testing.T) {
			var inits atomic.Int32
			mk := func(t *testing.T) *LocalProvider {
				return newLocal(t, testPlugin(fakeType("audio", 1, "audio", &callLog{}, nil, nil)))
			}
			bothSides(t, func(t *testing.T) *LocalProvider {
				lp := mk(t)
				typ := &lp.plugin.Types[0]
				build := func(env *Env) (Stream, error) {
					return &deferringStream{fakeStream: fakeStream{env: env}, defers: defers, inits: &inits}, nil
				}
				typ.NewFromSDP = func(_ context.Context, _ *NewFromSDPRequest, env *Env) (Stream, error) { return build(env) }
				typ.Create = func(_ context.Context, _ *CreateRequest, env *Env) (Stream, error) { return build(env) }
				return lp
			}, func(t *testing.T, p Provider, _ *LocalProvider) {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				inits.Store(0)
				prep := &Prepare{Session: &SessionInfo{LocalIP: "127.0.0.1"}, Direction: DirectionIncoming, LocalMedia: true}
				o, err := p.NewFromSDP(ctx, &NewFromSDPRequest{RemoteSDP: audioOffer, Prepare: prep})
				if err != nil {
					t.Fatal(err)
				}
				if o.Prepared.Done() == defers || (inits.Load() == 0) != defers {
					t.Fatalf("NewFromSDP prepared %+v after %d Initialize calls; deferring %v", o.Prepared, inits.Load(), defers)
				}
				c, err := p.Create(ctx, &CreateRequest{Type: "audio", Prepare: prep})
				if err != nil {
					t.Fatal(err)
				}
				if !c.Prepared.Initialized || c.Prepared.Media == "" {
					t.Fatalf("Create prepared %+v", c.Prepared)
				}
			})
		})
	}
}
