package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/templates"
)

// statusClientClosed is the status logged for a request whose client left.
const statusClientClosed = 499

// statusOf maps each error code to its HTTP status.
var statusOf = map[string]int{
	app.ENOTFOUND:     http.StatusNotFound,
	app.EINVALID:      http.StatusBadRequest,
	app.EUNREADABLE:   http.StatusUnprocessableEntity,
	app.ECONFLICT:     http.StatusConflict,
	app.EUNAUTHORIZED: http.StatusUnauthorized,
	app.EFORBIDDEN:    http.StatusForbidden,
	app.ELIMITED:      http.StatusTooManyRequests,
	app.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	app.EPAYMENT:      http.StatusPaymentRequired,
	app.EUNAVAILABLE:  http.StatusServiceUnavailable,
	app.EINTERNAL:     http.StatusInternalServerError,
}

// reasonOf is the default API error code of each error code.
var reasonOf = map[string]string{
	app.ENOTFOUND: "not_found",
	app.EINVALID:  "invalid_request",
}

// againError is a failure shown on the page the fan came from (the form
// again, with what to fix) rather than on the error page. Its error
// decides the status, as every other error's does; page is drawn with it.
type againError struct {
	err  error
	page templ.Component
}

func (e *againError) Error() string { return e.err.Error() }
func (e *againError) Unwrap() error { return e.err }

// showAgain answers err with page, for errors a person can act on; any
// other error goes to the error page.
func showAgain(err error, page func(message string) templ.Component) error {
	if app.ErrorCode(err) == app.EINTERNAL { // a bug, or the database is away
		return err
	}
	return &againError{err: err, page: page(app.ErrorMessage(err))}
}

// handleError is the one place that turns an error into a response: an HTML
// error page for browsers, an error object for the JSON API. Only server
// errors are logged as errors.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away before the answer was ready: nobody to tell,
		// and no fault of ours. Logged with nginx's "client closed request".
		c.Response().WriteHeader(statusClientClosed)
		return
	}
	// The request's deadline may have passed (that may be the error) or
	// been cancelled on the way out; the answer is written all the same.
	c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
	var login *loginRedirect
	if errors.As(err, &login) {
		_ = c.Redirect(http.StatusSeeOther, login.url())
		return
	}
	status, e := classify(err)
	if status >= 500 {
		s.log.Error("request failed", "request_id", requestID(c), "method", c.Request().Method,
			"uri", c.Request().RequestURI, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "5")
	}
	if after, ok := e.Detail["retry_after"].(int); ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(after))
	}

	var werr error
	var again *againError
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case errors.As(err, &again) && !isAPI(c):
		werr = render(c, status, again.page)
	case isAPI(c):
		werr = c.JSON(status, errorBody(e))
	default:
		werr = render(c, status, templates.ErrorPage(status, titleOf(status), e.Message))
	}
	if werr != nil {
		s.log.Warn("write error response", "request_id", requestID(c), "err", werr)
	}
}

// classify turns any error into a status and a user-facing *app.Error.
func classify(err error) (int, *app.Error) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		// Echo's own errors: no route, wrong method, body too large.
		msg, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, &app.Error{Code: app.ENOTFOUND, Message: "There is no page at this address."}
		case http.StatusMethodNotAllowed:
			return he.Code, &app.Error{Code: app.EINVALID, Reason: "method_not_allowed", Message: "This address does not accept that method."}
		case http.StatusRequestEntityTooLarge:
			return he.Code, &app.Error{Code: app.EINVALID, Reason: "too_large", Message: "The request is too large."}
		}
		if he.Code < 500 {
			return he.Code, &app.Error{Code: app.EINVALID, Message: msg}
		}
		return he.Code, &app.Error{Code: app.EINTERNAL, Message: app.ErrorMessage(err)}
	}
	code := app.ErrorCode(err)
	if code == app.EINTERNAL && db.TimedOut(err) {
		return http.StatusServiceUnavailable, &app.Error{Code: app.EUNAVAILABLE, Reason: "unavailable",
			Message: "So many fans are booking right now that we could not get to this in time. Try again in a moment."}
	}
	if code == app.EINTERNAL && db.Unavailable(err) {
		return http.StatusServiceUnavailable, &app.Error{Code: app.EUNAVAILABLE, Reason: "unavailable",
			Message: "We cannot reach our database just now. Try again in a few seconds."}
	}
	e := &app.Error{Code: code, Message: app.ErrorMessage(err)}
	var ae *app.Error
	if errors.As(err, &ae) {
		e.Reason, e.Detail = ae.Reason, ae.Detail
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, e
}

type errorJSON struct {
	Error map[string]any `json:"error"`
}

func errorBody(e *app.Error) errorJSON {
	body := map[string]any{}
	for k, v := range e.Detail {
		body[k] = v
	}
	reason := e.Reason
	if reason == "" {
		if reason = reasonOf[e.Code]; reason == "" {
			reason = e.Code
		}
	}
	body["code"] = reason
	body["message"] = e.Message
	return errorJSON{Error: body}
}

func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

func titleOf(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusBadRequest:
		return "Something is wrong with that request"
	case http.StatusServiceUnavailable:
		return "We are busy"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return http.StatusText(status)
}
