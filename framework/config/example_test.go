package config_test

import (
	"errors"
	"fmt"

	"github.com/sipstreams/sipstreams/framework/config"
)

func Example() {
	text := `# sipstreams configuration
user_agent = sipstreams 0.1
default_account = alice@example.com
rtp:
    port_range = 40000-40100
    audio_codec_list = opus, G722, PCMU, PCMA
accounts:
    alice@example.com:
        display_name = Alice
        auth:
            password = secret
        rtp:
            audio_codec_list = PCMU, PCMA
`
	doc, err := config.Unmarshal([]byte(text), "config")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := doc.Validate(); err != nil {
		fmt.Println(err)
		return
	}

	// The settings passed to stream plugins for a call on Alice's account.
	alice, _ := doc.Account(doc.Settings.DefaultAccount)
	flat := alice.Flatten(&doc.Settings)
	for _, key := range []string{"account.id", "rtp.port_range", "rtp.audio_codec_list", "rtp.srtp_encryption", "rtp.timeout", "msrp.transport"} {
		fmt.Printf("%s = %s\n", key, flat[key])
	}

	// Values that do not parse are syntax errors with a line number;
	// values that parse but are not allowed are setting errors.
	_, err = config.Unmarshal([]byte("rtp:\n    port_range = abc\n"), "config")
	fmt.Println(err)
	doc.Settings.RTP.PortRange = config.PortRange{Start: 50001, End: 50500}
	err = doc.Validate()
	fmt.Println(err, errors.Is(err, config.ErrInvalidSetting))

	// Output:
	// account.id = alice@example.com
	// rtp.port_range = 40000-40100
	// rtp.audio_codec_list = PCMU,PCMA
	// rtp.srtp_encryption = opportunistic
	// rtp.timeout = 30
	// msrp.transport = tls
	// config:2: invalid rtp.port_range "abc": want START-END, for example 50000-50500
	// config: invalid setting rtp.port_range = "50001-50500": start must be even (RTP uses the even port of each pair) true
}
