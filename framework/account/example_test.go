package account_test

import (
	"fmt"
	"log"

	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
)

// Routing incoming requests to accounts. Nothing is started: FindAccount
// only looks at the loaded settings.
func ExampleManager_FindAccount() {
	eng, err := engine.New(engine.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	m, err := account.NewManager(account.ManagerConfig{Engine: eng})
	if err != nil {
		log.Fatal(err)
	}
	err = m.Load([]config.Account{
		config.NewAccount("alice@example.com"),
		config.NewAccount("bob@example.org"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, ruri := range []string{"sip:alice@example.com", "sip:bob@192.0.2.1", "sip:carol@example.com"} {
		var u sip.Uri
		if err := sip.ParseUri(ruri, &u); err != nil {
			log.Fatal(err)
		}
		fmt.Println(ruri, "->", m.FindAccount(u).ID())
	}
	// Output:
	// sip:alice@example.com -> alice@example.com
	// sip:bob@192.0.2.1 -> bob@example.org
	// sip:carol@example.com -> bonjour@local
}
