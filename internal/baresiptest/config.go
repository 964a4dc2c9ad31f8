package baresiptest

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// modules returns the baresip modules every instance loads, in load
// order: the stdio UI (commands on standard input; menu, loaded as an
// application module, provides the commands), the codecs, SRTP, the sine
// and WAV sources, the aubridge player (a sink that needs no sound
// device) and sndfile (records each call).
func modules() []string {
	return []string{
		"stdio.so", "g711.so", "g722.so", "g726.so", "opus.so", "srtp.so",
		"ausine.so", "aufile.so", "aubridge.so", "sndfile.so",
	}
}

// settings is what config and accounts are rendered from.
type settings struct {
	dir            string // the config directory (-f)
	port           int    // SIP port on 127.0.0.1
	rtpMin, rtpMax int
	toneHz         int    // ausine frequency, when wav is empty
	wav            string // aufile source
	name           string // aubridge device names
	autoAnswer     bool
	codecs         []string
	mediaEnc       string
	configExtra    []string
	accountExtra   []string
}

// configFile renders baresip's config file. ausine only produces 48 kHz
// stereo, hence ausrc_srate and ausrc_channels; baresip resamples to
// the codec. The player is an aubridge device that no source reads, so
// no sound device is needed; nothing listens on a fixed port (no cons,
// httpd or ctrl_tcp module).
func (s settings) configFile() string {
	src := "ausine," + strconv.Itoa(s.toneHz)
	if s.wav != "" {
		src = "aufile," + s.wav
	}
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%-19s %s\n", k, v) }
	b.WriteString("# written by internal/baresiptest\n")
	line("poll_method", "epoll")
	line("sip_listen", "127.0.0.1:"+strconv.Itoa(s.port))
	line("net_interface", "127.0.0.1")
	line("rtp_ports", fmt.Sprintf("%d-%d", s.rtpMin, s.rtpMax))
	line("rtcp_mux", "no")
	line("call_local_timeout", "30")
	line("audio_source", src)
	line("audio_player", "aubridge,"+s.name+"-play")
	line("audio_alert", "aubridge,"+s.name+"-alert")
	if s.wav == "" {
		line("ausrc_srate", "48000")
		line("ausrc_channels", "2")
	}
	line("snd_path", filepath.Join(s.dir, "recordings"))
	line("module_path", "/usr/lib/baresip/modules")
	for _, m := range modules() {
		line("module", m)
	}
	line("module_tmp", "account.so")
	line("module_app", "menu.so")
	for _, l := range s.configExtra {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// accountsFile renders baresip's accounts file: one account
// sip:baresip@127.0.0.1 that never registers.
func (s settings) accountsFile() string {
	params := []string{"regint=0"}
	if s.autoAnswer {
		params = append(params, "answermode=auto")
	} else {
		params = append(params, "answermode=manual")
	}
	if len(s.codecs) > 0 {
		params = append(params, "audio_codecs="+strings.Join(s.codecs, ","))
	}
	if s.mediaEnc != "" {
		params = append(params, "mediaenc="+s.mediaEnc)
	}
	params = append(params, s.accountExtra...)
	return "<sip:baresip@127.0.0.1>;" + strings.Join(params, ";") + "\n"
}
