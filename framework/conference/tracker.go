package conference

import (
	"fmt"
	"slices"
)

// Tracker keeps the conference state a subscriber builds from the
// notifications of one subscription (RFC 4575 §4.6): a full document
// replaces the state, a partial one is merged into it, a deleted one ends
// it. Versions order them: an older or repeated version is refused with
// ErrOutdated, and a partial document that skips a version (or comes
// before any full one) with ErrVersionGap, after which the caller
// refreshes the subscription to get a full document. A deleted document
// ends the conference: Info reports StateDeleted, and only a full document
// starts it again. A document without a version is applied without
// ordering, and a full one leaves the state without a version until the
// next versioned document. A new subscription starts from Reset.
//
// Merging: a user is found by entity, an endpoint of a user by entity, a
// media of an endpoint by id. An element with state="deleted" is removed,
// one with state="full" replaces its match, and one with state="partial"
// or none (focuses leave it out in partial documents) is merged: each
// child element present replaces its counterpart, the lists of endpoints
// and media are merged by key, and absent children are kept. The
// description and conference-state are merged child by child; their lists
// (keywords, URIs, available media) and roles and languages are replaced
// whole when present.
//
// A Tracker is not safe for concurrent use; its owner (a session's event
// loop) serialises the calls.
type Tracker struct {
	limits Limits
	info   *Info
}

// NewTracker returns an empty tracker. WithLimits bounds the documents
// Update parses and the state Apply builds.
func NewTracker(opts ...Option) *Tracker {
	return &Tracker{limits: buildOptions(opts).limits}
}

// Reset forgets the state, for a new subscription.
func (t *Tracker) Reset() { t.info = nil }

// Info returns a copy of the state, with State full (or deleted when the
// conference was deleted) and no state attributes below it; nil before
// the first full document.
func (t *Tracker) Info() *Info {
	if t.info == nil {
		return nil
	}
	return t.info.Clone()
}

// Version returns the version of the state; ok is false when there is no
// state or it came without a version.
func (t *Tracker) Version() (v uint32, ok bool) {
	if t.info == nil || !t.info.HasVersion {
		return 0, false
	}
	return t.info.Version, true
}

// Update parses a NOTIFY body with the tracker's limits, applies it, and
// returns a copy of the new state.
func (t *Tracker) Update(body []byte) (*Info, error) {
	doc, err := Parse(body, WithLimits(t.limits))
	if err != nil {
		return nil, err
	}
	if err := t.Apply(doc); err != nil {
		return nil, err
	}
	return t.Info(), nil
}

// Apply applies a parsed document. On error the state is unchanged: a
// *VersionError wrapping ErrOutdated or ErrVersionGap, ErrEntityMismatch,
// or a *LimitError when the merged state would exceed the limits.
func (t *Tracker) Apply(doc *Info) error {
	if doc == nil {
		return fmt.Errorf("conference: %w: no document", ErrMalformed)
	}
	doc = doc.Clone() // the state never shares memory with the caller's document
	cur := t.info
	if doc.State == StatePartial || doc.State == StateDeleted {
		if cur == nil {
			if doc.State == StateDeleted {
				t.info = deletedInfo(doc)
				return nil
			}
			return &VersionError{Err: ErrVersionGap, Got: doc.Version, HaveNone: true}
		}
		if doc.Entity != cur.Entity {
			return ErrEntityMismatch
		}
		if doc.State == StatePartial && cur.State == StateDeleted {
			// Nothing to merge into: only a full document revives it.
			return &VersionError{Err: ErrVersionGap, Have: cur.Version, Got: doc.Version}
		}
	}
	if cur != nil && cur.HasVersion && doc.HasVersion {
		if doc.Version <= cur.Version {
			return &VersionError{Err: ErrOutdated, Have: cur.Version, Got: doc.Version}
		}
		if doc.State == StatePartial && uint64(doc.Version) > uint64(cur.Version)+1 {
			return &VersionError{Err: ErrVersionGap, Have: cur.Version, Got: doc.Version}
		}
	}
	var next *Info
	switch doc.State {
	case StateDeleted:
		next = deletedInfo(doc)
	case StatePartial:
		next = cur.Clone()
		merge(next, doc)
		if doc.HasVersion {
			next.Version, next.HasVersion = doc.Version, true
		}
	default:
		next = doc
		next.State = StateFull
		if next.UsersState != "" {
			next.UsersState = StateFull
		}
		next.Users = fullUsers(next.Users)
	}
	if err := t.checkLimits(next); err != nil {
		return err
	}
	t.info = next
	return nil
}

func deletedInfo(doc *Info) *Info {
	return &Info{Entity: doc.Entity, State: StateDeleted, Version: doc.Version, HasVersion: doc.HasVersion}
}

