package conference

// FindDialog returns the user and endpoint whose call-info names the SIP
// dialog (callID, localTag, remoteTag), so that a participant finds itself
// in the list the focus sends. The focus writes the from-tag and to-tag of
// its dialog as that dialog's From and To carry them, which depends on who
// called whom, so the tags match in either order. The pointers point into
// i; ok is false when no endpoint matches.
func (i *Info) FindDialog(callID, localTag, remoteTag string) (u *User, e *Endpoint, ok bool) {
	for ui := range i.Users {
		for ei := range i.Users[ui].Endpoints {
			c := i.Users[ui].Endpoints[ei].CallInfo
			if c == nil || c.CallID != callID {
				continue
			}
			if c.FromTag == localTag && c.ToTag == remoteTag || c.FromTag == remoteTag && c.ToTag == localTag {
				return &i.Users[ui], &i.Users[ui].Endpoints[ei], true
			}
		}
	}
	return nil, nil, false
}
