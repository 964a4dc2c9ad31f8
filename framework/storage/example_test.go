package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/storage"
)

func ExampleNewFile() {
	dir, err := os.MkdirTemp("", "sipstreams-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := storage.NewFile(dir)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Nothing saved yet: the defaults.
	doc, err := s.Load(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("default account:", doc.Settings.DefaultAccount)

	alice := config.NewAccount("alice@example.com")
	alice.Auth.Password = "secret"
	doc.Accounts = append(doc.Accounts, alice)
	doc.Settings.DefaultAccount = alice.ID
	if err := s.Save(ctx, doc); err != nil {
		fmt.Println(err)
		return
	}

	// A broken hand edit is reported with the file and line.
	os.WriteFile(s.Path(), []byte("rtp:\n    port_range = abc\n"), 0o600)
	_, err = s.Load(ctx)
	var syntax *config.SyntaxError
	if errors.As(err, &syntax) {
		fmt.Println("line", syntax.Line, syntax.Msg)
	}
	// Output:
	// default account: bonjour@local
	// line 2 invalid rtp.port_range "abc": want START-END, for example 50000-50500
}
