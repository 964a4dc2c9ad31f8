package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/sdk"
)

var echoBin string

func TestMain(m *testing.M) {
	dir, bin, err := plugintest.EchoDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the echo plugin:", err)
		os.Exit(1)
	}
	echoBin = bin
	code := m.Run()
	os.RemoveAll(dir)
	for _, d := range []string{flowDir, mediaDir, pyEchoDir, bigDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func pluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(echoBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sipstreams-plugin-echo"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sipstreams-plugin-broken"), []byte("#!/bin/sh\necho nope\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestUsageAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, ""},
		{[]string{"version"}, 0, fmt.Sprintf("plugin contract %d.%d", sdk.ContractMajor, sdk.ContractMinor)},
		{[]string{"help"}, 0, "commands:"},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"audio", "--help"}, 0, "usage: sipstreams audio"},
	} {
		code, out, _ := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("%v: code %d out %q", tc.args, code, out)
		}
	}
}

func TestPlugins(t *testing.T) {
	dir := pluginDir(t)
	code, out, errs := runCLI(t, "plugins", "--plugin-dir", dir)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, want := range []string{"sipstreams-plugin-echo", "echo (5)", "ready", fmt.Sprintf("%d.%d", sdk.ContractMajor, sdk.ContractMinor), "sipstreams-plugin-broken refused", "did not print a manifest"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "plugins", "--json", "--plugin-dir", dir)
	if code != 0 {
		t.Fatal(code)
	}
	var rows []pluginRow
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r pluginRow
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[1].File != "sipstreams-plugin-echo" || rows[1].State != "ready" || len(rows[1].SHA256) != 64 || rows[0].State != "refused" {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestPluginDirFromEnv(t *testing.T) {
	dir := pluginDir(t)
	t.Setenv("SIPSTREAMS_PLUGIN_DIR", dir)
	_, out, _ := runCLI(t, "plugins")
	if !strings.Contains(out, "plugin directory: "+dir) {
		t.Fatalf("env dir not used:\n%s", out)
	}
}

func TestDemo(t *testing.T) {
	dir := pluginDir(t)
	code, out, errs := runCLI(t, "demo", "--plugin-dir", dir)
	if code != 0 {
		t.Fatalf("code %d: %s\n%s", code, errs, out)
	}
	for _, want := range []string{"== echo stream", "== alice calls sip:bob@127.0.0.1", "MediaStreamDidStart", "EchoStreamGotEcho",
		"bob's session SIPSessionDidChangeHoldState {\"on_hold\":true", "== alice holds: on hold true", "== alice unholds: on hold false", "bob's session SIPSessionDidEnd", "MediaStreamDidEnd"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
