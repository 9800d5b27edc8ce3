package web

import (
	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/templates"
)

// homeEvents is how many upcoming events the front page lists.
const homeEvents = 24

func (s *Server) handleHome(c echo.Context) error {
	events, err := s.events.ListUpcoming(c.Request().Context(), homeEvents)
	if err != nil {
		return err
	}
	return ok(c, templates.Home(events))
}
