package main

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 5547 names SHA-1
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// demoTimeout bounds the whole demo.
const demoTimeout = time.Minute

// cmdDemo runs two applications in this process, alice and bob, on
// loopback with the plugin dir: alice calls bob with one stream of every
// loaded type that can be made for an offer, bob answers; the echo stream
// pings, the session holds and unholds when a stream supports it, then
// alice hangs up. Every notification of both is printed as it happens.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var asJSON *bool
	cf, ok := parseFlags("demo", args, stderr, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print notifications as JSON lines")
	})
	if !ok {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	pr := newPrinter(stdout, *asJSON)
	defer pr.Close() // after the applications stop: the defer below runs first
	// No sound card needed: the audio streams run on the null clock.
	doc := config.NewDocument()
	doc.Settings.Audio.InputDevice, doc.Settings.Audio.OutputDevice, doc.Settings.Audio.AlertDevice = "none", "none", "none"
	conf := storage.NewMemory()
	if err := conf.Save(ctx, doc); err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	var apps []*application.Application
	defer func() {
		for _, app := range apps {
			_ = stopApplication(app, stderr)
		}
	}()
	start := func(user string) (*application.Application, *notify.Recorder, error) {
		app := application.New(application.WithUser(user), application.WithPluginDir(cf.pluginDir),
			application.WithLogger(cf.logger(stderr)),
			application.WithListen([]engine.Listen{{Transport: engine.TransportUDP, Address: "127.0.0.1:0"}}))
		apps = append(apps, app)
		pr.label(app, user)
		rec := &notify.Recorder{}
		app.Center().Subscribe(idleObserver{notify.ObserverFunc(func(n notify.Notification) {
			if _, ok := n.Sender.(*session.Session); ok || strings.HasPrefix(n.Name, "MediaStream") || isStreamEvent(n) {
				pr.HandleNotification(n)
			}
			rec.HandleNotification(n)
		}), pr.Idle}, "", nil)
		return app, rec, app.Start(ctx, conf)
	}
	alice, recA, err := start("alice")
	if err == nil {
		var bob *application.Application
		bob, _, err = start("bob")
		if err == nil {
			err = demoCall(ctx, alice, bob, recA, pr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	return 0
}

// isStreamEvent tells a stream type's own notification (EchoStreamGotEcho,
// ChatStreamGotMessage…): JSON data from a plugin.
func isStreamEvent(n notify.Notification) bool {
	_, ok := n.Data.(json.RawMessage)
	return ok
}

// demoCall is the demo's call from alice to bob.
func demoCall(ctx context.Context, alice, bob *application.Application, recA *notify.Recorder, pr *printer) error {
	// A file transfer needs a file to send and a directory to save it in.
	files, err := os.MkdirTemp("", "sipstreams-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(files)
	received := filepath.Join(files, "bob")
	defer bob.Center().Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		if s, ok := n.Sender.(*session.Session); ok && n.Name == session.SIPSessionNewIncoming {
			pr.label(s, "bob's session")
			go func() {
				ff := &fileFlags{}
				if accepted := ff.prepare(ctx, s.ProposedStreams(), received, io.Discard); len(accepted) > 0 {
					_ = s.Accept(accepted)
				}
			}()
		}
	}), session.SIPSessionNewIncoming, nil)()
	types := loadedTypes(alice)
	if len(types) == 0 {
		return fmt.Errorf("no stream plugin loaded from %s (run `make` first)", alice.Registry().Dir())
	}
	call, err := alice.NewCall(ctx, bob.Account().URI)
	if err != nil {
		return err
	}
	defer call.Close()
	s := call.Session()
	pr.label(s, "alice's session")
	var made []string
	var sending session.Stream // the file transfer, if any
	for _, t := range types {
		var opts []application.StreamOption
		if t.Type == filetransfer.Type {
			file, err := demoFile(files)
			if err != nil {
				return err
			}
			opts = append(opts, application.WithParams(filetransfer.Push(file)))
		}
		st, err := call.AddStream(ctx, t.Type, opts...)
		if errors.Is(err, sdk.ErrNotImplemented) || errors.Is(err, sdk.ErrInvalidArgument) {
			pr.say("== %s stream (plugin %s, priority %d): cannot be made for an offer without parameters; left out", t.Type, t.Plugin.Name(), t.Priority)
			continue
		}
		if err != nil {
			return err
		}
		pr.label(st, "alice's "+t.Type)
		if t.Type == filetransfer.Type {
			sending = st
		}
		made = append(made, t.Type)
		pr.say("== %s stream (plugin %s, priority %d)", t.Type, t.Plugin.Name(), t.Priority)
	}
	if len(made) == 0 {
		return errors.New("no stream could be made for the call")
	}
	pr.say("== alice calls %s with %s", bob.Account().URI.String(), strings.Join(made, ", "))
	if err := call.Connect(ctx); err != nil {
		return err
	}
	wait := func(name string) (notify.Notification, error) {
		var got notify.Notification
		err := recA.Wait(ctx, func(ns []notify.Notification) bool {
			for _, n := range ns {
				if n.Sender == s && (n.Name == name || n.Name == session.SIPSessionDidFail) {
					got = n
					return true
				}
			}
			return false
		})
		if err == nil && got.Name == session.SIPSessionDidFail && name != session.SIPSessionDidFail {
			d, _ := got.Data.(session.DidFailData)
			return got, fmt.Errorf("the call failed: %s", failureText(d))
		}
		return got, err
	}
	if _, err := wait(session.SIPSessionDidStart); err != nil {
		return err
	}
	for _, st := range s.Streams() {
		if st.Type() != "echo" {
			continue
		}
		raw, _ := sdk.MarshalJSONValue(map[string]string{"payload": "hello from alice"})
		if _, err := st.Invoke(ctx, &sdk.InvokeRequest{Method: "send", Args: raw}); err != nil {
			return err
		}
		if err := recA.Wait(ctx, func(ns []notify.Notification) bool {
			for _, n := range ns {
				if n.Sender == st && n.Name == "EchoStreamGotEcho" {
					return true
				}
			}
			return false
		}); err != nil {
			return fmt.Errorf("waiting for the echo: %w", err)
		}
	}
	if sending != nil {
		if err := demoTransfer(ctx, recA, bob, sending, pr); err != nil {
			return err
		}
	}
	if holds(s) {
		for _, hold := range []bool{true, false} {
			n := len(holdChanges(recA, s))
			if hold {
				err = s.Hold()
			} else {
				err = s.Unhold()
			}
			if err != nil {
				return err
			}
			if err := recA.Wait(ctx, func([]notify.Notification) bool { return len(holdChanges(recA, s)) > n }); err != nil {
				return fmt.Errorf("waiting for the hold change: %w", err)
			}
			pr.say("== alice %s: on hold %v", map[bool]string{true: "holds", false: "unholds"}[hold], s.OnHold())
		}
	}
	s.End()
	_, err = wait(session.SIPSessionDidEnd)
	return err
}

// loadedTypes returns the application's stream types, by name.
func loadedTypes(app *application.Application) []registry.TypeInfo {
	out := app.Registry().Types()
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// holds tells whether a stream of s supports hold.
func holds(s *session.Session) bool {
	for _, st := range s.Streams() {
		if st.HoldSupported() {
			return true
		}
	}
	return false
}

// holdChanges returns s's SIPSessionDidChangeHoldState notifications.
func holdChanges(rec *notify.Recorder, s *session.Session) []notify.Notification {
	var out []notify.Notification
	for _, n := range rec.All() {
		if n.Sender == s && n.Name == session.SIPSessionDidChangeHoldState {
			out = append(out, n)
		}
	}
	return out
}

// demoFileSize is the size of the file the demo sends.
const demoFileSize = 8 << 20

// demoFile writes a file of random bytes into dir for the demo to send.
func demoFile(dir string) (string, error) {
	b := make([]byte, demoFileSize)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "demo-file.bin")
	return path, os.WriteFile(path, b, 0o600)
}

// demoTransfer waits for the end of alice's file transfer st and of
// bob's receiving end, and prints the verified hash.
func demoTransfer(ctx context.Context, recA *notify.Recorder, bob *application.Application, st session.Stream, pr *printer) error {
	var sent filetransfer.DidEndData
	if err := recA.Wait(ctx, func(ns []notify.Notification) bool {
		for _, n := range ns {
			if n.Sender == st && n.Name == filetransfer.HandlerDidEnd {
				return decodeData(n, &sent)
			}
		}
		return false
	}); err != nil {
		return fmt.Errorf("waiting for the file transfer: %w", err)
	}
	if sent.Error {
		return fmt.Errorf("the file transfer failed: %s", sent.Reason)
	}
	// bob's end: the file in place, its hash checked against the offer.
	var got filetransfer.DidEndData
	for _, bs := range bob.Sessions().Sessions() {
		for _, rs := range streamsOf(bs, filetransfer.Type) {
			_, a, err := filetransfer.ReadAttributes(ctx, rs)
			if err == nil && a.Finished {
				got.Path, got.Hash, got.Verified = a.Path, a.Selector.Hash, true
			}
		}
	}
	if got.Path == "" {
		return errors.New("bob has no file")
	}
	sum, err := fileSHA1(got.Path)
	if err != nil {
		return err
	}
	if sum != sent.Hash || got.Hash != sent.Hash {
		return fmt.Errorf("bob's file %s has hash %s, alice sent %s", got.Path, sum, sent.Hash)
	}
	pr.say("== alice sent %s (%s); bob saved it as %s, verified hash %s", filepath.Base(sent.Path), byteSize(sent.TransferredBytes), got.Path, sum)
	return nil
}

// fileSHA1 is the SHA-1 of a file, as a file selector writes it.
func fileSHA1(path string) (filetransfer.Hash, error) {
	var h filetransfer.Hash
	f, err := os.Open(path)
	if err != nil {
		return h, err
	}
	defer f.Close()
	d := sha1.New() //nolint:gosec // RFC 5547 names SHA-1
	if _, err := io.Copy(d, f); err != nil {
		return h, err
	}
	copy(h[:], d.Sum(nil))
	return h, nil
}

// idleObserver is an Observer with an Idle (notify.IdleObserver).
type idleObserver struct {
	notify.Observer
	idle func()
}

func (o idleObserver) Idle() { o.idle() }
