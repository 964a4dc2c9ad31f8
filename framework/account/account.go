package account

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
)

// Account is one loaded account: a SIP account (user@domain) that may
// register with its registrar, or the peer-to-peer account (the
// reference's BonjourAccount). Accounts are created by [Manager.Load];
// their settings do not change afterwards. An Account is safe for
// concurrent use.
type Account struct {
	m   *Manager
	cfg config.Account
	log *slog.Logger
	// contactUser is the user part of the account's contact URIs: random
	// letters drawn once, as the reference's ContactURIFactory does, so
	// that an incoming request to the contact finds its account.
	contactUser string

	// activation serialises activate and deactivate.
	activation sync.Mutex
	active     bool          // guarded by activation
	cancel     func()        // guarded by activation: stops the registration loop
	done       chan struct{} // guarded by activation: closed when the loop returns

	mu         sync.Mutex
	registered bool    // guarded by mu
	contact    sip.Uri // guarded by mu: the registered contact
}

func newAccount(m *Manager, c config.Account) *Account {
	return &Account{
		m:           m,
		cfg:         c,
		log:         m.log.With("account", c.ID),
		contactUser: randomUser(),
	}
}

// randomUser returns 8 random lower-case letters.
func randomUser() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

// ID returns the account's ID, user@domain ("bonjour@local" for the
// peer-to-peer account).
func (a *Account) ID() string { return a.cfg.ID }

// Config returns a copy of the account's settings.
func (a *Account) Config() config.Account { return a.cfg.Clone() }

// DisplayName returns the display name put in From headers.
func (a *Account) DisplayName() string { return a.cfg.DisplayName }

// Enabled reports whether the account is enabled.
func (a *Account) Enabled() bool { return a.cfg.Enabled }

// IsPeerToPeer reports whether a is the peer-to-peer account.
func (a *Account) IsPeerToPeer() bool { return a.cfg.IsPeerToPeer() }

// String returns the account's ID.
func (a *Account) String() string { return a.cfg.ID }

// userDomain splits the ID at its last "@".
func (a *Account) userDomain() (user, domain string) {
	i := strings.LastIndexByte(a.cfg.ID, '@')
	if i < 0 {
		return "", a.cfg.ID
	}
	return a.cfg.ID[:i], a.cfg.ID[i+1:]
}

// URI returns the account's address of record, sip:user@domain. For the
// peer-to-peer account it is sip:<contact user>@<local IP> with the IP
// address the engine listens on (the host's first global address for a
// listener on 0.0.0.0), as the reference's BonjourAccount.uri.
func (a *Account) URI() sip.Uri {
	if a.IsPeerToPeer() {
		host := "127.0.0.1"
		if c := a.Contact(); c.Host != "" {
			host = c.Host
		}
		return newURI(a.contactUser, host, 0)
	}
	user, domain := a.userDomain()
	host, port := domain, 0
	if u, err := parseHostURI(domain); err == nil {
		host, port = u.Host, u.Port
	}
	return newURI(user, host, port)
}

func newURI(user, host string, port int) sip.Uri {
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: port, UriParams: sip.NewParams(), Headers: sip.NewParams()}
}

// Registered reports whether the account's last registration or refresh
// succeeded and it has not unregistered since. Always false for the
// peer-to-peer account and for accounts that do not register.
func (a *Account) Registered() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.registered
}

// Contact returns the account's contact URI: the registered one while
// [Account.Registered], else one on the engine's listening address for
// the account's transport (sip.transport; TCP, UDP then TLS when unset).
// The zero Uri is returned when the engine listens on none of them (or is
// not started).
func (a *Account) Contact() sip.Uri {
	a.mu.Lock()
	if a.registered {
		c := a.contact
		a.mu.Unlock()
		return c
	}
	a.mu.Unlock()
	order := []engine.Transport{engine.TransportUDP, engine.TransportTCP, engine.TransportTLS}
	if a.IsPeerToPeer() {
		order = []engine.Transport{engine.TransportTCP, engine.TransportUDP, engine.TransportTLS}
	}
	if t := a.cfg.SIP.Transport; t != "" {
		order = append([]engine.Transport{engine.Transport(t)}, order...)
	}
	for _, t := range order {
		if c := a.m.cfg.Engine.Contact(t, a.contactUser); c.Host != "" {
			return c
		}
	}
	return sip.Uri{}
}

// registers reports whether the account runs a registration loop.
func (a *Account) registers() bool {
	return a.cfg.Enabled && a.cfg.SIP.Register && !a.IsPeerToPeer()
}

func (a *Account) setRegistered(ok bool, contact sip.Uri) {
	a.mu.Lock()
	a.registered, a.contact = ok, contact
	a.mu.Unlock()
}

// activate posts WillActivate, starts the registration loop if the
// account registers, and posts DidActivate.
func (a *Account) activate(context.Context) {
	a.activation.Lock()
	defer a.activation.Unlock()
	if a.active {
		return
	}
	a.active = true
	a.post(SIPAccountWillActivate, nil)
	if a.registers() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		a.cancel, a.done = cancel, done
		r := newRegistration(a)
		go func() {
			defer close(done)
			r.run(ctx)
		}()
	}
	a.post(SIPAccountDidActivate, nil)
}

// deactivate posts WillDeactivate, stops the registration loop (which
// unregisters) and waits for it or for ctx, and posts DidDeactivate.
func (a *Account) deactivate(ctx context.Context) error {
	a.activation.Lock()
	defer a.activation.Unlock()
	if !a.active {
		return nil
	}
	a.active = false
	a.post(SIPAccountWillDeactivate, nil)
	var err error
	if a.cancel != nil {
		a.cancel()
		select {
		case <-a.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		a.cancel, a.done = nil, nil
	}
	a.post(SIPAccountDidDeactivate, nil)
	return err
}

func (a *Account) post(name string, data any) {
	if c := a.m.cfg.Center; c != nil {
		c.Post(notify.Notification{Name: name, Sender: a, Data: data})
	}
}

// OutboundProxy returns the account's sip.outbound_proxy as a URI, and
// false when it has none.
func (a *Account) OutboundProxy() (sip.Uri, bool, error) {
	p := a.cfg.SIP.OutboundProxy
	if p == "" {
		return sip.Uri{}, false, nil
	}
	u, err := parseHostURI(p)
	return u, err == nil, err
}

// Credentials are the account's Digest credentials (auth.username, or
// the user part of the ID when it is empty, and auth.password).
func (a *Account) Credentials() engine.Credentials {
	username := a.cfg.Auth.Username
	if username == "" {
		username, _ = a.userDomain()
	}
	return engine.Credentials{Username: username, Password: a.cfg.Auth.Password}
}
