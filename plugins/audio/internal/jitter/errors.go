package jitter

import "errors"

// ErrInvalidConfig means a Config's values are inconsistent.
var ErrInvalidConfig = errors.New("invalid jitter buffer config")
