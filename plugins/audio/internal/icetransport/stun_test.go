package icetransport

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun"
)

// stunServer answers STUN Binding requests on 127.0.0.1 with the
// requester's address (RFC 5389 XOR-MAPPED-ADDRESS): enough of a STUN
// server for server-reflexive gathering on loopback. It counts requests.
type stunServer struct {
	conn     net.PacketConn
	mu       sync.Mutex
	requests int
	done     chan struct{}
}

func startSTUN(t *testing.T) *stunServer {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stunServer{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil || req.Type != stun.BindingRequest {
				continue
			}
			s.mu.Lock()
			s.requests++
			s.mu.Unlock()
			udp := from.(*net.UDPAddr)
			res, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
				&stun.XORMappedAddress{IP: udp.IP, Port: udp.Port}, stun.Fingerprint)
			if err == nil {
				_, _ = conn.WriteTo(res.Raw, from)
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

// TestServerReflexive: with a STUN server in the configuration, gathering
// asks it for our mapped address and offers a server-reflexive candidate
// beside the host ones.
func TestServerReflexive(t *testing.T) {
	srv := startSTUN(t)
	cfg := loopbackConfig(true, true)
	cfg.STUNServers = []string{"stun:" + srv.conn.LocalAddr().String()}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tr.Gather(ctx); err != nil {
		t.Fatal(err)
	}
	var types []string
	srflx := false
	for _, c := range tr.Candidates() {
		types = append(types, c.Type)
		srflx = srflx || c.Type == "srflx"
	}
	srv.mu.Lock()
	n := srv.requests
	srv.mu.Unlock()
	if n == 0 {
		t.Fatal("the STUN server got no Binding request")
	}
	if !srflx {
		t.Errorf("candidates %v: no server-reflexive one", types)
	}
}
