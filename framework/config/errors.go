package config

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors of the config package.
var (
	// ErrInvalidSetting is matched (with errors.Is) by every *SettingError:
	// a setting that parsed but whose value is not allowed.
	ErrInvalidSetting = errors.New("config: invalid setting")
	// ErrSyntax is matched (with errors.Is) by every *SyntaxError: text
	// that is not a well-formed configuration file.
	ErrSyntax = errors.New("config: syntax error")
)

// SettingError reports a setting whose value is not allowed. It is what
// the Validate methods return (several are joined with errors.Join when
// more than one setting is wrong).
type SettingError struct {
	// Account is the ID of the account the setting belongs to, or "" for
	// a global setting.
	Account string
	// Key is the setting's dotted name, for example "rtp.port_range".
	Key string
	// Value is the offending value, formatted as in the configuration
	// file.
	Value string
	// Reason says what is wrong and, where it helps, what is allowed.
	Reason string
}

func (e *SettingError) Error() string {
	s := "config: "
	if e.Account != "" {
		s += "account " + e.Account + ": "
	}
	return s + "invalid setting " + e.Key + " = " + strconv.Quote(e.Value) + ": " + e.Reason
}

// Unwrap returns ErrInvalidSetting.
func (e *SettingError) Unwrap() error { return ErrInvalidSetting }

// SyntaxError reports text that Unmarshal cannot read: bad indentation, a
// line that is neither "name = value" nor "group:", an unknown or duplicate
// name, or a value that does not parse as its setting's type.
type SyntaxError struct {
	// File is the name given to Unmarshal (normally the file's path).
	File string
	// Line is the 1-based line number.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error formats the error as "file:line: msg" (or "line N: msg" when File
// is empty), the form editors and compilers use.
func (e *SyntaxError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }
