package msrpstream

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// refusingPeer listens for one connection, stops listening, and answers
// its binding SEND with 481: the peer that refuses our session and goes
// away, so that our retry finds its port closed. It returns the a=path
// URI to put in an answer.
func refusingPeer(t *testing.T) msrp.URI {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(waitLimit))
		m, err := msrp.NewReader(nc).ReadMessage(1 << 16)
		if err != nil {
			t.Errorf("reading the binding SEND: %v", err)
			return
		}
		fmt.Fprintf(nc, "MSRP %s 481 No Such Session\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n",
			m.TransactionID, strings.Fields(m.Header(msrp.HeaderFromPath))[0], strings.Fields(m.Header(msrp.HeaderToPath))[0], m.TransactionID)
		// Hold the connection until the stream gives up on it.
		_, _ = nc.Read(make([]byte, 1))
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	return msrp.URI{Host: "127.0.0.1", Port: port, SessionID: "refuses", Transport: "tcp"}
}

// TestBindRefusedIsReported: a peer that answers our binding with 481 and
// then closes its port fails the stream with a reason that names the 481,
// not the "connection refused" of the retry that followed.
func TestBindRefusedIsReported(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder()
	b := New(newEnv(rec), account(map[string]string{SettingTransport: "tcp"}), quietConfig(Config{AcceptTypes: []string{"text/plain"}}))
	defer b.End(ctx)
	if err := b.Initialize(ctx, &sdk.InitializeRequest{Session: loopback, Direction: sdk.DirectionOutgoing}); err != nil {
		t.Fatal(err)
	}
	offer := mustLocalMedia(t, b, &sdk.GetLocalMediaRequest{ForOffer: true})
	peer := refusingPeer(t)
	answer := sessionHead + fmt.Sprintf("m=message %d TCP/MSRP *\r\na=path:%s\r\na=accept-types:text/plain\r\na=setup:passive\r\n", peer.Port, peer)
	if err := b.Start(ctx, &sdk.StartRequest{LocalSDP: offer, RemoteSDP: answer}); err != nil {
		t.Fatal(err)
	}
	d := data[sdk.DidFailData](t, rec.WaitFor(t, 0, sdk.MediaStreamDidFail))
	if d.Context != "start" || !strings.Contains(d.Reason, "refused the session binding: 481") || !strings.Contains(d.Reason, peer.Addr()) {
		t.Fatalf("MediaStreamDidFail %+v, want the peer's 481 named", d)
	}
}
