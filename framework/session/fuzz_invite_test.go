package session

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

// Fakes for FuzzIncomingInvite only: the fuzzer feeds thousands of inputs
// per second, which real sockets and plugin processes cannot take. The real
// paths are covered by the two-host and sipp tests.

type recordingSignalling struct {
	mu    sync.Mutex
	codes []int
}

func (r *recordingSignalling) Request(context.Context, *sip.Request, engine.Route) (sip.ClientTransaction, error) {
	return nil, errors.New("fuzz: no network")
}
func (r *recordingSignalling) Write(*sip.Request, engine.Route) error { return nil }
func (r *recordingSignalling) Respond(_ sip.ServerTransaction, _ *sip.Request, code int, _ string, _ []byte, _ ...sip.Header) error {
	r.mu.Lock()
	r.codes = append(r.codes, code)
	r.mu.Unlock()
	return nil
}
func (r *recordingSignalling) ContactFor(engine.Route, string) sip.Uri           { return sip.Uri{} }
func (r *recordingSignalling) OnRequest(sip.RequestMethod, sipgo.RequestHandler) {}
func (r *recordingSignalling) LocalTag(*sip.Request) string                      { return "fuzztag" }
func (r *recordingSignalling) finals() (n int, last int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.codes {
		if c >= 200 {
			n++
			last = c
		}
	}
	return n, last
}

// refusingStreams claims no m-line, as a registry without a matching plugin.
type refusingStreams struct{}

func (refusingStreams) NewFromSDP(_ context.Context, req *sdk.NewFromSDPRequest) (Stream, error) {
	if _, _, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex); err != nil {
		return nil, err
	}
	return nil, sdk.Errorf(sdk.ErrUnknownStream, "fuzz")
}

type fakeServerTx struct {
	done chan struct{}
	acks chan *sip.Request
}

func (f *fakeServerTx) Terminate()                         {}
func (f *fakeServerTx) OnTerminate(sip.FnTxTerminate) bool { return true }
func (f *fakeServerTx) Done() <-chan struct{}              { return f.done }
func (f *fakeServerTx) Err() error                         { return nil }
func (f *fakeServerTx) Respond(*sip.Response) error        { return nil }
func (f *fakeServerTx) Acks() <-chan *sip.Request          { return f.acks }
func (f *fakeServerTx) OnCancel(sip.FnTxCancel) bool       { return true }

// FuzzIncomingInvite feeds arbitrary bytes through sipgo's parser to the
// manager's INVITE handler: it must never panic, and every INVITE it
// handles gets exactly one final response (400/480/481/482/488 here, since
// no stream accepts and no dialog exists; 486 from the application for an
// INVITE without SDP, which it is offered).
func FuzzIncomingInvite(f *testing.F) {
	base := "INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n"
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	withBody := func(h, b string) string {
		return h + "Content-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b
	}
	f.Add(withBody(base, body))
	f.Add(withBody(base, "v=0\r\nthis is not sdp\r\n"))
	f.Add(withBody(base, ""))
	f.Add(withBody(base[:len(base)-len("To: <sip:bob@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n")]+
		"To: <sip:bob@127.0.0.1>;tag=b1\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\n", body))
	f.Fuzz(func(t *testing.T, raw string) {
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.Method != sip.INVITE {
			return
		}
		sig := &recordingSignalling{}
		center := notify.New()
		defer center.Close()
		m := NewManager(Config{Signalling: sig, Streams: refusingStreams{}, Center: center,
			Account: &Account{ID: "bob@127.0.0.1", URI: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}}})
		defer m.Close(context.Background())
		// The application refuses what it is offered.
		defer center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
			go func() { _ = n.Sender.(*Session).Reject(486, "") }()
		}), SIPSessionNewIncoming, nil)()
		acks := make(chan *sip.Request)
		close(acks) // the ACK of a refusal comes at once
		tx := &fakeServerTx{done: make(chan struct{}), acks: acks}
		m.onInvite(req, tx)
		if n, code := sig.finals(); n != 1 {
			t.Fatalf("%d final responses (last %d) to:\n%s", n, code, raw)
		}
	})
}
