package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sipstreams/sipstreams/registry"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// cmdPluginsLock writes the lock file of the plugin directory: every
// plugin binary that describes itself and every codec module, pinned by
// SHA-256. A binary that does not describe itself is left out (the host
// will refuse it as unlisted) and named on stderr, and so is a directory or
// file others may write; either makes the exit code 1, the lock being
// written all the same.
func cmdPluginsLock(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cf, ok := parseFlags("plugins lock", args, stderr, func(*flag.FlagSet) {})
	if !ok {
		return 2
	}
	lock, problems, err := registry.MakeLock(ctx, append(cf.registryOptions(), registry.WithDir(cf.pluginDir), registry.WithLogger(cf.logger(stderr)))...)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	path := cf.lockPath()
	if err := lock.Write(path); err != nil {
		fmt.Fprintf(stderr, "sipstreams: writing the lock file: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tNAME\tVERSION\tCONTRACT\tSHA-256")
	for _, e := range append(append([]registry.LockEntry(nil), lock.Plugins...), lock.Codecs...) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.File, dash(e.Name), dash(e.Version), dash(e.Contract), e.SHA256)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nlocked %d plugin(s) and %d codec module(s) of %s in %s\n", len(lock.Plugins), len(lock.Codecs), cf.pluginDir, path)
	code := 0
	for _, p := range problems {
		fmt.Fprintf(stderr, "sipstreams: left out of the lock: %v\n", p)
		code = 1
	}
	// What the host would still refuse: files others may write.
	ms, err := registry.VerifyLock(cf.pluginDir, lock, cf.allowWritable)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	for _, m := range ms {
		if errors.Is(m.Err, registry.ErrWritable) {
			fmt.Fprintf(stderr, "sipstreams: the host will refuse %s: %s\n", filepath.Join(cf.pluginDir, m.File), m.Reason)
			code = 1
		}
	}
	return code
}

// cmdPluginsVerify compares the plugin directory with its lock file
// without starting anything: exit 0 when they match, 1 naming each
// difference (or when there is no lock file).
func cmdPluginsVerify(args []string, stdout, stderr io.Writer) int {
	cf, ok := parseFlags("plugins verify", args, stderr, func(*flag.FlagSet) {})
	if !ok {
		return 2
	}
	path := cf.lockPath()
	lock, err := registry.OpenLock(path, cf.allowWritable)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "sipstreams: no lock file %s: the plugins of %s are not pinned (sipstreams plugins lock writes it)\n", path, cf.pluginDir)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	ms, err := registry.VerifyLock(cf.pluginDir, lock, cf.allowWritable)
	if err != nil {
		fmt.Fprintf(stderr, "sipstreams: %v\n", err)
		return 1
	}
	if len(ms) == 0 {
		fmt.Fprintf(stdout, "%s matches %s: %d plugin(s), %d codec module(s)\n", cf.pluginDir, path, len(lock.Plugins), len(lock.Codecs))
		return 0
	}
	for _, m := range ms {
		fmt.Fprintf(stdout, "%s: %s\n", filepath.Join(cf.pluginDir, m.File), m.Reason)
	}
	fmt.Fprintf(stderr, "sipstreams: %s differs from its lock file %s (%d problem(s))\n", cf.pluginDir, path, len(ms))
	return 1
}

// cmdPluginsCheck runs the conformance suite (streamtest.CheckBinary)
// against each plugin binary named, or every plugin of the plugin
// directory when none is: the binary is started as the host starts it and
// driven through the contract. Exit 1 when one fails.
func cmdPluginsCheck(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("plugins check", flag.ContinueOnError)
	fset.SetOutput(stderr)
	cf := &commonFlags{}
	cf.register(fset)
	timeout := fset.Duration("timeout", max(10*time.Second, defaultStartTimeout()), "bound of the plugin's start and of each wait and call of the suite")
	verbose := fset.Bool("log", false, "print every case and log line of the suite, not only its failures")
	paths, err := parseInterspersed(fset, args)
	if err != nil {
		return 2
	}
	if len(paths) == 0 {
		ents, err := os.ReadDir(cf.pluginDir)
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: %v\n", err)
			return 1
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), registry.FilePrefix) && !e.IsDir() {
				paths = append(paths, filepath.Join(cf.pluginDir, e.Name()))
			}
		}
		if len(paths) == 0 {
			fmt.Fprintf(stderr, "sipstreams: no plugins in %s\n", cf.pluginDir)
			return 1
		}
	}
	code := 0
	for _, p := range paths {
		rep := streamtest.CheckBinary(p, streamtest.WithTimeout(*timeout))
		lines := rep.Failures()
		if *verbose {
			lines = rep.Lines
		}
		for _, l := range lines {
			fmt.Fprintf(stdout, "    %s\n", l)
		}
		n := len(rep.Passed())
		if rep.Failed {
			fmt.Fprintf(stdout, "FAIL %s (%d case(s) passed, %d failure(s))\n", p, n, len(rep.Failures()))
			code = 1
		} else {
			fmt.Fprintf(stdout, "PASS %s (%d case(s))\n", p, n)
		}
	}
	return code
}

// warnRefused tells on stderr which plugins reg refused and why (a changed
// or unlisted binary, a writable directory, a bad plugin), so a stream
// type missing from a call is explained.
func warnRefused(reg *registry.Registry, stderr io.Writer) {
	if reg == nil {
		return
	}
	for _, p := range reg.Plugins() {
		if p.State == registry.StateRefused && p.Err != nil {
			fmt.Fprintf(stderr, "sipstreams: refused: %v\n", p.Err)
		}
	}
}
