package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/locale"
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
// decides the status, as every other error's does; page is drawn with
// what to say about it, in the fan's language (pageMessage).
type againError struct {
	err  error
	page func(message string) templ.Component
}

func (e *againError) Error() string { return e.err.Error() }
func (e *againError) Unwrap() error { return e.err }

// showAgain answers err with page, for errors a person can act on; any
// other error goes to the error page. page is given the message in the
// request's language when the answer is written.
func showAgain(err error, page func(message string) templ.Component) error {
	if app.ErrorCode(err) == app.EINTERNAL { // a bug, or the database is away
		return err
	}
	return &againError{err: err, page: page}
}

// localized is an error whose pages say message, already written in the
// request's language; the JSON API still gets the error's own message.
type localized struct {
	err     error
	message string
}

func (e *localized) Error() string { return e.err.Error() }
func (e *localized) Unwrap() error { return e.err }

// localize gives err what pages say about it, in the request's language
// (lang(c)), where the catalogs can say more than pageMessage would.
func localize(err error, message string) error { return &localized{err: err, message: message} }

// speaksEnglish reports whether l is English, in which app errors' own
// messages are shown as they are.
func speaksEnglish(l *locale.Lang) bool { return l.Tag == locale.Fallback }

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
	if _, ran := c.Get(langHowKey).(asked); !ran && !isAPI(c) {
		// Refused before the request got its language (a form that failed
		// its CSRF check, a body too large): the page speaks it all the same.
		_ = s.language(func(echo.Context) error { return nil })(c)
	}
	status, e, said := classify(err)
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
		werr = render(c, status, again.page(pageMessage(lang(c), err, e, said)))
	case isAPI(c):
		werr = c.JSON(status, errorBody(e))
	default:
		l := lang(c)
		werr = render(c, status, templates.ErrorPage(status, titleOf(l, status), pageMessage(l, err, e, said)))
	}
	if werr != nil {
		s.log.Warn("write error response", "request_id", requestID(c), "err", werr)
	}
}

// classify turns any error into a status and a user-facing *app.Error,
// whose message the JSON API gives as it is. said is the catalog message
// that pages show instead, in every language, for the failures that
// classify words itself ("" for the others: see pageMessage).
func classify(err error) (status int, e *app.Error, said string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		// Echo's own errors: no route, wrong method, body too large.
		msg, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, &app.Error{Code: app.ENOTFOUND, Message: "There is no page at this address."}, "errors.no_page"
		case http.StatusMethodNotAllowed:
			return he.Code, &app.Error{Code: app.EINVALID, Reason: "method_not_allowed", Message: "This address does not accept that method."}, "errors.method"
		case http.StatusRequestEntityTooLarge:
			return he.Code, &app.Error{Code: app.EINVALID, Reason: "too_large", Message: "The request is too large."}, "errors.too_large"
		}
		if he.Code < 500 {
			if strings.Contains(msg, "csrf") || strings.Contains(msg, "CSRF") {
				// The CSRF check's own words are for developers.
				said = "errors.reason.csrf"
			}
			return he.Code, &app.Error{Code: app.EINVALID, Message: msg}, said
		}
		return he.Code, &app.Error{Code: app.EINTERNAL, Message: app.ErrorMessage(err)}, "errors.internal"
	}
	code := app.ErrorCode(err)
	if code == app.EINTERNAL && db.TimedOut(err) {
		return http.StatusServiceUnavailable, &app.Error{Code: app.EUNAVAILABLE, Reason: "unavailable",
			Message: "So many fans are booking right now that we could not get to this in time. Try again in a moment."}, "errors.busy"
	}
	if code == app.EINTERNAL && db.Unavailable(err) {
		return http.StatusServiceUnavailable, &app.Error{Code: app.EUNAVAILABLE, Reason: "unavailable",
			Message: "We cannot reach our database just now. Try again in a few seconds."}, "errors.database"
	}
	e = &app.Error{Code: code, Message: app.ErrorMessage(err)}
	var ae *app.Error
	if errors.As(err, &ae) {
		e.Reason, e.Detail = ae.Reason, ae.Detail
	}
	if code == app.EINTERNAL {
		said = "errors.internal"
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, e, said
}

