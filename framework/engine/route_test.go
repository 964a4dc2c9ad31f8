package engine

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"
	"golang.org/x/net/dns/dnsmessage"
)

// rr is one record of the test zone.
type rr struct {
	typ    dnsmessage.Type
	ip     string // A, AAAA
	srv    net.SRV
	target string // SRV target
}

func a(ip string) rr    { return rr{typ: dnsmessage.TypeA, ip: ip} }
func aaaa(ip string) rr { return rr{typ: dnsmessage.TypeAAAA, ip: ip} }
func srv(prio, weight, port uint16, target string) rr {
	return rr{typ: dnsmessage.TypeSRV, srv: net.SRV{Priority: prio, Weight: weight, Port: port}, target: target}
}

// startDNS runs an authoritative DNS server for zone on 127.0.0.1 (UDP)
// until the test ends and returns a resolver that asks only it. Names in
// zone are fully qualified and lower case; a name not in zone is
// NXDOMAIN.
func startDNS(t *testing.T, zone map[string][]rr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if res, err := dnsAnswer(zone, buf[:n]); err == nil {
				_, _ = pc.WriteTo(res, from)
			} else {
				t.Errorf("DNS server: %v", err)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", server)
		},
	}
}

// dnsAnswer answers one query from zone.
func dnsAnswer(zone map[string][]rr, query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	records, known := zone[strings.ToLower(q.Name.String())]
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, Authoritative: true,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: rcode,
	})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	for _, r := range records {
		if r.typ != q.Type {
			continue
		}
		hdr := dnsmessage.ResourceHeader{Name: q.Name, Type: r.typ, Class: dnsmessage.ClassINET, TTL: 60}
		switch r.typ {
		case dnsmessage.TypeA:
			err = b.AResource(hdr, dnsmessage.AResource{A: [4]byte(net.ParseIP(r.ip).To4())})
		case dnsmessage.TypeAAAA:
			err = b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: [16]byte(net.ParseIP(r.ip).To16())})
		case dnsmessage.TypeSRV:
			err = b.SRVResource(hdr, dnsmessage.SRVResource{
				Priority: r.srv.Priority, Weight: r.srv.Weight, Port: r.srv.Port,
				Target: dnsmessage.MustNewName(r.target),
			})
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

