package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/templates"
)

// placeJSON is a fan's place in a waiting room (DESIGN §5, second wave).
type placeJSON struct {
	State          string  `json:"state"`
	Position       int64   `json:"position"`
	Ahead          int64   `json:"ahead"`
	EstimatedWaitS int64   `json:"estimated_wait_s"`
	AdmittedUntil  *string `json:"admitted_until"`
	OnSaleAt       *string `json:"on_sale_at"`
	SeatsLeft      int     `json:"seats_left"` // on sale now; held seats may come back
}

func toPlaceJSON(p *queue.Place) placeJSON {
	return placeJSON{State: p.State, Position: p.Position, Ahead: p.Ahead, EstimatedWaitS: int64(p.EstimatedWait / time.Second),
		AdmittedUntil: rfc3339Ptr(p.AdmittedUntil), OnSaleAt: rfc3339Ptr(p.OnSaleAt), SeatsLeft: p.SeatsLeft}
}

// retryAfter is how soon a waiting fan should look again: often near the
// front, less often far back, so that a full room does not poll itself
// into the ground.
func retryAfter(p *queue.Place) int {
	switch {
	case p.State != queue.StateWaiting:
		return 30
	case p.Ahead < 200:
		return 2
	case p.Ahead < 2000:
		return 5
	}
	return 10
}

func (s *Server) handleAPIQueueJoin(c echo.Context) error {
	return s.apiPlace(c, true)
}

func (s *Server) handleAPIQueue(c echo.Context) error {
	return s.apiPlace(c, false)
}

func (s *Server) apiPlace(c echo.Context, join bool) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	u, err := requireUser(c, "")
	if err != nil {
		return err
	}
	p, err := s.place(c, id, u.ID, join)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter(p)))
	return c.JSON(http.StatusOK, toPlaceJSON(p))
}

func (s *Server) place(c echo.Context, id, userID int64, join bool) (*queue.Place, error) {
	if join {
		return s.queue.Join(c.Request().Context(), id, userID)
	}
	return s.queue.Place(c.Request().Context(), id, userID)
}

// handleQueueJoin is the "Join the waiting room" button.
func (s *Server) handleQueueJoin(c echo.Context) error {
	id, err := pathID(c, "eventId", "event")
	if err != nil {
		return err
	}
	u, err := requireUser(c, fmt.Sprintf("/event/%d", id))
	if err != nil {
		return err
	}
	if _, err := s.queue.Join(c.Request().Context(), id, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/event/%d/queue", id))
}

// handleQueueView is a fan's place, refreshed by itself: the page asks the
// browser to reload it after Retry-After seconds (and the script updates it
// in place), and once the fan is admitted it leads to the seats.
func (s *Server) handleQueueView(c echo.Context) error {
	id, err := pathID(c, "eventId", "event")
	if err != nil {
		return err
	}
	u, err := requireUser(c, fmt.Sprintf("/event/%d/queue", id))
	if err != nil {
		return err
	}
	e, err := s.events.FindEventByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p, err := s.queue.Place(c.Request().Context(), id, u.ID)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/event/%d", id)) // not in the room: its door is on the event page
	}
	if err != nil {
		return err
	}
	wait := retryAfter(p)
	c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
	// The page's script asks the same address for JSON, with the fan's
	// session cookie (the API takes bearer tokens only).
	if strings.Contains(c.Request().Header.Get("Accept"), "application/json") {
		return c.JSON(http.StatusOK, toPlaceJSON(p))
	}
	return ok(c, templates.QueueView(templates.QueuePage{Event: e, Place: p, Refresh: wait, Now: s.now()}))
}
