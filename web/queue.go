package web

import (
	"fmt"
	"math/rand/v2"
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

// retryAfter is how soon a waiting fan should look again: a quarter of
// their expected wait, from 2 seconds near the front to a minute far back,
// so that a full room does not poll itself into the ground; before the
// open, at the open, spread over 10 seconds so that the room does not
// look all at one instant (the fans are let in over minutes anyway).
func retryAfter(p *queue.Place, now time.Time) int {
	switch {
	case p.State != queue.StateWaiting:
		return 30
	case p.OnSaleAt != nil && p.OnSaleAt.After(now):
		return min(int(p.OnSaleAt.Sub(now).Seconds())+1+rand.IntN(10), 30)
	}
	return min(max(int(p.EstimatedWait.Seconds()/4), 2), 60)
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
	c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter(p, s.now())))
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
	venueLanguage(c, e.Venue.Country) // as the event's page speaks
	p, err := s.queue.Place(c.Request().Context(), id, u.ID)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/event/%d", id)) // not in the room: its door is on the event page
	}
	if err != nil {
		return err
	}
	wait := retryAfter(p, s.now())
	c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
	// The page's script asks the same address for JSON, with the fan's
	// session cookie (the API takes bearer tokens only).
	if strings.Contains(c.Request().Header.Get("Accept"), "application/json") {
		return c.JSON(http.StatusOK, toPlaceJSON(p))
	}
	return ok(c, templates.QueueView(templates.QueuePage{Event: e, Place: p, Refresh: wait, Now: s.now()}))
}

// timeHolds tells the waiting room how long each hold took (refusals by
// the rate limits, which come before it, are not holds): rooms in 'auto'
// admit as many fans as keep these times inside the budget.
func (s *Server) timeHolds(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		s.queue.ObserveHold(time.Since(start))
		return err
	}
}
