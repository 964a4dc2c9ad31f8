package sdpaudio

import "errors"

// ErrInvalidMedia means an m-line is not a usable RTP audio m-line.
var ErrInvalidMedia = errors.New("sdpaudio: invalid audio media")
