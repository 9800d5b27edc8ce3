package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/templates"
)

// homeEvents is how many upcoming events the front page lists.
const homeEvents = 24

func (s *Server) handleHome(c echo.Context) error {
	ctx := c.Request().Context()
	events, err := s.events.ListUpcoming(ctx, homeEvents)
	if err != nil {
		return err
	}
	// What there is by type and city: the facets of a search for everything.
	// The page stands without them.
	all, err := s.search.Search(ctx, search.Query{Page: 1, PerPage: 1})
	if err != nil {
		s.log.Warn("home page without browsing by type and city", "err", err)
		all = &search.Result{}
	}
	return ok(c, templates.Home(events, all))
}

// pathID reads a positive id from the path. Anything else names nothing
// that exists, so it is a 404 like an unknown id.
func pathID(c echo.Context, name, what string) (int64, error) {
	raw := c.Param(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, app.Errorf(app.ENOTFOUND, "There is no %s %q.", what, raw)
	}
	return id, nil
}

// handleEventView shows an event. Venues up to the seat map limit show
// every seat; larger ones show their sections.
func (s *Server) handleEventView(c echo.Context) error {
	id, err := pathID(c, "eventId", "event")
	if err != nil {
		return err
	}
	page, err := s.eventPage(c, id, 0)
	if err != nil {
		return err
	}
	reselect(&page, selected(c))
	return ok(c, templates.EventView(page))
}

// selected reads the seats to show ticked (?select=1,2,3), as a fan comes
// back from signing in. Anything unreadable is ignored: it only ticks boxes.
func selected(c echo.Context) map[int64]bool {
	raw := c.QueryParam("select")
	if raw == "" {
		return nil
	}
	out := map[int64]bool{}
	parts := strings.Split(raw, ",")
	for _, part := range parts[:min(len(parts), 100)] {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil && id > 0 {
			out[id] = true
		}
	}
	return out
}

// handleSectionView shows the seats of one section of a large venue.
func (s *Server) handleSectionView(c echo.Context) error {
	id, err := pathID(c, "eventId", "event")
	if err != nil {
		return err
	}
	sectionID, err := pathID(c, "sectionId", "section")
	if err != nil {
		return err
	}
	page, err := s.eventPage(c, id, sectionID)
	if err != nil {
		return err
	}
	reselect(&page, selected(c))
	return ok(c, templates.EventView(page))
}

// eventPage gathers an event page: details (cached), availability per
// section (one query) and, when seats are shown, the seats.
func (s *Server) eventPage(c echo.Context, id, sectionID int64) (templates.EventPage, error) {
	ctx := c.Request().Context()
	e, err := s.events.FindEventByID(ctx, id)
	if err != nil {
		return templates.EventPage{}, err
	}
	l := venueLanguage(c, e.Venue.Country)
	p := templates.EventPage{Event: e, MaxTickets: s.bookings.MaxTickets(), Lang: l}
	if p.Room, err = s.room(c, e); err != nil {
		return p, err
	}
	if sectionID != 0 {
		if p.Section = e.Section(sectionID); p.Section == nil {
			return p, app.Errorf(app.ENOTFOUND, "Event %d has no section %d.", id, sectionID)
		}
	}
	if p.Availability, err = s.events.Availability(ctx, id); err != nil {
		return p, err
	}
	if sectionID != 0 || e.Venue.Capacity <= s.seatMapLimit {
		if p.Seats, err = s.events.Seats(ctx, id, sectionID); err != nil {
			return p, err
		}
		if p.Seats == nil {
			p.Seats = []event.Seat{}
		}
	}
	return p, nil
}

// eventJSON is an event in the API (DESIGN §5).
type eventJSON struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	StartsAt    string          `json:"starts_at"`
	EndsAt      *string         `json:"ends_at"`
	DoorsAt     *string         `json:"doors_at"`
	OnSaleAt    *string         `json:"on_sale_at"` // null: on sale now
	Queue       string          `json:"queue"`      // the waiting room: off, always or auto
	Timezone    string          `json:"timezone"`
	Venue       venueJSON       `json:"venue"`
	Performers  []performerJSON `json:"performers"`
	Sections    []sectionJSON   `json:"sections"`
	Available   int             `json:"available"`
	Total       int             `json:"total"`
	MinPrice    int64           `json:"min_price"`
	MaxPrice    int64           `json:"max_price"`
	Currency    string          `json:"currency"`
}

type venueJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Address  string `json:"address"`
	City     string `json:"city"`
	Region   string `json:"region"`
	Country  string `json:"country"`
	Capacity int    `json:"capacity"`
}

type performerJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	Role string `json:"role"`
	Bio  string `json:"bio"`
}

type sectionJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Available int    `json:"available"`
	Total     int    `json:"total"`
	MinPrice  int64  `json:"min_price"`
	MaxPrice  int64  `json:"max_price"`
	// Standing sections sell places by quantity (POST /api/v1/bookings
	// with event_id, section_id and quantity), not seats.
	Standing bool `json:"standing,omitempty"`
}

