package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
)

// Defaults of [ManagerConfig]'s timing fields.
const (
	DefaultRequestTimeout    = 32 * time.Second // RFC 3261 Timer F (64*T1)
	DefaultUnregisterTimeout = 5 * time.Second
	DefaultBackoffInitial    = time.Second
	DefaultBackoffMax        = 5 * time.Minute
)

// ManagerConfig configures a [Manager]. Engine is required; the timing
// fields default when zero.
type ManagerConfig struct {
	// Engine sends the REGISTERs and gives the contact addresses. It must
	// be started before [Manager.Start].
	Engine *engine.Engine
	// Center receives the notifications; nil posts none.
	Center *notify.Center
	// Logger receives the package's logs; nil discards them.
	Logger *slog.Logger

	// RequestTimeout bounds one REGISTER transaction (per route): a
	// registrar that does not answer within it counts as a 408 failure.
	// DefaultRequestTimeout when zero. sipgo's own timers are not
	// touched.
	RequestTimeout time.Duration
	// UnregisterTimeout bounds the unregistration on [Manager.Stop].
	// DefaultUnregisterTimeout when zero.
	UnregisterTimeout time.Duration
	// BackoffInitial is the first delay after a failed registration; it
	// doubles after each further failure up to BackoffMax.
	// DefaultBackoffInitial and DefaultBackoffMax when zero.
	BackoffInitial, BackoffMax time.Duration
}

func (c ManagerConfig) withDefaults() ManagerConfig {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.UnregisterTimeout <= 0 {
		c.UnregisterTimeout = DefaultUnregisterTimeout
	}
	if c.BackoffInitial <= 0 {
		c.BackoffInitial = DefaultBackoffInitial
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.BackoffMax < c.BackoffInitial {
		c.BackoffMax = c.BackoffInitial
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Manager is the reference's AccountManager: it holds the loaded
// accounts, activates the enabled ones on [Manager.Start] (which starts
// their registrations) and deactivates them on [Manager.Stop], and routes
// incoming requests to an account with [Manager.FindAccount]. It is safe
// for concurrent use.
type Manager struct {
	cfg ManagerConfig
	log *slog.Logger

	mu        sync.Mutex
	loaded    bool
	started   bool
	accounts  []*Account          // load order
	byID      map[string]*Account // guarded by mu
	defaultID string
}

// NewManager returns a manager with no accounts; [Manager.Load] them.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Engine == nil {
		return nil, errors.New("account: ManagerConfig.Engine is nil")
	}
	cfg = cfg.withDefaults()
	return &Manager{
		cfg:  cfg,
		log:  cfg.Logger.With("component", "account"),
		byID: make(map[string]*Account),
	}, nil
}

// Load loads the accounts, once: each must validate and IDs must be
// unique, or nothing is loaded and the errors are returned joined. The
// peer-to-peer account is added with [config.PeerToPeerAccount]'s
// settings when accounts lack it, as the configuration document does.
// global (nil means [config.Default]) names the default account.
// SIPAccountManagerDidAddAccount is posted for each account.
func (m *Manager) Load(accounts []config.Account, global *config.Settings) error {
	var errs []error
	seen := make(map[string]bool)
	list := make([]config.Account, 0, len(accounts)+1)
	for _, a := range accounts {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[a.ID] {
			errs = append(errs, fmt.Errorf("account: %q is loaded twice", a.ID))
			continue
		}
		seen[a.ID] = true
		list = append(list, a.Clone())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !seen[config.PeerToPeerAccountID] {
		list = append(list, config.PeerToPeerAccount())
	}
	if global == nil {
		d := config.Default()
		global = &d
	}

	m.mu.Lock()
	if m.loaded {
		m.mu.Unlock()
		return ErrLoaded
	}
	m.loaded = true
	m.defaultID = global.DefaultAccount
	added := make([]*Account, 0, len(list))
	for _, c := range list {
		a := newAccount(m, c)
		m.accounts = append(m.accounts, a)
		m.byID[a.ID()] = a
		added = append(added, a)
	}
	m.mu.Unlock()
	for _, a := range added {
		m.post(SIPAccountManagerDidAddAccount, m, DidAddAccountData{Account: a})
	}
	return nil
}

// Start activates every enabled account: registering accounts start
// their registration loop. It posts SIPAccountManagerWillStart and
// DidStart around the accounts' activation. It returns [ErrNotLoaded]
// before [Manager.Load]; on a started manager it does nothing.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if !m.loaded {
		m.mu.Unlock()
		return ErrNotLoaded
	}
	if m.started {
		m.mu.Unlock()
		return nil
	}
	m.started = true
	accounts := append([]*Account(nil), m.accounts...)
	m.mu.Unlock()

	p2p := false
	for _, a := range accounts {
		p2p = p2p || (a.IsPeerToPeer() && a.Enabled())
	}
	m.post(SIPAccountManagerWillStart, m, ManagerWillStartData{PeerToPeerAvailable: p2p, Accounts: accounts})
	for _, a := range accounts {
		if a.Enabled() {
			a.activate(ctx)
		}
	}
	m.post(SIPAccountManagerDidStart, m, nil)
	return nil
}

