package conference

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Limits bound what Parse accepts and what a Tracker holds. A zero field
// takes the default of DefaultLimits.
type Limits struct {
	// MaxSize is the largest document in bytes.
	MaxSize int
	// MaxUsers is the most user elements in a document or a state.
	MaxUsers int
	// MaxEndpoints is the most endpoint elements, all users together.
	MaxEndpoints int
	// MaxMedia is the most media elements, all endpoints together.
	MaxMedia int
}

// DefaultLimits returns the limits used when none are given: 1 MiB, 1000
// users, 4000 endpoints, 16000 media.
func DefaultLimits() Limits {
	return Limits{MaxSize: 1 << 20, MaxUsers: 1000, MaxEndpoints: 4000, MaxMedia: 16000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxSize <= 0 {
		l.MaxSize = d.MaxSize
	}
	if l.MaxUsers <= 0 {
		l.MaxUsers = d.MaxUsers
	}
	if l.MaxEndpoints <= 0 {
		l.MaxEndpoints = d.MaxEndpoints
	}
	if l.MaxMedia <= 0 {
		l.MaxMedia = d.MaxMedia
	}
	return l
}

// Option configures Parse and NewTracker.
type Option func(*options)

type options struct {
	limits Limits
}

// WithLimits sets the limits; zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(o *options) { o.limits = l }
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	o.limits = o.limits.withDefaults()
	return o
}

// The XML form. Elements are matched in the conference-info namespace;
// elements of other namespaces and unknown ones are skipped.
type wireInfo struct {
	XMLName     xml.Name
	Entity      *string          `xml:"entity,attr"`
	State       string           `xml:"state,attr"`
	Version     *string          `xml:"version,attr"`
	Description *wireDescription `xml:"urn:ietf:params:xml:ns:conference-info conference-description"`
	ConfState   *wireConfState   `xml:"urn:ietf:params:xml:ns:conference-info conference-state"`
	Users       *wireUsers       `xml:"urn:ietf:params:xml:ns:conference-info users"`
}

type wireDescription struct {
	DisplayText    string              `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	Subject        string              `xml:"urn:ietf:params:xml:ns:conference-info subject"`
	FreeText       string              `xml:"urn:ietf:params:xml:ns:conference-info free-text"`
	Keywords       *string             `xml:"urn:ietf:params:xml:ns:conference-info keywords"`
	ConfURIs       *wireURIs           `xml:"urn:ietf:params:xml:ns:conference-info conf-uris"`
	ServiceURIs    *wireURIs           `xml:"urn:ietf:params:xml:ns:conference-info service-uris"`
	MaxUserCount   *string             `xml:"urn:ietf:params:xml:ns:conference-info maximum-user-count"`
	AvailableMedia *wireAvailableMedia `xml:"urn:ietf:params:xml:ns:conference-info available-media"`
}

type wireURIs struct {
	Entries []wireURIEntry `xml:"urn:ietf:params:xml:ns:conference-info entry"`
}

type wireURIEntry struct {
	URI         *string `xml:"urn:ietf:params:xml:ns:conference-info uri"`
	DisplayText string  `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	Purpose     string  `xml:"urn:ietf:params:xml:ns:conference-info purpose"`
}

type wireAvailableMedia struct {
	Entries []wireAvailableEntry `xml:"urn:ietf:params:xml:ns:conference-info entry"`
}

type wireAvailableEntry struct {
	Label       *string `xml:"label,attr"`
	DisplayText string  `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	Type        string  `xml:"urn:ietf:params:xml:ns:conference-info type"`
	Status      string  `xml:"urn:ietf:params:xml:ns:conference-info status"`
}

type wireConfState struct {
	UserCount *string `xml:"urn:ietf:params:xml:ns:conference-info user-count"`
	Active    *string `xml:"urn:ietf:params:xml:ns:conference-info active"`
	Locked    *string `xml:"urn:ietf:params:xml:ns:conference-info locked"`
}

type wireUsers struct {
	State string     `xml:"state,attr"`
	Users []wireUser `xml:"urn:ietf:params:xml:ns:conference-info user"`
}

type wireUser struct {
	Entity      string         `xml:"entity,attr"`
	State       string         `xml:"state,attr"`
	DisplayText string         `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	Roles       *wireRoles     `xml:"urn:ietf:params:xml:ns:conference-info roles"`
	Languages   *string        `xml:"urn:ietf:params:xml:ns:conference-info languages"`
	Endpoints   []wireEndpoint `xml:"urn:ietf:params:xml:ns:conference-info endpoint"`
}

