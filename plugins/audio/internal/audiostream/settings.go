package audiostream

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/device"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/mixer"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/pcm"
	"github.com/sipstreams/sipstreams/plugins/audio/internal/ports"
	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
	"github.com/sipstreams/sipstreams/sdk/codec"
)

// defaultTimeout is the reference's rtp.timeout.
const defaultTimeout = 30 * time.Second

// settings are an account's audio settings, parsed and defaulted.
type settings struct {
	codecs        []codec.Codec // in rtp.audio_codec_list order
	codecList     []string      // rtp.audio_codec_list
	codecDir      string        // audio.codec_directory ("" default)
	portRange     ports.Range
	srtp          string
	timeout       time.Duration
	useICE        bool
	stunServers   []string
	input, output string
	alert         string
	recordingsDir string
	sampleRate    int
	inputFile     string
	maxStreams    int
	sharedSockets int // rtp.shared_sockets: 0 is a pair per stream
}

// parseSettings reads the account's settings, the codecs from the codec
// directory's catalog as it is now. A malformed value gives an error
// wrapping sdk.ErrInvalidArgument that names the setting.
func (p *plugin) parseSettings(ctx context.Context, acc *sdk.Account) (settings, error) {
	st, err := parseSettings(acc, nil)
	if err != nil {
		return st, err
	}
	return st, p.resolveCodecs(ctx, &st)
}

// resolveCodecs sets st.codecs from rtp.audio_codec_list and the codec
// directory's current modules.
func (p *plugin) resolveCodecs(ctx context.Context, st *settings) error {
	return st.resolve(p.catalog(st.codecDir).Registry(ctx))
}

// resolve sets st.codecs from the codec list and reg.
func (st *settings) resolve(reg *codec.Registry) error {
	st.codecs = reg.Ordered(st.codecList)
	if len(st.codecs) == 0 {
		return sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q names no supported codec", sdkaudio.SettingCodecList, strings.Join(st.codecList, ","))
	}
	return nil
}

// parseSettings reads the account's settings; with reg, the codecs too
// (else the caller resolves them).
func parseSettings(acc *sdk.Account, reg *codec.Registry) (settings, error) {
	var st settings
	list := strings.Split(acc.Setting(sdkaudio.SettingCodecList, strings.Join(codec.DefaultOrder(), ",")), ",")
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	st.codecList = list
	st.codecDir = acc.Setting(sdkaudio.SettingCodecDirectory, "")
	if reg != nil {
		if err := st.resolve(reg); err != nil {
			return st, err
		}
	}
	st.portRange = ports.DefaultRange
	if v := acc.Setting(sdkaudio.SettingPortRange, ""); v != "" {
		r, err := ports.ParseRange(v)
		if err != nil {
			return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q: %v", sdkaudio.SettingPortRange, v, err)
		}
		st.portRange = r
	}
	st.srtp = acc.Setting(sdkaudio.SettingSRTP, sdkaudio.SRTPOpportunistic)
	switch st.srtp {
	case sdkaudio.SRTPDisabled, sdkaudio.SRTPOpportunistic, sdkaudio.SRTPOptional, sdkaudio.SRTPMandatory:
	default:
		return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q is not one of disabled, opportunistic, sdes_optional, sdes_mandatory", sdkaudio.SettingSRTP, st.srtp)
	}
	st.timeout = defaultTimeout
	if v := acc.Setting(sdkaudio.SettingTimeout, ""); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs > 86400 {
			return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q is not a number of seconds", sdkaudio.SettingTimeout, v)
		}
		st.timeout = time.Duration(secs * float64(time.Second))
	}
	if v := acc.Setting(sdkaudio.SettingUseICE, "false"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q is not a boolean", sdkaudio.SettingUseICE, v)
		}
		st.useICE = b
	}
	for _, s := range strings.Split(acc.Setting(sdkaudio.SettingSTUNServers, ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !strings.HasPrefix(s, "stun:") {
				s = "stun:" + s
			}
			st.stunServers = append(st.stunServers, s)
		}
	}
	st.input = acc.Setting(sdkaudio.SettingInputDevice, device.SystemDefault)
	st.output = acc.Setting(sdkaudio.SettingOutputDevice, device.SystemDefault)
	st.alert = acc.Setting(sdkaudio.SettingAlertDevice, device.SystemDefault)
	st.recordingsDir = acc.Setting(sdkaudio.SettingRecordingsDirectory, "")
	st.inputFile = acc.Setting(sdkaudio.SettingInputFile, "")
	st.maxStreams = sdkaudio.DefaultMaxStreams
	if v := acc.Setting(sdkaudio.SettingMaxStreams, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q is not a positive number of streams", sdkaudio.SettingMaxStreams, v)
		}
		st.maxStreams = n
	}
	if v := acc.Setting(sdkaudio.SettingSharedSockets, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > sdkaudio.MaxSharedSockets {
			return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q is not a number of socket pairs from 0 to %d", sdkaudio.SettingSharedSockets, v, sdkaudio.MaxSharedSockets)
		}
		st.sharedSockets = n
	}
	st.sampleRate = mixer.DefaultSampleRate
	if v := acc.Setting(sdkaudio.SettingSampleRate, ""); v != "" {
		rate, err := strconv.Atoi(v)
		if err == nil {
			err = pcm.CheckRate(rate)
		}
		if err != nil {
			return st, sdk.Errorf(sdk.ErrInvalidArgument, "%s=%q: not a supported sample rate", sdkaudio.SettingSampleRate, v)
		}
		st.sampleRate = rate
	}
	return st, nil
}
