package msrp

// MSRP status codes (RFC 4975 §10, RFC 4976 §8).
const (
	StatusOK                  = 200
	StatusBadRequest          = 400
	StatusUnauthorized        = 401 // RFC 4976
	StatusForbidden           = 403
	StatusRequestTimeout      = 408
	StatusStopSending         = 413
	StatusUnsupportedMedia    = 415
	StatusIntervalOutOfBounds = 423
	StatusNoSuchSession       = 481
	StatusNotImplemented      = 501
	StatusWrongConnection     = 506
)

// StatusText returns the RFC reason phrase for a status code, or "" when the
// code is not known.
func StatusText(code int) string {
	switch code {
	case StatusOK:
		return "OK"
	case StatusBadRequest:
		return "Bad Request"
	case StatusUnauthorized:
		return "Unauthorized"
	case StatusForbidden:
		return "Forbidden"
	case StatusRequestTimeout:
		return "Request Timeout"
	case StatusStopSending:
		return "Stop Sending"
	case StatusUnsupportedMedia:
		return "Unsupported Media Type"
	case StatusIntervalOutOfBounds:
		return "Interval Out-of-Bounds"
	case StatusNoSuchSession:
		return "No Such Session"
	case StatusNotImplemented:
		return "Method Not Implemented"
	case StatusWrongConnection:
		return "Wrong Connection"
	}
	return ""
}