type wireRoles struct {
	Entries []string `xml:"urn:ietf:params:xml:ns:conference-info entry"`
}

type wireEndpoint struct {
	Entity              string         `xml:"entity,attr"`
	State               string         `xml:"state,attr"`
	DisplayText         string         `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	Referred            *wireExecution `xml:"urn:ietf:params:xml:ns:conference-info referred"`
	Status              string         `xml:"urn:ietf:params:xml:ns:conference-info status"`
	JoiningMethod       string         `xml:"urn:ietf:params:xml:ns:conference-info joining-method"`
	JoiningInfo         *wireExecution `xml:"urn:ietf:params:xml:ns:conference-info joining-info"`
	DisconnectionMethod string         `xml:"urn:ietf:params:xml:ns:conference-info disconnection-method"`
	DisconnectionInfo   *wireExecution `xml:"urn:ietf:params:xml:ns:conference-info disconnection-info"`
	Media               []wireMedia    `xml:"urn:ietf:params:xml:ns:conference-info media"`
	CallInfo            *wireCallInfo  `xml:"urn:ietf:params:xml:ns:conference-info call-info"`
}

type wireExecution struct {
	When   *string `xml:"urn:ietf:params:xml:ns:conference-info when"`
	Reason string  `xml:"urn:ietf:params:xml:ns:conference-info reason"`
	By     string  `xml:"urn:ietf:params:xml:ns:conference-info by"`
}

type wireMedia struct {
	ID          *string `xml:"id,attr"`
	DisplayText string  `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	Type        string  `xml:"urn:ietf:params:xml:ns:conference-info type"`
	Label       string  `xml:"urn:ietf:params:xml:ns:conference-info label"`
	SrcID       string  `xml:"urn:ietf:params:xml:ns:conference-info src-id"`
	Status      string  `xml:"urn:ietf:params:xml:ns:conference-info status"`
}

type wireCallInfo struct {
	SIP *wireSIPDialog `xml:"urn:ietf:params:xml:ns:conference-info sip"`
}

type wireSIPDialog struct {
	DisplayText string `xml:"urn:ietf:params:xml:ns:conference-info display-text"`
	CallID      string `xml:"urn:ietf:params:xml:ns:conference-info call-id"`
	FromTag     string `xml:"urn:ietf:params:xml:ns:conference-info from-tag"`
	ToTag       string `xml:"urn:ietf:params:xml:ns:conference-info to-tag"`
}

// Parse reads an application/conference-info+xml document. It first checks
// the size and counts the user, endpoint and media elements against the
// limits (a *LimitError wrapping ErrTooLarge, ErrTooManyUsers,
// ErrTooManyEndpoints or ErrTooManyMedia), before anything is built; then
// decodes the document. Content errors wrap ErrMalformed and a specific
// sentinel. encoding/xml expands no entity a document declares, so an
// entity bomb fails as ErrBadXML without growing.
func Parse(data []byte, opts ...Option) (*Info, error) {
	o := buildOptions(opts)
	if len(data) > o.limits.MaxSize {
		return nil, &LimitError{Err: ErrTooLarge, Limit: o.limits.MaxSize, Got: len(data)}
	}
	if err := countElements(data, o.limits); err != nil {
		return nil, err
	}
	var w wireInfo
	if err := xml.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("conference: %w: %w", ErrBadXML, err)
	}
	if w.XMLName.Space != Namespace || w.XMLName.Local != "conference-info" {
		return nil, fmt.Errorf("conference: %w: got {%s}%s", ErrWrongRoot, w.XMLName.Space, w.XMLName.Local)
	}
	return w.info()
}

