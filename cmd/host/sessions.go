package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk/desktopsharing"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// sessionsHelp lists the commands of several sessions and of transfers,
// shared by listen and call.
const sessionsHelp = `/call URI [TYPE...], /sessions, /switch SESSION, /transfer URI, /attended-transfer [SESSION], /accept-transfer, /reject-transfer [code]`

// sessions numbers the sessions of a listen or call process from 1, in
// the order they were first seen, and keeps the current one: the one the
// stdin commands apply to. The printer names a session by its number
// ("session 2 (outgoing 1a2b3c4d)"), so the numbers it prints are the
// ones the commands take. An ended session is held only weakly (a
// listener takes calls for days: what a finished call leaves behind here
// is one small entry, dropped once the session itself is gone). Safe for
// concurrent use.
type sessions struct {
	mu      sync.Mutex
	all     []*entry // in number order
	byPtr   map[weak.Pointer[session.Session]]*entry
	next    int // the last number given
	pruneAt int // len(all) at which entries of collected sessions go
	cur     *entry
}

type entry struct {
	n     int
	w     weak.Pointer[session.Session]
	s     *session.Session // nil once it ended
	ended bool             // it posted SIPSessionDidEnd or SIPSessionDidFail
	label string           // the printer's name for it, once it has a Call-ID
}

// entry returns s's entry, numbering s when it is new; mu is held.
func (ss *sessions) entryOf(s *session.Session) *entry {
	w := weak.Make(s)
	if e, ok := ss.byPtr[w]; ok {
		return e
	}
	if ss.byPtr == nil {
		ss.byPtr = map[weak.Pointer[session.Session]]*entry{}
	}
	if len(ss.all) >= ss.pruneAt {
		ss.pruneLocked()
	}
	ss.next++
	e := &entry{n: ss.next, w: w, s: s}
	ss.byPtr[w] = e
	ss.all = append(ss.all, e)
	return e
}

// pruneLocked drops the entries of ended sessions that are gone (nothing
// can name them any more); mu is held.
func (ss *sessions) pruneLocked() {
	kept := ss.all[:0]
	for _, e := range ss.all {
		if e.ended && e.w.Value() == nil {
			delete(ss.byPtr, e.w)
			continue
		}
		kept = append(kept, e)
	}
	clear(ss.all[len(kept):])
	ss.all = kept
	ss.pruneAt = 2*len(kept) + 64
}

// prune drops the entries of ended sessions that are gone, and lets go of
// the slice and map a busy period grew (a Go map does not shrink): the
// idle trimmer calls it after a collection, so that what a load left here
// — a few thousand small entries, scattered over the heap's spans, each
// keeping its span from going back to the kernel — is freed by the next
// one.
func (ss *sessions) prune() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	peak := cap(ss.all)
	ss.pruneLocked()
	if peak <= ss.pruneAt {
		return
	}
	ss.all = slices.Clone(ss.all)
	byPtr := make(map[weak.Pointer[session.Session]]*entry, len(ss.all))
	for _, e := range ss.all {
		byPtr[e.w] = e
	}
	ss.byPtr = byPtr
}

// number returns s's number.
func (ss *sessions) number(s *session.Session) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.entryOf(s).n
}

// label is how the printer names s: "session 2 (outgoing 1a2b3c4d)".
// It is made once per session (an outgoing one has no Call-ID before
// Connect, and is named without it until then).
func (ss *sessions) label(s *session.Session) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e := ss.entryOf(s)
	if e.label != "" {
		return e.label
	}
	id := s.CallID()
	if len(id) > 8 {
		id = id[:8]
	}
	l := "session " + strconv.Itoa(e.n) + " (" + string(s.Direction()) + " " + id + ")"
	if id != "" {
		e.label = l
	}
	return l
}

// current returns the session the commands apply to, or nil. A current
// session that has terminated counts as ended already: the printer may
// show its SIPSessionDidEnd, and a user (or a script) answer it with the
// next command, before the console's observer has recorded the end.
func (ss *sessions) current() *session.Session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.cur != nil && (ss.cur.s == nil || ss.cur.s.State() == session.StateTerminated) {
		ss.endedLocked(ss.cur)
	}
	if ss.cur == nil {
		return nil
	}
	return ss.cur.s
}

// setCurrent makes s the current session.
func (ss *sessions) setCurrent(s *session.Session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.cur = ss.entryOf(s)
}

// setCurrentIfNone makes s the current session when there is none; it
// reports whether s is current now.
func (ss *sessions) setCurrentIfNone(s *session.Session) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e := ss.entryOf(s)
	if ss.cur == nil {
		ss.cur = e
	}
	return ss.cur == e
}

