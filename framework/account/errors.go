package account

import (
	"errors"
	"fmt"
)

// Sentinel errors of the account package.
var (
	// ErrNotFound means no loaded account has the given ID.
	ErrNotFound = errors.New("account: not found")
	// ErrNotLoaded is returned by [Manager.Start] before [Manager.Load]
	// (the reference's AccountManager refuses to work before load()).
	ErrNotLoaded = errors.New("account: accounts not loaded")
	// ErrLoaded is returned by a second [Manager.Load].
	ErrLoaded = errors.New("account: accounts already loaded")
	// ErrRegistration matches every *RegistrationError.
	ErrRegistration = errors.New("account: registration failed")
	// ErrTimeout means the registrar did not answer within
	// [ManagerConfig.RequestTimeout].
	ErrTimeout = errors.New("account: no answer from the registrar")
)

// RegistrationError is a registration refused by a final SIP response
// (anything but a 2xx or a digest challenge that could be answered), or a
// challenge that could not be answered.
type RegistrationError struct {
	// Code and Reason are the status line of the final response.
	Code   int
	Reason string
}

func (e *RegistrationError) Error() string {
	return fmt.Sprintf("account: registration failed: %d %s", e.Code, e.Reason)
}

// Unwrap returns [ErrRegistration].
func (e *RegistrationError) Unwrap() error { return ErrRegistration }