// countElements walks the tokens once, without building anything, and
// stops at the first element over a limit.
func countElements(data []byte, l Limits) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	var users, endpoints, media int
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("conference: %w: %w", ErrBadXML, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != Namespace {
			continue
		}
		switch se.Name.Local {
		case "user":
			if users++; users > l.MaxUsers {
				return &LimitError{Err: ErrTooManyUsers, Limit: l.MaxUsers, Got: users}
			}
		case "endpoint":
			if endpoints++; endpoints > l.MaxEndpoints {
				return &LimitError{Err: ErrTooManyEndpoints, Limit: l.MaxEndpoints, Got: endpoints}
			}
		case "media":
			if media++; media > l.MaxMedia {
				return &LimitError{Err: ErrTooManyMedia, Limit: l.MaxMedia, Got: media}
			}
		}
	}
}

// xmlSpace are the white-space characters of XML.
const xmlSpace = " \t\r\n"

func trim(s string) string { return strings.Trim(s, xmlSpace) }

func parseState(where, s string) (State, error) {
	st := State(trim(s))
	if !st.Valid() {
		return "", fmt.Errorf("conference: %w: %s state %q", ErrInvalidState, where, s)
	}
	return st, nil
}

func parseUint(where string, s *string) (*uint32, error) {
	if s == nil {
		return nil, nil
	}
	n, err := strconv.ParseUint(trim(*s), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("conference: %w: %s %q", ErrInvalidValue, where, *s)
	}
	v := uint32(n)
	return &v, nil
}

func parseBool(where string, s *string) (*bool, error) {
	if s == nil {
		return nil, nil
	}
	var v bool
	switch trim(*s) {
	case "true", "1":
		v = true
	case "false", "0":
	default:
		return nil, fmt.Errorf("conference: %w: %s %q", ErrInvalidValue, where, *s)
	}
	return &v, nil
}

