package conference

// Clone returns a deep copy of i: changing the copy leaves i alone.
func (i *Info) Clone() *Info {
	if i == nil {
		return nil
	}
	c := *i
	if d := i.Description; d != nil {
		dc := *d
		dc.Keywords = cloneSlice(d.Keywords)
		dc.ConfURIs = cloneSlice(d.ConfURIs)
		dc.ServiceURIs = cloneSlice(d.ServiceURIs)
		dc.MaximumUserCount = clonePtr(d.MaximumUserCount)
		dc.AvailableMedia = cloneSlice(d.AvailableMedia)
		c.Description = &dc
	}
	if s := i.ConferenceState; s != nil {
		c.ConferenceState = &ConferenceState{
			UserCount: clonePtr(s.UserCount),
			Active:    clonePtr(s.Active),
			Locked:    clonePtr(s.Locked),
		}
	}
	if i.Users != nil {
		c.Users = make([]User, len(i.Users))
		for n, u := range i.Users {
			c.Users[n] = u.clone()
		}
	}
	return &c
}

func (u User) clone() User {
	u.Roles = cloneSlice(u.Roles)
	u.Languages = cloneSlice(u.Languages)
	if u.Endpoints != nil {
		eps := make([]Endpoint, len(u.Endpoints))
		for n, e := range u.Endpoints {
			e.Referred = clonePtr(e.Referred)
			e.JoiningInfo = clonePtr(e.JoiningInfo)
			e.DisconnectionInfo = clonePtr(e.DisconnectionInfo)
			e.CallInfo = clonePtr(e.CallInfo)
			e.Media = cloneSlice(e.Media)
			eps[n] = e
		}
		u.Endpoints = eps
	}
	return u
}

// cloneSlice copies s, keeping nil nil and empty empty.
func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
