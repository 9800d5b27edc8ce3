package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/templates"
)

// Password resets by e-mail: the forgotten-password form sends a link
// (always the same answer, so it tells nobody who has an account); the
// link's page sets a new password and signs the fan in.

func (s *Server) resetLink(token string) string {
	return s.baseURL + "/password/reset?token=" + url.QueryEscape(token)
}

func (s *Server) handleForgotForm(c echo.Context) error {
	return ok(c, templates.PasswordReset(templates.ResetPage{}))
}

func (s *Server) handleForgot(c echo.Context) error {
	err := s.accounts.RequestReset(c.Request().Context(), c.FormValue("email"), s.resetLink)
	var e *app.Error
	if errors.As(err, &e) && e.Code == app.EINVALID {
		return render(c, http.StatusBadRequest, templates.PasswordReset(templates.ResetPage{Error: e.Message}))
	}
	if err != nil {
		return err
	}
	return ok(c, templates.PasswordReset(templates.ResetPage{Sent: true}))
}

func (s *Server) handleResetForm(c echo.Context) error {
	token := c.QueryParam("token")
	if token == "" || len(token) > 100 {
		return c.Redirect(http.StatusSeeOther, "/password/forgot")
	}
	return ok(c, templates.PasswordReset(templates.ResetPage{Token: token}))
}

// handleReset sets the new password and signs the fan in.
func (s *Server) handleReset(c echo.Context) error {
	token, password := c.FormValue("token"), c.FormValue("password")
	u, err := s.accounts.ResetPassword(c.Request().Context(), token, password)
	var e *app.Error
	if errors.As(err, &e) && e.Code == app.EINVALID {
		page := templates.ResetPage{Token: token, Error: e.Message}
		if e.Reason == "reset_link_invalid" {
			page = templates.ResetPage{Error: e.Message} // ask for another link
		}
		return render(c, http.StatusBadRequest, templates.PasswordReset(page))
	}
	if err != nil {
		return err
	}
	sess, err := s.accounts.LogInOnDevice(c.Request().Context(), u.Email, password, c.RealIP(), deviceToken(c))
	if err != nil {
		return err
	}
	s.rememberChosenLanguage(c, &sess.User)
	if err := s.startSession(c, sess); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/bookings")
}
