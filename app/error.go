// Package app holds what every Boxoffice module shares: the error kinds that
// decide how a failure reaches a fan or an app. The modules live in its
// subpackages (event, search, booking, payment, account).
package app

import (
	"errors"
	"fmt"
)

// Error codes. The web layer maps each to one HTTP status; nothing else
// about a failure decides what the client sees.
const (
	ENOTFOUND     = "not_found"    // the thing asked for does not exist (or is not yours)
	EINVALID      = "invalid"      // bad input: the message says what to change
	EUNREADABLE   = "unreadable"   // well-formed, but not something we can act on (a forged ticket code)
	ECONFLICT     = "conflict"     // the request clashes with current state
	EUNAUTHORIZED = "unauthorized" // sign in first
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	EUNSUPPORTED  = "unsupported"  // a body in a format we do not take
	ELIMITED      = "limited"      // too many requests; wait and try again
	EPAYMENT      = "payment"      // the payment did not go through
	EUNAVAILABLE  = "unavailable"  // a dependency is down; try again shortly
	EINTERNAL     = "internal"     // a bug
)

// Error is a failure meant for the user: Code decides the status, Message is
// shown as it is, so it must be written for a person and leak nothing.
type Error struct {
	Code    string
	Message string
	// Reason is a finer, stable code for API clients ("tickets_unavailable");
	// empty means the code's default.
	Reason string
	// Detail carries machine-readable context for API clients, such as the
	// ids of tickets that were taken.
	Detail map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get
// a generic one so that no detail of a bug leaks out.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Something went wrong on our side. Please try again."
}
