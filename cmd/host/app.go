package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"os/user"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/application"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/sdk"
)

// appFlags are the flags of the commands that run the application.
type appFlags struct {
	configDir string
	listen    listenList
	user      string
	asJSON    bool
	traceSIP  bool
	traceKeys bool
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configDir, "config-dir", "", "configuration directory (FileStorage); in memory when empty")
	fs.Var(&f.listen, "listen", "listen on `transport:ip:port` (udp, tcp, tls; repeatable; port 0 picks one)")
	fs.StringVar(&f.user, "user", defaultUser(), "user part of the local SIP URI")
	fs.BoolVar(&f.asJSON, "json", false, "print notifications as JSON lines")
	fs.BoolVar(&f.traceSIP, "trace-sip", false, "print every SIP message sent and received (SIPEngineSIPTrace), SRTP keys masked")
	fs.BoolVar(&f.traceKeys, "trace-sip-keys", false, "show the SRTP keys (a=crypto, a=key-mgmt) in the SIP trace instead of masking them")
}

// defaultUser is the login name when it is a valid SIP user, else
// "sipstreams".
func defaultUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" && !strings.ContainsAny(u.Username, " @:;\\/\t") {
		return u.Username
	}
	return "sipstreams"
}

// listenList is a repeatable transport:ip:port flag.
type listenList []engine.Listen

func (l *listenList) String() string {
	parts := make([]string, len(*l))
	for i, x := range *l {
		parts[i] = x.String()
	}
	return strings.Join(parts, " ")
}

func (l *listenList) Set(v string) error {
	x, err := parseListen(v)
	if err != nil {
		return err
	}
	*l = append(*l, x)
	return nil
}

// parseListen reads "udp:127.0.0.1:5060", "tcp:[::1]:0".
func parseListen(v string) (engine.Listen, error) {
	t, addr, ok := strings.Cut(v, ":")
	tr := engine.Transport(strings.ToLower(t))
	if !ok || (tr != engine.TransportUDP && tr != engine.TransportTCP && tr != engine.TransportTLS) {
		return engine.Listen{}, fmt.Errorf("%q is not transport:ip:port (transport udp, tcp or tls)", v)
	}
	return engine.Listen{Transport: tr, Address: addr}, nil
}

// storageFor is FileStorage(dir), or MemoryStorage without a dir.
func storageFor(dir string) (storage.Storage, error) {
	if dir == "" {
		return storage.NewMemory(), nil
	}
	return storage.NewFile(dir)
}

// newApplication builds the application for the flags; listen, if not
// empty, is used when no --listen was given.
func newApplication(cf *commonFlags, af *appFlags, stderr io.Writer, listen []engine.Listen) *application.Application {
	opts := []application.Option{
		application.WithPluginDir(cf.pluginDir),
		application.WithUser(af.user),
		application.WithUserAgent(config.UserAgent(version)),
		application.WithLogger(cf.logger(stderr)),
		application.WithRegistryOptions(cf.registryOptions()...),
		application.WithSIPTrace(af.traceSIP),
		application.WithSIPTraceKeys(af.traceKeys),
	}
	if len(af.listen) > 0 {
		listen = af.listen
	}
	if len(listen) > 0 {
		opts = append(opts, application.WithListen(listen))
	}
	return application.New(opts...)
}

// stopApplication stops app (bounded), prints what is left and closes the
// center.
func stopApplication(app *application.Application, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := app.Stop(ctx)
	if errors.Is(err, application.ErrNotRunning) {
		err = nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
	}
	_ = app.Center().Flush(ctx)
	app.Center().Close()
	return err
}

// readLines sends stdin's lines on the returned channel, which is closed
// at EOF. The reader stops sending when done is closed.
func readLines(r io.Reader, done <-chan struct{}) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSpace(sc.Text()):
			case <-done:
				return
			}
		}
	}()
	return lines
}

// invoke runs "/invoke [TYPE.]METHOD [JSON-ARGS]" (rest is what follows
// /invoke) on every active stream of s, or only on those of TYPE, printing
// each result.
func invoke(ctx context.Context, s *session.Session, rest string, pr *printer, stderr io.Writer) {
	method, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
	args = strings.TrimSpace(args)
	if method == "" || (args != "" && !json.Valid([]byte(args))) {
		fmt.Fprintln(stderr, "sipstreams: usage: /invoke [TYPE.]METHOD [JSON-ARGS]")
		return
	}
	streams := s.Streams()
	if typ, m, ok := strings.Cut(method, "."); ok {
		method = m
		var only []session.Stream
		for _, st := range streams {
			if st.Type() == typ {
				only = append(only, st)
			}
		}
		if len(only) == 0 {
			fmt.Fprintf(stderr, "sipstreams: /invoke: the session has no active %s stream\n", typ)
			return
		}
		streams = only
	}
	if len(streams) == 0 {
		fmt.Fprintln(stderr, "sipstreams: /invoke: the session has no active stream")
		return
	}
	for _, st := range streams {
		ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := st.Invoke(ictx, &sdk.InvokeRequest{Method: method, Args: json.RawMessage(args)})
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: /invoke %s on the %s stream: %v\n", method, st.Type(), err)
			continue
		}
		var result any
		if res != nil && len(res.Result) > 0 {
			_ = json.Unmarshal(res.Result, &result)
		}
		pr.event("invoke", map[string]any{"stream": st.Type(), "method": method, "result": result},
			"%s.%s -> %s", st.Type(), method, strings.TrimSpace(string(resultText(res))))
	}
}

func resultText(res *sdk.InvokeResponse) []byte {
	if res == nil || len(res.Result) == 0 {
		return []byte("ok")
	}
	return res.Result
}