// ended records that s ended. When it was the current session, the most
// recent session still alive becomes current (none: no current session).
func (ss *sessions) ended(s *session.Session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.endedLocked(ss.entryOf(s))
}

func (ss *sessions) endedLocked(e *entry) {
	e.ended = true
	e.s = nil // held weakly from now on
	if ss.cur != e {
		return
	}
	ss.cur = nil
	for i := len(ss.all) - 1; i >= 0; i-- {
		if !ss.all[i].ended {
			ss.cur = ss.all[i]
			return
		}
	}
}

// live returns the sessions that have not ended, in order.
func (ss *sessions) live() []*session.Session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []*session.Session
	for _, e := range ss.all {
		if !e.ended {
			out = append(out, e.s)
		}
	}
	return out
}

// find returns the live session that ref names: its number, its remote
// URI (as printed by /sessions, or its user@host part) or the start of
// its Call-ID.
func (ss *sessions) find(ref string) (*session.Session, error) {
	ref = strings.TrimSpace(ref)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if n, err := strconv.Atoi(ref); err == nil {
		for _, e := range ss.all {
			if e.n == n && !e.ended {
				return e.s, nil
			}
		}
		return nil, fmt.Errorf("no session %d (see /sessions)", n)
	}
	var found []*entry
	for _, e := range ss.all {
		if e.ended || ref == "" {
			continue
		}
		remote := e.s.RemoteIdentity()
		if remote == ref || strings.TrimPrefix(strings.TrimPrefix(remote, "sip:"), "sips:") == ref ||
			strings.HasPrefix(e.s.CallID(), ref) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no session is %q (see /sessions)", ref)
	case 1:
		return found[0].s, nil
	}
	return nil, fmt.Errorf("%q names %d sessions: give its number (see /sessions)", ref, len(found))
}

// recordName is where session n records with --record name: the file
// itself for the first session, NAME-n.EXT for the others (two sessions
// must not write one file).
func recordName(name string, n int) string {
	if name == "" || n <= 1 {
		return name
	}
	ext := filepath.Ext(name)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), n, ext)
}

// console is what listen and call share to run several sessions and
// transfers: the numbered sessions, the policy for a transfer the peer
// asks for, and the commands of sessionsHelp.
type console struct {
	ctx    context.Context // the command's: bounds what the console starts
	app    *application.Application
	pr     *printer
	stderr io.Writer
	ss     *sessions
	// acceptTransfers accepts every transfer the peer asks for
	// (--accept-transfers); otherwise /accept-transfer or
	// /reject-transfer decides.
	acceptTransfers bool
	// account is the account /call calls from ("" for the current
	// session's, or the peer-to-peer one).
	account string

	fmu sync.Mutex
	// sent are the file streams /send-file added, with their session,
	// until their transfer ends: they then leave the session.
	sent map[session.Stream]*session.Session
}

func newConsole(ctx context.Context, app *application.Application, pr *printer, stderr io.Writer, acceptTransfers bool) *console {
	c := &console{ctx: ctx, app: app, pr: pr, stderr: stderr, ss: &sessions{}, acceptTransfers: acceptTransfers}
	pr.nameSessions(c.ss)
	return c
}

// observe follows the sessions' notifications: it numbers new sessions,
// makes the call placed for a transfer we accepted current, answers an
// INVITE that replaces one of our sessions (attended transfer, RFC 3891),
// handles a transfer the peer asks for, and forgets sessions that ended.
// It reports whether it answered a new incoming session (the command's
// own policy must then leave it alone).
func (c *console) observe(n notify.Notification) (answered bool) {
	s, ok := n.Sender.(*session.Session)
	if !ok {
		return false
	}
	switch n.Name {
	case session.SIPSessionNewOutgoing:
		c.ss.number(s)
		if info := s.TransferInfo(); info != nil {
			// The call of a transfer we accepted: it takes the place of
			// the transferred session, which ends once it started.
			c.ss.setCurrent(s)
			c.pr.say("calling %s for the transfer asked by %s (session %d)", s.RemoteIdentity(), info.ReferredBy, c.ss.number(s))
		}
	case session.SIPSessionNewIncoming:
		c.ss.number(s)
		old := s.ReplacedSession()
		if old == nil {
			return false
		}
		// The peer of our session old was transferred to us, or old's
		// peer handed its call over: the new session takes old's place,
		// answered at once with the streams it offers (old ends once it
		// started).
		c.ss.setCurrent(s)
		c.pr.say("session %d from %s replaces session %d: answering", c.ss.number(s), s.RemoteIdentity(), c.ss.number(old))
		go func() {
			if err := c.app.Answer(c.ctx, s); err != nil {
				fmt.Fprintf(c.stderr, "sipstreams: answering the replacing session: %v\n", err)
			}
		}()
		return true
	case session.SIPSessionTransferNewIncoming:
		d, _ := n.Data.(session.TransferNewIncomingData)
		by := firstHeader(d.Headers, "Referred-By", "b")
		if by == "" {
			by = s.RemoteIdentity()
		}
		if c.acceptTransfers {
			c.pr.say("session %d: %s transfers us to %s: accepting", c.ss.number(s), by, d.TransferDestination)
			go func() { printCommandError(c.stderr, "--accept-transfers", s.AcceptTransfer()) }()
			return false
		}
		c.pr.say("session %d: %s transfers us to %s: /accept-transfer or /reject-transfer [code]", c.ss.number(s), by, d.TransferDestination)
	case session.SIPSessionTransferDidEnd:
		if dir, _ := s.TransferState(); dir == session.Outgoing {
			c.pr.say("session %d: transferred; it ends", c.ss.number(s))
		}
	case session.SIPSessionTransferDidFail:
		d, _ := n.Data.(session.TransferProgressData)
		why := d.Reason
		if d.Code != 0 {
			// Code 0: no SIP status told how it went (a NOTIFY we could
			// not read); the reason says what happened.
			why = fmt.Sprintf("%d %s", d.Code, d.Reason)
		}
		c.pr.say("session %d: the transfer failed: %s", c.ss.number(s), why)
	case session.SIPSessionDidEnd, session.SIPSessionDidFail:
		c.ss.ended(s)
	}
	return false
}

