package ftstream

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// pushFrom has a raw peer offer sel (sendonly) to bob, who answers and
// starts; the peer then dials bob. It returns the peer's session.
func pushFrom(t *testing.T, rp *rawPeer, bob *peer, sel filetransfer.Selector, resume bool) *msrp.Session {
	t.Helper()
	offer := rp.sdp(sdk.SendOnly, selectorAttrs(sel, resume)...)
	bob.incoming(offer, nil)
	answer := bob.answer(offer)
	bob.start(answer, offer)
	return rp.dial(bob.ctx, answer)
}

// send sends body as the file's message from byte start (1-based) of
// total, and waits until every chunk was answered.
func send(t *testing.T, sess *msrp.Session, p *peer, body []byte, start, total int64) msrp.Result {
	t.Helper()
	d, err := sess.Send(p.ctx, msrp.Outgoing{
		ContentType: "application/octet-stream", Body: bytes.NewReader(body), Size: int64(len(body)),
		Start: start, Total: total, SuccessReport: true, RangeEndStar: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Wait(p.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// onlyPartialDir fails unless dir holds nothing but the partial
// directory: no file under a name of its own.
func onlyPartialDir(t *testing.T, dir string) {
	t.Helper()
	for _, e := range dirEntries(t, dir) {
		if e != filetransfer.PartialDir && !strings.HasPrefix(e, filetransfer.PartialDir+string(filepath.Separator)) {
			t.Fatalf("left in %s: %v", dir, dirEntries(t, dir))
		}
	}
}

// TestHashMismatch: a peer flips one byte of one chunk of the file it
// announced; the receiver ends the transfer with "File hash mismatch",
// REPORTs the failure, and leaves no file behind, neither under the name
// nor as a partial file.
func TestHashMismatch(t *testing.T) {
	content := randomBytes(t, 300<<10)
	dir := t.TempDir()
	bob := newPeer(t, "bob", dir, nil)
	rp := newRawPeer(t)
	sess := pushFrom(t, rp, bob, filetransfer.Selector{Name: "flip.bin", Size: int64(len(content)), Hash: sha1Of(content)}, false)

	flipped := bytes.Clone(content)
	flipped[200<<10] ^= 0x01 // in the fourth 64 KiB chunk
	if r := send(t, sess, bob, flipped, 1, int64(len(content))); r.Err != nil {
		t.Fatalf("chunks refused: %+v", r)
	}
	got := data[filetransfer.DidEndData](bob, filetransfer.HandlerDidEnd)
	if !got.Error || got.Reason != filetransfer.ReasonHashMismatch || got.Path != "" {
		t.Fatalf("DidEnd %+v", got)
	}
	rep := rp.reportWith(bob.ctx, msrp.StatusBadRequest)
	if rep.Status.Comment != filetransfer.ReasonHashMismatch {
		t.Fatalf("REPORT %+v", rep)
	}
	endAll(bob)
	onlyPartialDir(t, filepath.Join(dir))
	if e := dirEntries(t, filepath.Join(dir, filetransfer.PartialDir)); len(e) != 0 {
		t.Fatalf("partial files left: %v", e)
	}
}

// TestCPIMRefused: a file sent wrapped in message/cpim gets REPORT 415
// "Invalid Content-Type" and fails the stream with the reference's
// reason.
func TestCPIMRefused(t *testing.T) {
	bob := newPeer(t, "bob", t.TempDir(), nil)
	rp := newRawPeer(t)
	sess := pushFrom(t, rp, bob, filetransfer.Selector{Name: "x.txt", Size: 5}, false)
	d, err := sess.Send(bob.ctx, msrp.Outgoing{ContentType: "message/cpim", Body: strings.NewReader("hello"), Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := d.Wait(bob.ctx); r.Code != msrp.StatusUnsupportedMedia {
		t.Fatalf("transaction %+v", r)
	}
	if rep := rp.reportWith(bob.ctx, msrp.StatusUnsupportedMedia); rep.Status.Comment != "Invalid Content-Type" {
		t.Fatalf("REPORT %+v", rep)
	}
	var fail struct{ Reason string }
	if err := bob.waitFor(sdk.MediaStreamDidFail).Decode(&fail); err != nil || fail.Reason != filetransfer.ReasonCPIM {
		t.Fatalf("MediaStreamDidFail %+v %v", fail, err)
	}
	endAll(bob)
}

// TestSendToSender: a SEND on a stream that sends gets REPORT 413, and
// the transfer goes on.
func TestSendToSender(t *testing.T) {
	content := randomBytes(t, 100<<10)
	src := writeFile(t, "a.bin", content)
	alice := newPeer(t, "alice", t.TempDir(), nil)
	rp := newRawPeer(t)
	rp.report = true
	alice.create(filetransfer.Push(src))
	offer := alice.offer()
	answer := rp.answer(offer, sdk.RecvOnly, selectorAttrs(filetransfer.Selector{Name: "a.bin"}, false)...)
	alice.start(offer, answer)
	sess := rp.dial(alice.ctx, offer)
	d, err := sess.Send(alice.ctx, msrp.Outgoing{ContentType: "text/plain", Body: strings.NewReader("hi"), Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := d.Wait(alice.ctx); r.Code != msrp.StatusStopSending {
		t.Fatalf("transaction %+v", r)
	}
	if rep := rp.reportWith(alice.ctx, msrp.StatusStopSending); rep.Status.Comment != "Unwanted Message" {
		t.Fatalf("REPORT %+v", rep)
	}
	sent := data[filetransfer.DidEndData](alice, filetransfer.HandlerDidEnd)
	if sent.Error || rp.sum() != sha1Of(content) {
		t.Fatalf("DidEnd %+v", sent)
	}
	endAll(alice)
}

// TestSenderResumes: a receiver that has the first bytes already
// (FILE_OFFSET answered with Offset) gets only the rest, in a message
// whose Byte-Range starts after them; the sender's transfer completes
// from there.
func TestSenderResumes(t *testing.T) {
	content := randomBytes(t, 300<<10+7)
	const offset = 100 << 10
	src := writeFile(t, "resume.bin", content)
	alice := newPeer(t, "alice", t.TempDir(), nil)
	rp := newRawPeer(t)
	rp.offset, rp.report = offset, true
	alice.create(filetransfer.Push(src))
	offer := alice.offer()
	answer := rp.answer(offer, sdk.RecvOnly, selectorAttrs(filetransfer.Selector{Name: "resume.bin"}, true)...)
	alice.start(offer, answer)
	rp.dial(alice.ctx, offer)

	sent := data[filetransfer.DidEndData](alice, filetransfer.HandlerDidEnd)
	if sent.Error || sent.ResumedFrom != offset || sent.TransferredBytes != int64(len(content)) {
		t.Fatalf("DidEnd %+v", sent)
	}
	if rp.sum() != sha1Of(content[offset:]) {
		t.Fatal("the peer got other bytes than the file's after the offset")
	}
	fo := rp.request(alice.ctx, filetransfer.MethodFileOffset)
	first := rp.request(alice.ctx, msrp.MethodSEND)
	checkGoldenHead(t, "file-offset-request.msrp", fo)
	checkGoldenHead(t, "resumed-send.msrp", first)
	endAll(alice)
}

// TestReceiverResumes: a transfer cut short by the sender (its
// connection closed mid-way) keeps the bytes received; a new session's
// sender of the same file asks FILE_OFFSET, is told that many bytes, sends
// the rest, and the file is saved whole and verified. A FILE_OFFSET once
// bytes arrived is refused.
func TestReceiverResumes(t *testing.T) {
	content := randomBytes(t, 500<<10+3)
	sel := filetransfer.Selector{Name: "big.iso", Size: int64(len(content)), Hash: sha1Of(content)}
	dir := t.TempDir()
	cut := interrupted(t, dir, sel, content, time.Now)

	bob := newPeer(t, "bob2", dir, nil)
	rp := newRawPeer(t)
	sess := pushFrom(t, rp, bob, sel, true)
	resp, err := sess.RequestMessage(bob.ctx, filetransfer.MethodFileOffset, nil)
	if err != nil || resp.StatusCode != msrp.StatusOK || resp.Header(filetransfer.HeaderOffset) != itoa(cut) {
		t.Fatalf("FILE_OFFSET answered %+v %v, want Offset %d", resp, err, cut)
	}
	checkGoldenHead(t, "file-offset-response.msrp", resp)
	if r := send(t, sess, bob, content[cut:], cut+1, sel.Size); r.Err != nil {
		t.Fatalf("resumed chunks refused: %+v", r)
	}
	got := data[filetransfer.DidEndData](bob, filetransfer.HandlerDidEnd)
	if got.Error || !got.Verified || got.ResumedFrom != cut || got.Path != filepath.Join(dir, "big.iso") {
		t.Fatalf("DidEnd %+v", got)
	}
	check(t, got.Path, content)
	rep := rp.reportWith(bob.ctx, msrp.StatusOK)
	if rep.Range.Start != cut+1 {
		t.Fatalf("first REPORT of the resumed message %+v", rep.Range)
	}
	checkGoldenHead(t, "resumed-report.msrp", rep.Request)
	resp, err = sess.RequestMessage(bob.ctx, filetransfer.MethodFileOffset, nil)
	if err != nil || resp.StatusCode != msrp.StatusStopSending {
		t.Fatalf("FILE_OFFSET after the transfer answered %+v %v, want 413", resp, err)
	}
	endAll(bob)
	if e := dirEntries(t, filepath.Join(dir, filetransfer.PartialDir)); len(e) != 0 {
		t.Fatalf("partial files left: %v", e)
	}
}

// TestExpiredPartialNotResumed: bytes kept longer than the validity
// window are not offered: FILE_OFFSET says 0, and a file sent whole is
// saved.
func TestExpiredPartialNotResumed(t *testing.T) {
	content := randomBytes(t, 200<<10)
	sel := filetransfer.Selector{Name: "old.bin", Size: int64(len(content)), Hash: sha1Of(content)}
	dir := t.TempDir()
	if cut := interrupted(t, dir, sel, content, time.Now); cut == 0 {
		t.Fatal("nothing kept")
	}
	later := func() time.Time { return time.Now().Add(filetransfer.ResumeValidity + time.Hour) }
	bob := newPeer(t, "bob2", dir, nil, WithClock(later))
	rp := newRawPeer(t)
	sess := pushFrom(t, rp, bob, sel, true)
	resp, err := sess.RequestMessage(bob.ctx, filetransfer.MethodFileOffset, nil)
	if err != nil || resp.StatusCode != msrp.StatusOK || resp.Header(filetransfer.HeaderOffset) != "0" {
		t.Fatalf("FILE_OFFSET answered %+v %v, want Offset 0", resp, err)
	}
	if r := send(t, sess, bob, content, 1, sel.Size); r.Err != nil {
		t.Fatalf("chunks refused: %+v", r)
	}
	got := data[filetransfer.DidEndData](bob, filetransfer.HandlerDidEnd)
	if got.Error || got.ResumedFrom != 0 {
		t.Fatalf("DidEnd %+v", got)
	}
	check(t, got.Path, content)
	endAll(bob)
}

// interrupted has a raw peer send the first part of content to a
// receiver saving in dir, then drop the connection; the receiver's
// stream fails and ends. It returns the bytes kept for a resume.
func interrupted(t *testing.T, dir string, sel filetransfer.Selector, content []byte, now func() time.Time) int64 {
	t.Helper()
	bob := newPeer(t, "bob", dir, nil, WithClock(now))
	rp := newRawPeer(t)
	sess := pushFrom(t, rp, bob, sel, true)
	half := int64(len(content)) / 2
	if r := send(t, sess, bob, content[:half], 1, sel.Size); r.Err != nil {
		t.Fatalf("chunks refused: %+v", r)
	}
	_ = sess.Close()
	bob.waitFor(sdk.MediaStreamDidFail)
	endAll(bob)
	end := ended(bob)
	if !end.Error || end.Reason != filetransfer.ReasonInterruptedTransfer {
		t.Fatalf("DidEnd of the interrupted transfer %+v", end)
	}
	onlyPartialDir(t, dir) // nothing under a final name
	part := filepath.Join(dir, filetransfer.PartialDir, sel.Hash.Key()+".part")
	st, err := os.Stat(part)
	if err != nil {
		t.Fatalf("nothing kept: %v", err)
	}
	if st.Size() != half {
		t.Fatalf("kept %d bytes, received %d", st.Size(), half)
	}
	return half
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ended returns the FileTransferHandlerDidEnd p's stream posted.
func ended(p *peer) filetransfer.DidEndData {
	p.t.Helper()
	ns := p.rec.Of(p.h, filetransfer.HandlerDidEnd)
	if len(ns) != 1 {
		p.t.Fatalf("%s: %d FileTransferHandlerDidEnd: %s", p.name, len(ns), p.names())
	}
	var d filetransfer.DidEndData
	if err := ns[0].Decode(&d); err != nil {
		p.t.Fatal(err)
	}
	return d
}
