package codec

import "errors"

// Sentinel errors. Functions wrap them with context; test with [errors.Is].
var (
	// ErrFrameSize means a PCM block or payload has a length the codec
	// cannot take (for example an odd number of samples for G.722, or a
	// block that is not an Opus frame duration).
	ErrFrameSize = errors.New("codec: unsupported frame size")
	// ErrCorruptPayload means a decoder rejected a payload.
	ErrCorruptPayload = errors.New("codec: corrupt payload")
	// ErrInvalidCodec means a codec's [Info] is incomplete or inconsistent.
	ErrInvalidCodec = errors.New("codec: invalid codec description")
	// ErrDuplicateCodec means a registry already holds a codec of that
	// name.
	ErrDuplicateCodec = errors.New("codec: codec already registered")
	// ErrCodecFailed means the codec itself failed (a codec module that
	// trapped, ran too long or out of memory): the encoder or decoder can
	// take no more calls, and the stream using it cannot go on.
	ErrCodecFailed = errors.New("codec: codec failed")
)
