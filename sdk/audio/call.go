package audio

import (
	"context"

	"github.com/sipstreams/sipstreams/sdk"
)

// SendDTMF sends digit (one of 0-9 * # A-D) as an RFC 4733 telephone-event.
// It fails with sdk.ErrIllegalState before the stream started and with
// sdk.ErrInvalidArgument for another digit. As in the reference, nothing is
// sent, without error, when the remote did not negotiate telephone-event.
func SendDTMF(ctx context.Context, s sdk.Invoker, digit string) error {
	_, err := sdk.Call[struct{}](ctx, s, MethodSendDTMF, SendDTMFArgs{Digit: digit})
	return err
}

// StartRecording records both directions of the stream, mixed, to a WAV
// file and returns its name. An empty filename records under the
// account's recordings directory. Only one recording runs at a time.
func StartRecording(ctx context.Context, s sdk.Invoker, filename string) (string, error) {
	r, err := sdk.Call[RecordingResult](ctx, s, MethodStartRecording, RecordingArgs{Filename: filename})
	return r.Filename, err
}

// StopRecording finishes the current recording and returns its file name.
func StopRecording(ctx context.Context, s sdk.Invoker) (string, error) {
	r, err := sdk.Call[RecordingResult](ctx, s, MethodStopRecording, nil)
	return r.Filename, err
}

// GetStatistics returns the stream's RTP and RTCP figures.
func GetStatistics(ctx context.Context, s sdk.Invoker) (Statistics, error) {
	return sdk.Call[Statistics](ctx, s, MethodStatistics, nil)
}

// SetInput makes the WAV file the stream's input instead of the microphone,
// played loops times (0 forever); an empty file goes back to the
// microphone.
func SetInput(ctx context.Context, s sdk.Invoker, file string, loops int) error {
	_, err := sdk.Call[struct{}](ctx, s, MethodSetInput, SetInputArgs{File: file, Loops: loops})
	return err
}

// ReadAttributes returns the stream's generic attributes and its own.
func ReadAttributes(ctx context.Context, s sdk.Stream) (*sdk.Attributes, Attributes, error) {
	return sdk.ReadAttributes[Attributes](ctx, s)
}

// ListDevices lists the sound devices and the ones in use.
func ListDevices(ctx context.Context, p sdk.Invoker) (DeviceList, error) {
	return sdk.Call[DeviceList](ctx, p, MethodListDevices, nil)
}

// SelectDevices switches the voice mixer's input and output and the alert
// mixer's output; an empty name keeps the device. A device that cannot be
// opened leaves its mixer on the null clock (Devices.OnNull) without an
// error, as calls in progress must go on.
func SelectDevices(ctx context.Context, p sdk.Invoker, input, output, alert string) (Devices, error) {
	return sdk.Call[Devices](ctx, p, MethodSelectDevices, SelectDevicesArgs{Input: input, Output: output, Alert: alert})
}

// PlayWAV plays a WAV file on the alert device loops times (0: until ctx
// ends) and returns once it has played.
func PlayWAV(ctx context.Context, p sdk.Invoker, file string, loops int) error {
	_, err := sdk.Call[struct{}](ctx, p, MethodPlayWAV, PlayWAVArgs{File: file, Loops: loops})
	return err
}

// PlayTones plays tones on the alert device and returns once they have
// played.
func PlayTones(ctx context.Context, p sdk.Invoker, tones []Tone) error {
	_, err := sdk.Call[struct{}](ctx, p, MethodPlayTones, PlayTonesArgs{Tones: tones})
	return err
}

// ListCodecs lists the audio plugin's codecs — built-in ones and those of
// the modules in directory ("" for the plugin's default codec directory) —
// and the module files it refused, with the reasons.
func ListCodecs(ctx context.Context, p sdk.Invoker, directory string) (CodecList, error) {
	return sdk.Call[CodecList](ctx, p, MethodListCodecs, ListCodecsArgs{Directory: directory})
}

// RefreshCodecs makes the stream take the codec directory's current
// modules into its codec list (rtp.audio_codec_list resolved again), for
// its next offer: a re-INVITE (session.Session.Renegotiate) then moves the
// call onto a codec that was just added.
func RefreshCodecs(ctx context.Context, s sdk.Invoker) (Codecs, error) {
	return sdk.Call[Codecs](ctx, s, MethodRefreshCodecs, nil)
}