func (t *Tracker) checkLimits(i *Info) error {
	l := t.limits
	if len(i.Users) > l.MaxUsers {
		return &LimitError{Err: ErrTooManyUsers, Limit: l.MaxUsers, Got: len(i.Users)}
	}
	var endpoints, media int
	for _, u := range i.Users {
		endpoints += len(u.Endpoints)
		for _, e := range u.Endpoints {
			media += len(e.Media)
		}
	}
	if endpoints > l.MaxEndpoints {
		return &LimitError{Err: ErrTooManyEndpoints, Limit: l.MaxEndpoints, Got: endpoints}
	}
	if media > l.MaxMedia {
		return &LimitError{Err: ErrTooManyMedia, Limit: l.MaxMedia, Got: media}
	}
	return nil
}

// fullUsers returns the users of a full document as state: deleted ones
// (and deleted endpoints) dropped, state attributes cleared.
func fullUsers(users []User) []User {
	var out []User
	for _, u := range users {
		if u.State == StateDeleted {
			continue
		}
		out = append(out, fullUser(u))
	}
	return out
}

func fullUser(u User) User {
	u.State = ""
	var eps []Endpoint
	for _, e := range u.Endpoints {
		if e.State == StateDeleted {
			continue
		}
		e.State = ""
		eps = append(eps, e)
	}
	u.Endpoints = eps
	return u
}

// merge applies the partial document d to the state s (a private copy).
func merge(s, d *Info) {
	if d.Description != nil {
		if s.Description == nil {
			s.Description = &Description{}
		}
		mergeDescription(s.Description, d.Description)
	}
	if d.ConferenceState != nil {
		if s.ConferenceState == nil {
			s.ConferenceState = &ConferenceState{}
		}
		c, dc := s.ConferenceState, d.ConferenceState
		if dc.UserCount != nil {
			c.UserCount = dc.UserCount
		}
		if dc.Active != nil {
			c.Active = dc.Active
		}
		if dc.Locked != nil {
			c.Locked = dc.Locked
		}
	}
	switch d.UsersState {
	case "":
		return
	case StateFull:
		s.Users = fullUsers(d.Users)
	case StateDeleted:
		s.Users = nil
	default:
		for _, du := range d.Users {
			i := slices.IndexFunc(s.Users, func(u User) bool { return u.Entity == du.Entity })
			switch {
			case du.State == StateDeleted:
				if i >= 0 {
					s.Users = slices.Delete(s.Users, i, i+1)
				}
			case i < 0:
				s.Users = append(s.Users, fullUser(du))
			case du.State == StateFull:
				s.Users[i] = fullUser(du)
			default:
				mergeUser(&s.Users[i], &du)
			}
		}
	}
	s.UsersState = StateFull
}

func mergeDescription(s, d *Description) {
	setText(&s.DisplayText, d.DisplayText)
	setText(&s.Subject, d.Subject)
	setText(&s.FreeText, d.FreeText)
	if d.Keywords != nil {
		s.Keywords = d.Keywords
	}
	if d.ConfURIs != nil {
		s.ConfURIs = d.ConfURIs
	}
	if d.ServiceURIs != nil {
		s.ServiceURIs = d.ServiceURIs
	}
	if d.MaximumUserCount != nil {
		s.MaximumUserCount = d.MaximumUserCount
	}
	if d.AvailableMedia != nil {
		s.AvailableMedia = d.AvailableMedia
	}
}

func mergeUser(s, d *User) {
	setText(&s.DisplayText, d.DisplayText)
	if d.Roles != nil {
		s.Roles = d.Roles
	}
	if d.Languages != nil {
		s.Languages = d.Languages
	}
	for _, de := range d.Endpoints {
		i := slices.IndexFunc(s.Endpoints, func(e Endpoint) bool { return e.Entity == de.Entity })
		switch {
		case de.State == StateDeleted:
			if i >= 0 {
				s.Endpoints = slices.Delete(s.Endpoints, i, i+1)
			}
		case i < 0:
			de.State = ""
			s.Endpoints = append(s.Endpoints, de)
		case de.State == StateFull:
			de.State = ""
			s.Endpoints[i] = de
		default:
			mergeEndpoint(&s.Endpoints[i], &de)
		}
	}
}

func mergeEndpoint(s, d *Endpoint) {
	setText(&s.DisplayText, d.DisplayText)
	if d.Referred != nil {
		s.Referred = d.Referred
	}
	if d.Status != "" {
		s.Status = d.Status
	}
	if d.JoiningMethod != "" {
		s.JoiningMethod = d.JoiningMethod
	}
	if d.JoiningInfo != nil {
		s.JoiningInfo = d.JoiningInfo
	}
	if d.DisconnectionMethod != "" {
		s.DisconnectionMethod = d.DisconnectionMethod
	}
	if d.DisconnectionInfo != nil {
		s.DisconnectionInfo = d.DisconnectionInfo
	}
	if d.CallInfo != nil {
		s.CallInfo = d.CallInfo
	}
	for _, dm := range d.Media {
		if i := slices.IndexFunc(s.Media, func(m Media) bool { return m.ID == dm.ID }); i >= 0 {
			s.Media[i] = dm
		} else {
			s.Media = append(s.Media, dm)
		}
	}
}

func setText(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