func TestLookup(t *testing.T) {
	resolver := startDNS(t, map[string][]rr{
		"example.test.": {a("127.0.0.10")},
		"_sip._udp.example.test.": {
			srv(20, 0, 5090, "c.example.test."),
			srv(10, 10, 5070, "a.example.test."),
			srv(10, 60, 5080, "b.example.test."),
			srv(30, 0, 5091, "."),
		},
		"_sip._tcp.example.test.":  {srv(10, 0, 5071, "a.example.test.")},
		"_sips._tcp.example.test.": {srv(10, 0, 5072, "a.example.test.")},
		"a.example.test.":          {a("127.0.0.11")},
		"b.example.test.":          {a("127.0.0.12")},
		"c.example.test.":          {aaaa("::1")},
		"plain.test.":              {a("127.0.0.13")},
		"v6only.test.":             {aaaa("::1")},
		"_sip._udp.broken.test.":   {srv(10, 0, 5060, "nowhere.test.")},
		"broken.test.":             {a("127.0.0.14")},
	})
	cert := newTestCert(t)
	e := start(t, cert.withTLS(Config{
		Resolver: resolver,
		Listen: []Listen{
			{Transport: TransportUDP, Address: "127.0.0.1:0"},
			{Transport: TransportTCP, Address: "127.0.0.1:0"},
			{Transport: TransportTLS, Address: "127.0.0.1:0"},
			{Transport: TransportUDP, Address: "[::1]:0"},
		},
	}))
	udpOnly := start(t, Config{Resolver: resolver, Listen: []Listen{{Transport: TransportUDP, Address: "127.0.0.1:0"}}})

	tests := []struct {
		name       string
		engine     *Engine
		uri        string
		transports []Transport
		want       string // routes joined by " "
		wantErr    error
	}{
		{name: "IP", uri: "sip:bob@127.0.0.2", want: "udp:127.0.0.2:5060"},
		{name: "IP and port", uri: "sip:bob@127.0.0.2:5070", want: "udp:127.0.0.2:5070"},
		{name: "IP transport tcp", uri: "sip:bob@127.0.0.2;transport=tcp", want: "tcp:127.0.0.2:5060"},
		{name: "IP transport TLS upper case", uri: "sip:bob@127.0.0.2;transport=TLS", want: "tls:127.0.0.2:5061"},
		{name: "IP sips", uri: "sips:bob@127.0.0.2", want: "tls:127.0.0.2:5061"},
		{name: "IP sips tcp means TLS", uri: "sips:bob@127.0.0.2:5081;transport=tcp", want: "tls:127.0.0.2:5081"},
		{name: "IPv6", uri: "sip:bob@[::1]:5062", want: "udp:[::1]:5062"},
		{name: "IPv6 without a tcp6 listener", uri: "sip:bob@[::1];transport=tcp", wantErr: ErrUnsupportedTransport},
		{name: "IP unsupported transport", uri: "sip:bob@127.0.0.2;transport=sctp", wantErr: ErrUnsupportedTransport},
		{name: "sips over udp", uri: "sips:bob@127.0.0.2;transport=udp", wantErr: ErrUnsupportedTransport},
		{name: "IP tcp on a udp-only engine", engine: udpOnly, uri: "sip:bob@127.0.0.2;transport=tcp", wantErr: ErrUnsupportedTransport},
		{name: "IP, engine prefers udp", engine: udpOnly, uri: "sip:127.0.0.2", want: "udp:127.0.0.2:5060"},
		{
			name: "SRV for every transport",
			uri:  "sip:bob@example.test",
			want: "udp:127.0.0.12:5080 udp:127.0.0.11:5070 udp:[::1]:5090 tcp:127.0.0.11:5071 tls:127.0.0.11:5072",
		},
		{name: "SRV for the transport parameter", uri: "sip:bob@example.test;transport=tcp", want: "tcp:127.0.0.11:5071"},
		{name: "SRV for sips", uri: "sips:bob@example.test", want: "tls:127.0.0.11:5072"},
		{name: "SRV, allowed transports in order", uri: "sip:example.test", transports: []Transport{TransportTLS, "sctp", TransportTCP}, want: "tls:127.0.0.11:5072 tcp:127.0.0.11:5071"},
		{name: "SRV, udp-only engine", engine: udpOnly, uri: "sip:example.test", want: "udp:127.0.0.12:5080 udp:127.0.0.11:5070"},
		{name: "domain with port: A, not SRV", uri: "sip:bob@example.test:5099", want: "udp:127.0.0.10:5099"},
		{name: "domain with port and transport", uri: "sip:bob@example.test:5099;transport=tcp", want: "tcp:127.0.0.10:5099"},
		{name: "no SRV: A, default port", uri: "sip:bob@plain.test", want: "udp:127.0.0.13:5060"},
		{name: "no SRV: AAAA", uri: "sip:bob@v6only.test", want: "udp:[::1]:5060"},
		{name: "no SRV, sips: TLS", uri: "sips:bob@plain.test", want: "tls:127.0.0.13:5061"},
		{name: "no SRV, tcp", uri: "sip:bob@plain.test;transport=tcp", want: "tcp:127.0.0.13:5060"},
		{name: "only AAAA and no tcp6 listener", uri: "sip:v6only.test;transport=tcp", wantErr: ErrNoRoute},
		{name: "SRV target unresolvable: no A fallback", uri: "sip:broken.test", transports: []Transport{TransportUDP}, wantErr: ErrNoRoute},
		{name: "NXDOMAIN", uri: "sip:bob@missing.test", wantErr: ErrNoRoute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var uri sip.Uri
			if err := sip.ParseUri(tc.uri, &uri); err != nil {
				t.Fatal(err)
			}
			eng := tc.engine
			if eng == nil {
				eng = e
			}
			routes, err := eng.Lookup(ctxT(t), uri, tc.transports...)
			if tc.wantErr != nil {
				var nre *NoRouteError
				if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrNoRoute) || !errors.As(err, &nre) {
					t.Fatalf("Lookup = %v, %v; want a *NoRouteError matching %v", routes, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			var got []string
			for _, r := range routes {
				got = append(got, r.String())
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("Lookup = %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}

	t.Run("DNS error is wrapped", func(t *testing.T) {
		var uri sip.Uri
		if err := sip.ParseUri("sip:missing.test", &uri); err != nil {
			t.Fatal(err)
		}
		_, err := e.Lookup(ctxT(t), uri)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Fatalf("Lookup = %v, want a not-found *net.DNSError inside", err)
		}
	})

	t.Run("route host for TLS", func(t *testing.T) {
		var uri sip.Uri
		if err := sip.ParseUri("sips:example.test", &uri); err != nil {
			t.Fatal(err)
		}
		routes, err := e.Lookup(ctxT(t), uri)
		if err != nil || len(routes) != 1 || routes[0].Host != "example.test" {
			t.Fatalf("Lookup = %+v, %v; want Host example.test", routes, err)
		}
	})
}

// TestRequestByDomain sends through the sipgo client without a Route: the
// engine resolves the Request-URI's domain with SRV and sends over TCP.
func TestRequestByDomain(t *testing.T) {
	bob := start(t, Config{UserAgent: "bob"})
	br := routeTo(t, bob, TransportTCP, false)
	resolver := startDNS(t, map[string][]rr{
		"bob.test.":            {a("127.0.0.1")},
		"_sip._tcp.bob.test.":  {srv(10, 0, uint16(br.Port), "bob.test.")},
		"_sip._udp.bob.test.":  {},
		"_sips._tcp.bob.test.": {},
	})
	alice := start(t, Config{UserAgent: "alice", Resolver: resolver})
	var uri sip.Uri
	if err := sip.ParseUri("sip:bob@bob.test;transport=tcp", &uri); err != nil {
		t.Fatal(err)
	}
	res, err := alice.Client().Do(ctxT(t), sip.NewRequest(sip.OPTIONS, uri))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || header(res, "User-Agent") != "bob" {
		t.Fatalf("got %d (User-Agent %q), want 200 from bob", res.StatusCode, header(res, "User-Agent"))
	}
}

func TestRouteString(t *testing.T) {
	tests := []struct {
		r    Route
		want string
	}{
		{Route{Address: "1.2.3.4", Port: 5060, Transport: TransportTCP}, "tcp:1.2.3.4:5060"},
		{Route{Address: "::1", Port: 5061, Transport: TransportTLS}, "tls:[::1]:5061"},
	}
	for _, tc := range tests {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