// parseTime reads an xs:dateTime; one without a zone reads as UTC.
func parseTime(s string) (time.Time, error) {
	s = trim(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

func (w *wireInfo) info() (*Info, error) {
	if w.Entity == nil || trim(*w.Entity) == "" {
		return nil, fmt.Errorf("conference: %w: conference-info has no entity", ErrMissing)
	}
	st, err := parseState("conference-info", w.State)
	if err != nil {
		return nil, err
	}
	info := &Info{Entity: trim(*w.Entity), State: st}
	if w.Version != nil {
		v, err := parseUint("version", w.Version)
		if err != nil {
			return nil, err
		}
		info.Version, info.HasVersion = *v, true
	}
	if w.Description != nil {
		if info.Description, err = w.Description.description(); err != nil {
			return nil, err
		}
	}
	if c := w.ConfState; c != nil {
		cs := &ConferenceState{}
		if cs.UserCount, err = parseUint("user-count", c.UserCount); err != nil {
			return nil, err
		}
		if cs.Active, err = parseBool("active", c.Active); err != nil {
			return nil, err
		}
		if cs.Locked, err = parseBool("locked", c.Locked); err != nil {
			return nil, err
		}
		info.ConferenceState = cs
	}
	if w.Users != nil {
		if info.UsersState, err = parseState("users", w.Users.State); err != nil {
			return nil, err
		}
		if info.UsersState == "" {
			// An absent attribute is full by the schema; in a partial
			// document focuses mean "merge" (linphone's focus sends
			// <users> bare with state="full" or "partial" users in it).
			info.UsersState = StateFull
			if info.State == StatePartial {
				info.UsersState = StatePartial
			}
		}
		for i := range w.Users.Users {
			u, err := w.Users.Users[i].user()
			if err != nil {
				return nil, err
			}
			info.Users = append(info.Users, u)
		}
	}
	return info, nil
}

func (w *wireDescription) description() (*Description, error) {
	d := &Description{
		DisplayText: trim(w.DisplayText),
		Subject:     trim(w.Subject),
		FreeText:    trim(w.FreeText),
	}
	if w.Keywords != nil {
		d.Keywords = strings.Fields(*w.Keywords)
		if d.Keywords == nil {
			d.Keywords = []string{}
		}
	}
	var err error
	if d.ConfURIs, err = w.ConfURIs.entries("conf-uris"); err != nil {
		return nil, err
	}
	if d.ServiceURIs, err = w.ServiceURIs.entries("service-uris"); err != nil {
		return nil, err
	}
	if d.MaximumUserCount, err = parseUint("maximum-user-count", w.MaxUserCount); err != nil {
		return nil, err
	}
	if w.AvailableMedia != nil {
		d.AvailableMedia = []AvailableMedia{}
		for _, e := range w.AvailableMedia.Entries {
			if e.Label == nil || trim(*e.Label) == "" {
				return nil, fmt.Errorf("conference: %w: available-media entry without label", ErrMissing)
			}
			d.AvailableMedia = append(d.AvailableMedia, AvailableMedia{
				Label:       trim(*e.Label),
				DisplayText: trim(e.DisplayText),
				Type:        trim(e.Type),
				Status:      MediaStatus(trim(e.Status)),
			})
		}
	}
	return d, nil
}

func (w *wireURIs) entries(where string) ([]URIEntry, error) {
	if w == nil {
		return nil, nil
	}
	out := []URIEntry{}
	for _, e := range w.Entries {
		if e.URI == nil || trim(*e.URI) == "" {
			return nil, fmt.Errorf("conference: %w: %s entry without uri", ErrMissing, where)
		}
		out = append(out, URIEntry{URI: trim(*e.URI), DisplayText: trim(e.DisplayText), Purpose: trim(e.Purpose)})
	}
	return out, nil
}

func (w *wireUser) user() (User, error) {
	st, err := parseState("user", w.State)
	if err != nil {
		return User{}, err
	}
	u := User{Entity: trim(w.Entity), State: st, DisplayText: trim(w.DisplayText)}
	if w.Roles != nil {
		u.Roles = []string{}
		for _, r := range w.Roles.Entries {
			u.Roles = append(u.Roles, trim(r))
		}
	}
	if w.Languages != nil {
		u.Languages = strings.Fields(*w.Languages)
		if u.Languages == nil {
			u.Languages = []string{}
		}
	}
	for i := range w.Endpoints {
		e, err := w.Endpoints[i].endpoint()
		if err != nil {
			return User{}, err
		}
		u.Endpoints = append(u.Endpoints, e)
	}
	return u, nil
}

func (w *wireEndpoint) endpoint() (Endpoint, error) {
	st, err := parseState("endpoint", w.State)
	if err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{
		Entity:              trim(w.Entity),
		State:               st,
		DisplayText:         trim(w.DisplayText),
		Status:              EndpointStatus(trim(w.Status)),
		JoiningMethod:       JoiningMethod(trim(w.JoiningMethod)),
		DisconnectionMethod: DisconnectionMethod(trim(w.DisconnectionMethod)),
	}
	if e.Referred, err = w.Referred.execution("referred"); err != nil {
		return Endpoint{}, err
	}
	if e.JoiningInfo, err = w.JoiningInfo.execution("joining-info"); err != nil {
		return Endpoint{}, err
	}
	if e.DisconnectionInfo, err = w.DisconnectionInfo.execution("disconnection-info"); err != nil {
		return Endpoint{}, err
	}
	for _, m := range w.Media {
		if m.ID == nil || trim(*m.ID) == "" {
			return Endpoint{}, fmt.Errorf("conference: %w: media without id", ErrMissing)
		}
		e.Media = append(e.Media, Media{
			ID:          trim(*m.ID),
			DisplayText: trim(m.DisplayText),
			Type:        trim(m.Type),
			Label:       trim(m.Label),
			SrcID:       trim(m.SrcID),
			Status:      MediaStatus(trim(m.Status)),
		})
	}
	if w.CallInfo != nil && w.CallInfo.SIP != nil {
		s := w.CallInfo.SIP
		e.CallInfo = &SIPDialogID{
			DisplayText: trim(s.DisplayText),
			CallID:      trim(s.CallID),
			FromTag:     trim(s.FromTag),
			ToTag:       trim(s.ToTag),
		}
	}
	return e, nil
}

func (w *wireExecution) execution(where string) (*Execution, error) {
	if w == nil {
		return nil, nil
	}
	x := &Execution{Reason: trim(w.Reason), By: trim(w.By)}
	if w.When != nil {
		t, err := parseTime(*w.When)
		if err != nil {
			return nil, fmt.Errorf("conference: %w: %s when %q", ErrInvalidValue, where, *w.When)
		}
		x.When = t
	}
	return x, nil
}
