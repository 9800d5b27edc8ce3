package web

import (
	"errors"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/templates"
)

func (s *Server) handleSignupForm(c echo.Context) error {
	return ok(c, templates.Auth(templates.AuthForm{SignUp: true, Next: safeNext(c.QueryParam("next")), Message: loginReason(c)}))
}

func (s *Server) handleLoginForm(c echo.Context) error {
	return ok(c, templates.Auth(templates.AuthForm{Next: safeNext(c.QueryParam("next")), Message: loginReason(c)}))
}

// handleSignup creates the account, signs the fan in and sends them on.
// Their mail will speak the language they signed up in.
func (s *Server) handleSignup(c echo.Context) error {
	ctx := c.Request().Context()
	f := templates.AuthForm{SignUp: true, Email: c.FormValue("email"), Name: c.FormValue("name"), Next: safeNext(c.FormValue("next"))}
	password := c.FormValue("password")
	u, err := s.accounts.SignUp(ctx, f.Email, password, f.Name, c.RealIP())
	if err != nil {
		return authFailed(f, err)
	}
	s.rememberNewFansLanguage(c, &u)
	sess, err := s.accounts.LogInOnDevice(ctx, f.Email, password, c.RealIP(), deviceToken(c))
	if err != nil {
		return err
	}
	if err := s.startSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// handleLogin checks the password and sends the fan back where they were.
// From then on their mail speaks the language they signed in with.
func (s *Server) handleLogin(c echo.Context) error {
	f := templates.AuthForm{Email: c.FormValue("email"), Next: safeNext(c.FormValue("next"))}
	sess, err := s.accounts.LogInOnDevice(c.Request().Context(), f.Email, c.FormValue("password"), c.RealIP(), deviceToken(c))
	if err != nil {
		return authFailed(f, err)
	}
	s.rememberChosenLanguage(c, &sess.User)
	if err := s.startSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// startSession gives the browser its new session and ends the one it had
// before, if any: a session id someone planted or saw before the fan signed
// in is worth nothing after.
func (s *Server) startSession(c echo.Context, sess *account.Session) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.accounts.LogOut(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	setSession(c, sess)
	return nil
}

// authFailed shows the form again with what to fix, for errors a fan can
// act on; anything else goes to the error handler.
func authFailed(f templates.AuthForm, err error) error {
	if e, ok := errors.AsType[*app.Error](err); ok {
		f.Field, _ = e.Detail["field"].(string)
	}
	return showAgain(err, func(msg string) templ.Component {
		f.Error = msg
		return templates.Auth(f)
	})
}

func (s *Server) handleLogout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.accounts.LogOut(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/")
}

type userJSON struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

func (s *Server) handleAPISignup(c echo.Context) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.accounts.SignUp(c.Request().Context(), in.Email, in.Password, in.Name, c.RealIP())
	if err != nil {
		return err
	}
	s.rememberNewFansLanguage(c, &u) // an app's Accept-Language
	return c.JSON(http.StatusCreated, userJSON{ID: u.ID, Email: u.Email, Name: u.Name})
}

func (s *Server) handleAPILogin(c echo.Context) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sess, err := s.accounts.LogIn(c.Request().Context(), in.Email, in.Password, c.RealIP())
	if err != nil {
		return err
	}
	s.rememberChosenLanguage(c, &sess.User)
	return c.JSON(http.StatusCreated, map[string]string{"token": sess.Token, "expires_at": rfc3339(sess.ExpiresAt)})
}

// handleAPILogout revokes the bearer token it is called with, so that an
// app signing out (or a fan whose phone was lost) leaves no usable token.
func (s *Server) handleAPILogout(c echo.Context) error {
	if _, err := requireUser(c, ""); err != nil {
		return err
	}
	if err := s.accounts.LogOut(c.Request().Context(), bearerToken(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
