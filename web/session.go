package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/templates"
)

// sessionCookie holds the browser's session token.
const sessionCookie = "boxoffice_session"

const userKey = "user"

// authenticate finds who is asking: a session cookie (pages) or a bearer
// token (the API). Nobody signed in is fine here; handlers that need a user
// say so with requireUser. A signed-in fan who picks a language with the
// switcher (?lang=, see language) has their mail written in it from then on.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := bearerToken(c)
		if ck, err := c.Cookie(sessionCookie); err == nil && !isAPI(c) {
			token = ck.Value
		}
		if token != "" {
			u, err := s.accounts.Authenticate(c.Request().Context(), token)
			switch {
			case err == nil:
				c.Set(userKey, &u)
				if picked, ok := locale.Default().Get(c.QueryParam("lang")); ok && !isAPI(c) {
					s.rememberLanguage(c, &u, picked)
				}
			case app.ErrorCode(err) != app.EUNAUTHORIZED:
				return err
			}
		}
		return next(c)
	}
}

// rememberLanguage keeps l as the language u's mail is written in, when it
// is not already. Failing to is no reason to fail the request: the mail
// goes out in the language remembered before.
func (s *Server) rememberLanguage(c echo.Context, u *account.User, l *locale.Lang) {
	if u.Language == l.Code {
		return
	}
	if err := s.accounts.SetLanguage(c.Request().Context(), u.ID, l.Code); err != nil {
		s.log.Warn("remember a fan's language", "request_id", requestID(c), "user_id", u.ID, "language", l.Code, "err", err)
		return
	}
	u.Language = l.Code
}

// rememberNewFansLanguage is rememberLanguage, at sign-up, of the language
// the request asked for, by the fan's choice or their browser's (an app's
// Accept-Language too), not the English a request that names none gets.
func (s *Server) rememberNewFansLanguage(c echo.Context, u *account.User) {
	if l, how := askedLanguage(c); how != askedNone {
		s.rememberLanguage(c, u, l)
	}
}

// rememberChosenLanguage is rememberLanguage, at sign-in, of a language the
// fan chose with the switcher (not their browser's: signing in on another
// device, in another language, must not change where their mail goes).
func (s *Server) rememberChosenLanguage(c echo.Context, u *account.User) {
	if l, how := askedLanguage(c); how == askedByChoice {
		s.rememberLanguage(c, u, l)
	}
}

// bearerToken is the API's session token, from Authorization: Bearer.
func bearerToken(c echo.Context) string {
	if h := c.Request().Header.Get("Authorization"); isAPI(c) && strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	return ""
}

// pageContext hands templates what every page shows: the form token, who is
// signed in, and where the page is (to come back to after signing in).
func pageContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := templates.Request{Path: c.Request().URL.RequestURI()}
		r.CSRF, _ = c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
		if u := currentUser(c); u != nil {
			r.UserName = u.Name
			if r.UserName == "" {
				r.UserName = u.Email
			}
		}
		c.SetRequest(c.Request().WithContext(templates.WithRequest(c.Request().Context(), r)))
		return next(c)
	}
}

func currentUser(c echo.Context) *account.User {
	u, _ := c.Get(userKey).(*account.User)
	return u
}

// requireUser returns the signed-in user, or an error: 401 for the API, a
// trip to the log-in page (and back to next) for pages.
func requireUser(c echo.Context, next string) (*account.User, error) {
	if u := currentUser(c); u != nil {
		return u, nil
	}
	if isAPI(c) {
		return nil, &app.Error{Code: app.EUNAUTHORIZED, Reason: "unauthorized", Message: "Send a session token: Authorization: Bearer <token> (POST /api/v1/sessions gives one)."}
	}
	return nil, &loginRedirect{next: next}
}

// loginRedirect is an error that the error handler turns into a redirect
// to the log-in page. why names one of loginReasons.
type loginRedirect struct{ next, why string }

func (e *loginRedirect) Error() string { return "log in first" }

func (e *loginRedirect) url() string {
	v := url.Values{"next": {e.next}}
	if e.why != "" {
		v.Set("why", e.why)
	}
	return "/login?" + v.Encode()
}

// loginReasons are the messages (catalog ids) the log-in page may show
// above its form, by the code in its why parameter: a code, not the text,
// so that nobody can put words of their own on our page through a link.
var loginReasons = map[string]string{
	"seats": "account.why_seats",
}

// loginReason is the message of the request's why parameter, if any.
func loginReason(c echo.Context) string {
	if id, ok := loginReasons[c.QueryParam("why")]; ok {
		return lang(c).T(id)
	}
	return ""
}

// safeNext keeps a post-login destination on this site. It reads next as
// a browser would (which drops tabs and line breaks anywhere in a URL and
// takes a backslash for a slash, so that "/\t/evil.example" is
// "//evil.example") and accepts only a path on this host: no scheme, no
// host, no other control characters.
func safeNext(next string) string {
	cleaned := strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return -1
		case r == '\\':
			return '/'
		}
		return r
	}, next)
	if strings.ContainsFunc(cleaned, func(r rune) bool { return r < 0x20 || r == 0x7f }) ||
		!strings.HasPrefix(cleaned, "/") || strings.HasPrefix(cleaned, "//") {
		return "/"
	}
	u, err := url.Parse(cleaned)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return cleaned
}

// setSession gives the browser its session cookie: HttpOnly (no script
// reads it), SameSite=Lax (not sent on cross-site posts), Secure over HTTPS.
func setSession(c echo.Context, sess *account.Session) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https",
	})
	if sess.Device != "" {
		c.SetCookie(&http.Cookie{
			Name: deviceCookie, Value: sess.Device, Path: "/login", MaxAge: int(account.DeviceTTL.Seconds()),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https",
		})
	}
}

// deviceCookie holds the token by which a browser that signed in before
// is known at its next sign-in (so that others guessing the fan's password
// cannot keep the fan out).
const deviceCookie = "boxoffice_device"

func deviceToken(c echo.Context) string {
	if ck, err := c.Cookie(deviceCookie); err == nil {
		return ck.Value
	}
	return ""
}

func clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
}

// csrf protects every form: browsers' Sec-Fetch-Site first, which lets
// through only posts from this very origin (a sibling subdomain is
// same-site, not same-origin, and may plant cookies, so it is refused
// too); and for browsers that do not send it, a token in a cookie that the
// form must repeat. The API (bearer tokens, no cookies) and Stripe's
// webhook are exempt.
func csrf() echo.MiddlewareFunc {
	refused := &app.Error{Code: app.EFORBIDDEN, Reason: "csrf",
		Message: "This form could not be verified: it may be old, or sent from another site. Go back, reload the page and try again."}
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhooks/") || strings.HasPrefix(p, "/static/")
		},
		// Called for state-changing requests that are same-site or
		// cross-site: neither gets in.
		AllowSecFetchSiteFunc: func(echo.Context) (bool, error) { return false, refused },
		TokenLookup:           "form:_csrf",
		CookieName:            "boxoffice_csrf",
		CookiePath:            "/",
		CookieHTTPOnly:        true,
		CookieSameSite:        http.SameSiteLaxMode,
		ErrorHandler:          func(error, echo.Context) error { return refused },
	})
}