// firstHeader returns the first value of the first of names in h.
func firstHeader(h map[string][]string, names ...string) string {
	for _, name := range names {
		for k, v := range h {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
	}
	return ""
}

// command runs one of the commands of sessionsHelp; it reports whether
// cmd was one of them. Errors are printed on stderr.
func (c *console) command(cmd, rest string) bool {
	var err error
	switch cmd {
	case "/sessions":
		c.list()
	case "/switch":
		var s *session.Session
		if s, err = c.ss.find(rest); err == nil {
			c.ss.setCurrent(s)
			c.pr.say("session %d (%s) is current", c.ss.number(s), s.RemoteIdentity())
		}
	case "/call":
		err = c.call(rest)
	case "/transfer":
		err = c.transfer(rest)
	case "/attended-transfer":
		err = c.attendedTransfer(rest)
	case "/accept-transfer":
		var s *session.Session
		if s, err = c.pendingTransfer(); err == nil {
			err = s.AcceptTransfer()
		}
	case "/reject-transfer":
		code := 603
		if f := strings.Fields(rest); len(f) > 0 {
			if code, err = strconv.Atoi(f[0]); err != nil {
				err = fmt.Errorf("%q is not a response code", f[0])
			}
		}
		var s *session.Session
		if err == nil {
			if s, err = c.pendingTransfer(); err == nil {
				err = s.RejectTransfer(code, "")
			}
		}
	default:
		return false
	}
	printCommandError(c.stderr, cmd, err)
	return true
}

// errNoSession is the error of a command that needs a current session.
var errNoSession = errors.New("no session")

// list prints the live sessions (/sessions).
func (c *console) list() {
	cur := c.ss.current()
	var rows []map[string]any
	var lines []string
	for _, s := range c.ss.live() {
		n := c.ss.number(s)
		st := s.State().String()
		dir, xs := s.TransferState()
		row := map[string]any{"session": n, "current": s == cur, "direction": s.Direction(), "remote": s.RemoteIdentity(),
			"state": st, "call_id": s.CallID()}
		if xs != "" {
			row["transfer"] = map[string]any{"direction": dir, "state": xs}
		}
		rows = append(rows, row)
		mark := " "
		if s == cur {
			mark = "*"
		}
		line := fmt.Sprintf("%s %d  %-8s %-30s %-12s %s", mark, n, s.Direction(), s.RemoteIdentity(), st, s.CallID())
		if xs != "" {
			line += fmt.Sprintf("  (transfer %s %s)", dir, xs)
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = []string{"no session"}
	}
	c.pr.event("sessions", map[string]any{"sessions": rows}, "%s", strings.Join(lines, "\n"))
}

// call places a new call (/call URI [TYPE...]): with the stream types
// given, else those of the current session. A connected current session
// is put on hold first (a consultation call); the new one becomes
// current.
func (c *console) call(rest string) error {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return errors.New("usage: /call URI [TYPE...]")
	}
	target, err := parseTarget(f[0])
	if err != nil {
		return err
	}
	cur := c.ss.current()
	types := f[1:]
	if len(types) == 0 {
		if cur == nil {
			return errors.New("no session to take the stream types from: /call URI TYPE...")
		}
		if types = offerable(streamTypes(cur.Streams())); len(types) == 0 {
			return fmt.Errorf("the streams of session %d cannot be offered without parameters (a file, a desktop sharing role): /call URI TYPE...", c.ss.number(cur))
		}
	}
	var opts []application.CallOption
	switch {
	case c.account != "":
		opts = append(opts, application.WithAccount(c.account))
	case cur != nil && cur.Account() != nil && c.app.Account() != nil && cur.Account().ID != c.app.Account().ID:
		opts = append(opts, application.WithAccount(cur.Account().ID))
	}
	if cur != nil && cur.State() == session.StateConnected {
		// Errors are printed: the call goes on without the hold.
		printCommandError(c.stderr, "/call: hold", cur.Hold())
	}
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	call, err := c.app.NewCall(ctx, target, opts...)
	if err != nil {
		return err
	}
	defer call.Close() // a call that never went out
	for _, typ := range types {
		if _, err := call.AddStream(ctx, typ); err != nil {
			return err
		}
	}
	s := call.Session()
	c.ss.setCurrent(s)
	if err := call.Connect(c.ctx); err != nil {
		c.ss.ended(s)
		return err
	}
	if cur == nil {
		c.pr.say("calling %s (session %d)", target.String(), c.ss.number(s))
		return nil
	}
	c.pr.say("calling %s (session %d); session %d waits", target.String(), c.ss.number(s), c.ss.number(cur))
	return nil
}

// offerable returns types without those a stream cannot be made of
// without parameters: a file transfer needs its file, desktop sharing its
// role (/call URI takes the current session's types).
func offerable(types []string) []string {
	var out []string
	for _, typ := range types {
		if typ != filetransfer.Type && typ != desktopsharing.Type {
			out = append(out, typ)
		}
	}
	return out
}

// transfer sends the current session's peer to URI (/transfer URI: a
// blind transfer, REFER).
func (c *console) transfer(rest string) error {
	uri := strings.TrimSpace(rest)
	if uri == "" {
		return errors.New("usage: /transfer URI")
	}
	target, err := parseTarget(uri)
	if err != nil {
		return err
	}
	s := c.ss.current()
	if s == nil {
		return errNoSession
	}
	return s.Transfer(target, nil)
}

// attendedTransfer connects the peers of two of our sessions and leaves
// (/attended-transfer [SESSION]): SESSION's peer (default: the only other
// session alive — the one a /call put on hold) gets a REFER to call the
// current session's peer with Replaces naming the current session's
// dialog (RFC 3891): the new call takes its place, and both our sessions
// end.
func (c *console) attendedTransfer(rest string) error {
	cur := c.ss.current()
	if cur == nil {
		return errNoSession
	}
	var other *session.Session
	if ref := strings.TrimSpace(rest); ref != "" {
		var err error
		if other, err = c.ss.find(ref); err != nil {
			return err
		}
	} else {
		var others []*session.Session
		for _, s := range c.ss.live() {
			if s != cur {
				others = append(others, s)
			}
		}
		if len(others) != 1 {
			return fmt.Errorf("%d other sessions: name the one whose peer is transferred (/attended-transfer SESSION, see /sessions)", len(others))
		}
		other = others[0]
	}
	if other == cur {
		return errors.New("the session to transfer is the current one: name another (see /sessions)")
	}
	target, err := remoteTarget(cur)
	if err != nil {
		return err
	}
	return other.Transfer(target, cur)
}

// remoteTarget is where the peer of s is reached: the URI of its Contact
// (from its 2xx to our INVITE, or from its INVITE), else its address of
// record.
func remoteTarget(s *session.Session) (sip.Uri, error) {
	h := s.RemoteResponseHeaders()
	if s.Direction() == session.Incoming {
		h = s.RemoteRequestHeaders()
	}
	if v := firstHeader(h, "Contact", "m"); v != "" {
		var u sip.Uri
		params := sip.NewParams()
		if _, err := sip.ParseAddressValue(v, &u, &params); err == nil && u.Host != "" {
			return u, nil
		}
	}
	return parseTarget(s.RemoteIdentity())
}

// pendingTransfer is the session whose peer asked for a transfer not
// decided yet: the current session, else the only other one.
func (c *console) pendingTransfer() (*session.Session, error) {
	pending := func(s *session.Session) bool {
		dir, st := s.TransferState()
		return dir == session.Incoming && st == session.TransferStarting
	}
	if s := c.ss.current(); s != nil && pending(s) {
		return s, nil
	}
	var found []*session.Session
	for _, s := range c.ss.live() {
		if pending(s) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, errors.New("no transfer to decide")
	case 1:
		return found[0], nil
	}
	return nil, errors.New("several transfers wait: /switch to the session first")
}