// Stop deactivates every active account, concurrently: each registered
// account unregisters (REGISTER with Expires: 0) and Stop waits for the
// answers, each bounded by [ManagerConfig.UnregisterTimeout]. If ctx ends
// first Stop returns ctx.Err() while the unregistrations finish in the
// background. It posts SIPAccountManagerWillEnd and DidEnd; on a manager
// that is not started it does nothing.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	if !m.started {
		m.mu.Unlock()
		return nil
	}
	m.started = false
	accounts := append([]*Account(nil), m.accounts...)
	m.mu.Unlock()

	m.post(SIPAccountManagerWillEnd, m, nil)
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	for i, a := range accounts {
		wg.Go(func() { errs[i] = a.deactivate(ctx) })
	}
	wg.Wait()
	m.post(SIPAccountManagerDidEnd, m, nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// Accounts returns the loaded accounts in load order.
func (m *Manager) Accounts() []*Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Account(nil), m.accounts...)
}

// Get returns the account with the given ID, or [ErrNotFound].
func (m *Manager) Get(id string) (*Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.byID[id]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
}

// Default returns the default account: the one the settings'
// default_account names if it is loaded and enabled, else the first
// enabled account in load order, else nil.
func (m *Manager) Default() *Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.byID[m.defaultID]; ok && a.Enabled() {
		return a
	}
	for _, a := range m.accounts {
		if a.Enabled() {
			return a
		}
	}
	return nil
}

// FindAccount returns the account an incoming request for requestURI is
// for, nil if none, by the reference's rules (§6.4): first an enabled
// account whose contact username equals the Request-URI's user, or whose
// ID (user@domain) equals the Request-URI's user@host; then an enabled
// account whose ID has the Request-URI's user; then the peer-to-peer
// account if it is enabled. Hosts compare case-insensitively, users
// exactly.
func (m *Manager) FindAccount(requestURI sip.Uri) *Account {
	accounts := m.Accounts()
	user, host := requestURI.User, requestURI.Host
	for _, a := range accounts {
		if !a.Enabled() {
			continue
		}
		au, ad := a.userDomain()
		if user != "" && user == a.contactUser {
			return a
		}
		if user == au && strings.EqualFold(host, ad) {
			return a
		}
	}
	for _, a := range accounts {
		if !a.Enabled() || a.IsPeerToPeer() {
			continue
		}
		if au, _ := a.userDomain(); user != "" && user == au {
			return a
		}
	}
	for _, a := range accounts {
		if a.Enabled() && a.IsPeerToPeer() {
			return a
		}
	}
	return nil
}

// post posts a notification if there is a center.
func (m *Manager) post(name string, sender, data any) {
	if m.cfg.Center != nil {
		m.cfg.Center.Post(notify.Notification{Name: name, Sender: sender, Data: data})
	}
}