// pageMessage is what a page says about err, in l. English pages show an
// app error's own message, which may name the seat, event or field at
// fault; its words are built as the error happens, in English only, so
// other languages say it from the catalogs by the error's reason (with
// what its Detail tells), else the form field at fault, else its code:
// less precise, but in words the fan reads. A message classify or a
// handler (localize) worded from the catalogs is shown in every language.
func pageMessage(l *locale.Lang, err error, e *app.Error, said string) string {
	if m, ok := errors.AsType[*localized](err); ok {
		return m.message
	}
	if said != "" {
		return l.T(said)
	}
	if speaksEnglish(l) && e.Message != "" {
		return e.Message
	}
	if m, ok := reasonMessage(l, e); ok {
		return m
	}
	if f, _ := e.Detail["field"].(string); f != "" {
		if m, ok := known(l, "errors.field."+f); ok {
			return m
		}
	}
	if m, ok := known(l, "errors.code."+e.Code); ok {
		return m
	}
	return l.T("errors.internal")
}

// errorMessage is what a page says about err in the request's language
// (pageMessage), for a handler that shows an error on a page of its own
// rather than through showAgain or the error page.
func errorMessage(c echo.Context, err error) string {
	_, e, said := classify(err)
	return pageMessage(lang(c), err, e, said)
}

// reasonMessage is the catalog's message for e's reason, if it has one,
// filled in from e.Detail.
func reasonMessage(l *locale.Lang, e *app.Error) (string, bool) {
	id := "errors.reason." + e.Reason
	switch e.Reason {
	case "":
		return "", false
	case "rate_limited", "too_many_attempts":
		secs, ok := e.Detail["retry_after"].(int)
		if !ok {
			return "", false
		}
		return l.T(id, "Wait", waitSentence(l, secs)), true
	case "ticket_limit":
		most, ok1 := e.Detail["limit"].(int)
		left, ok2 := e.Detail["remaining"].(int)
		if !ok1 || !ok2 {
			return "", false
		}
		return l.T(id, "Limit", l.Int(most), "Remaining", l.Int(left)), true
	case "not_on_sale":
		// Not on sale yet, when the error says when; else no longer.
		if raw, ok := e.Detail["on_sale_at"].(string); ok {
			if at, err := time.Parse(time.RFC3339, raw); err == nil {
				loc := time.UTC // the venue's, when the error names it
				if tz, _ := e.Detail["timezone"].(string); tz != "" {
					if zone, err := time.LoadLocation(tz); err == nil {
						loc = zone
					}
				}
				return l.T("errors.on_sale_at", "When", l.DateTime(at, loc)), true
			}
		}
	}
	return known(l, id)
}

// waitSentence tells a fan to wait secs and try again.
func waitSentence(l *locale.Lang, secs int) string {
	if secs >= 120 {
		return l.N("errors.wait_minutes", (secs+59)/60)
	}
	return l.N("errors.wait_seconds", secs)
}

// known is message id in l, and whether the catalogs have it (Lang.T
// answers an unknown ID with the ID).
func known(l *locale.Lang, id string, args ...any) (string, bool) {
	m := l.T(id, args...)
	return m, m != id
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

// titles names an error page by its status (errors.title.*); other
// statuses are a bad request, or from 500 up a failure of ours.
var titles = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusPaymentRequired:       "payment",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnprocessableEntity:   "unreadable",
	http.StatusTooManyRequests:       "limited",
	http.StatusServiceUnavailable:    "unavailable",
}

func titleOf(l *locale.Lang, status int) string {
	key, ok := titles[status]
	switch {
	case ok:
	case status >= 500:
		key = "server_error"
	default:
		key = "bad_request"
	}
	return l.T("errors.title." + key)
}