type ticketJSON struct {
	ID        int64  `json:"id"`
	SectionID int64  `json:"section_id"`
	Section   string `json:"section"`
	Row       string `json:"row"`
	Seat      int    `json:"seat"`
	Standing  bool   `json:"standing,omitempty"` // a place in a standing section: no row or seat
	Price     int64  `json:"price"`
	Currency  string `json:"currency"`
	Status    string `json:"status"`
}

func (s *Server) handleAPIEvent(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.events.FindEventByID(ctx, id)
	if err != nil {
		return err
	}
	a, err := s.events.Availability(ctx, id)
	if err != nil {
		return err
	}
	out := eventJSON{
		ID: e.ID, Name: e.Name, Description: e.Description, Type: e.Type,
		StartsAt: rfc3339(e.StartsAt), EndsAt: rfc3339Ptr(e.EndsAt), DoorsAt: rfc3339Ptr(e.DoorsAt), Timezone: e.Timezone,
		OnSaleAt: rfc3339Ptr(e.OnSaleAt), Queue: e.Queue,
		Venue: venueJSON{ID: e.Venue.ID, Name: e.Venue.Name, Address: e.Venue.Address, City: e.Venue.City,
			Region: e.Venue.Region, Country: e.Venue.Country, Capacity: e.Venue.Capacity},
		Performers: make([]performerJSON, len(e.Performers)),
		Sections:   make([]sectionJSON, len(e.Sections)),
		Available:  a.Available, Total: a.Total, MinPrice: a.MinPrice, MaxPrice: a.MaxPrice, Currency: e.Currency,
	}
	for i, p := range e.Performers {
		out.Performers[i] = performerJSON{ID: p.ID, Name: p.Name, Kind: p.Kind, Role: p.Role, Bio: p.Bio}
	}
	for i, sec := range e.Sections {
		sa := a.Sections[sec.ID]
		out.Sections[i] = sectionJSON{ID: sec.ID, Name: sec.Name, Available: sa.Available, Total: sa.Total, MinPrice: sa.MinPrice, MaxPrice: sa.MaxPrice,
			Standing: sec.Standing}
	}
	return c.JSON(http.StatusOK, out)
}

// sectionParam reads ?section= (0 when absent).
func sectionParam(c echo.Context) (int64, error) {
	raw := c.QueryParam("section")
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, app.Errorf(app.EINVALID, "section must be a section id (a positive whole number), not %q", raw)
	}
	return id, nil
}

// eventSection reads the :id event and the ?section= asked for.
func (s *Server) eventSection(c echo.Context) (*event.Event, int64, error) {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return nil, 0, err
	}
	sectionID, err := sectionParam(c)
	if err != nil {
		return nil, 0, err
	}
	e, err := s.events.FindEventByID(c.Request().Context(), id)
	return e, sectionID, err
}

func (s *Server) handleAPITickets(c echo.Context) error {
	e, sectionID, err := s.eventSection(c)
	if err != nil {
		return err
	}
	tickets, err := s.events.Tickets(c.Request().Context(), e.ID, sectionID, c.QueryParam("status"))
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(e.Sections))
	for _, sec := range e.Sections {
		names[sec.ID] = sec.Name
	}
	out := struct {
		Tickets []ticketJSON `json:"tickets"`
	}{Tickets: make([]ticketJSON, len(tickets))}
	for i, t := range tickets {
		out.Tickets[i] = ticketJSON{ID: t.TicketID, SectionID: t.SectionID, Section: names[t.SectionID],
			Row: t.Row, Seat: t.Number, Price: t.Price, Currency: e.Currency, Status: t.Status}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handlePerformerView(c echo.Context) error {
	id, err := pathID(c, "id", "performer")
	if err != nil {
		return err
	}
	p, events, err := s.events.FindPerformer(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return ok(c, templates.PerformerView(p, events))
}

func (s *Server) handleVenueView(c echo.Context) error {
	id, err := pathID(c, "id", "venue")
	if err != nil {
		return err
	}
	v, sections, events, err := s.events.FindVenue(c.Request().Context(), id)
	if err != nil {
		return err
	}
	venueLanguage(c, v.Country)
	return ok(c, templates.VenueView(v, sections, events))
}

// room is event e's on-sale and waiting room as the fan sees them, or nil
// when e is on sale to all.
func (s *Server) room(c echo.Context, e *event.Event) (*templates.Room, error) {
	now := s.now()
	if e.Queue == booking.QueueOff && (e.OnSaleAt == nil || !now.Before(*e.OnSaleAt)) {
		return nil, nil
	}
	r := &templates.Room{OnSaleAt: e.OnSaleAt, Queue: e.Queue, Now: now}
	if e.OnSaleAt != nil {
		opens := e.OnSaleAt.Add(-s.queue.Config().OpensBefore)
		r.OpensAt = &opens
	}
	if u := currentUser(c); u != nil && e.Queue != booking.QueueOff {
		p, err := s.queue.Place(c.Request().Context(), e.ID, u.ID)
		switch {
		case app.ErrorCode(err) == app.ENOTFOUND:
		case err != nil:
			return nil, err
		default:
			r.Place = p
		}
	}
	return r, nil
}
