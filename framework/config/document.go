package config

// Document is everything a storage keeps: the global settings and the
// accounts, in their configured order. Its zero value has zero settings;
// start from [NewDocument].
type Document struct {
	Settings Settings
	// Accounts are the configured accounts. The peer-to-peer account may
	// appear here (with ID [PeerToPeerAccountID]) to persist its
	// changeable settings; when it does not, [PeerToPeerAccount] applies.
	Accounts []Account
}

// NewDocument returns a document with [Default] settings and no accounts.
func NewDocument() *Document {
	return &Document{Settings: Default()}
}

// Clone returns a deep copy of d.
func (d *Document) Clone() *Document {
	c := &Document{Settings: d.Settings.Clone()}
	if d.Accounts != nil {
		c.Accounts = make([]Account, len(d.Accounts))
		for i := range d.Accounts {
			c.Accounts[i] = d.Accounts[i].Clone()
		}
	}
	return c
}

// Account returns a copy of the account with the given ID. The
// peer-to-peer account is always found: when the document does not list
// it, Account returns [PeerToPeerAccount].
func (d *Document) Account(id string) (Account, bool) {
	for i := range d.Accounts {
		if d.Accounts[i].ID == id {
			return d.Accounts[i].Clone(), true
		}
	}
	if id == PeerToPeerAccountID {
		return PeerToPeerAccount(), true
	}
	return Account{}, false
}

// Validate checks the settings and every account, that no two accounts
// share an ID, and that settings.default_account names an account (the
// peer-to-peer account always exists). It returns nil or the
// *SettingErrors found, joined with errors.Join.
func (d *Document) Validate() error {
	var c checker
	d.Settings.validate(&c)
	seen := make(map[string]bool, len(d.Accounts))
	for i := range d.Accounts {
		a := &d.Accounts[i]
		ac := checker{account: a.ID}
		a.validate(&ac)
		if seen[a.ID] {
			ac.add("id", a.ID, "another account has the same ID")
		}
		seen[a.ID] = true
		c.errs = append(c.errs, ac.errs...)
	}
	if id := d.Settings.DefaultAccount; id != "" && id != PeerToPeerAccountID && !seen[id] && checkAccountID(id) == nil {
		c.add("default_account", id, "no account has this ID")
	}
	return c.err()
}
