package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/organiser"
	"github.com/boxoffice/boxoffice/templates"
)

// Organisers' events: drafts, publishing and editing, by API and forms.

type managedEventJSON struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	organiser.Event
}

type eventSummaryJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Venue     string `json:"venue"`
	StartsAt  string `json:"starts_at"`
	Status    string `json:"status"`
	Sold      int    `json:"sold"`
	Held      int    `json:"held"`
	Available int    `json:"available"`
}

func (s *Server) handleAPIEventCreate(c echo.Context) error {
	var in organiser.Event
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	id, err := s.organiser.Create(c.Request().Context(), actorOf(c), in)
	if err != nil {
		return err
	}
	return s.apiManagedEvent(c, http.StatusCreated, id)
}

func (s *Server) handleAPIManagedEvent(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	return s.apiManagedEvent(c, http.StatusOK, id)
}

func (s *Server) apiManagedEvent(c echo.Context, status int, id int64) error {
	in, st, err := s.organiser.Get(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(status, managedEventJSON{ID: id, Status: st, Event: in})
}

func (s *Server) handleAPIEventUpdate(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	var in organiser.Event
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.organiser.Update(c.Request().Context(), actorOf(c), id, in); err != nil {
		return err
	}
	return s.apiManagedEvent(c, http.StatusOK, id)
}

func (s *Server) handleAPIEventPublish(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	n, err := s.organiser.Publish(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "status": organiser.OnSale, "tickets": n, "url": fmt.Sprintf("/event/%d", id)})
}

func (s *Server) handleAPIManagedEvents(c echo.Context) error {
	list, err := s.organiser.List(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Events []eventSummaryJSON `json:"events"`
	}{Events: []eventSummaryJSON{}}
	for _, e := range list {
		out.Events = append(out.Events, eventSummaryJSON{ID: e.ID, Name: e.Name, Venue: e.Venue, StartsAt: rfc3339(e.StartsAt),
			Status: e.Status, Sold: e.Sold, Held: e.Held, Available: e.Available})
	}
	return c.JSON(http.StatusOK, out)
}

// eventForm is the page that creates or edits an event: the venue's
// sections come from its seat map.
func (s *Server) eventForm(c echo.Context, status int, p templates.EventFormPage) error {
	venues, err := s.venues.List(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	p.Venues = venues
	if p.Event.VenueID != 0 {
		m, err := s.venues.SeatMap(c.Request().Context(), actorOf(c), p.Event.VenueID)
		if err != nil {
			return err
		}
		p.Map = m
	}
	return render(c, status, templates.EventForm(p))
}

// handleEventNew is /manage/events/new: first the venue, then the event.
func (s *Server) handleEventNew(c echo.Context) error {
	var in organiser.Event
	if v := c.QueryParam("venue"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fanError(c, app.EINVALID, "manage.choose_venue")
		}
		in.VenueID = id
	}
	return s.eventForm(c, http.StatusOK, templates.EventFormPage{Event: in})
}

// handleEventCreate takes the new-event form.
func (s *Server) handleEventCreate(c echo.Context) error {
	in, err := eventFromForm(c)
	if err == nil {
		var id int64
		if id, err = s.organiser.Create(c.Request().Context(), actorOf(c), in); err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d", id))
		}
	}
	return s.formProblem(c, templates.EventFormPage{Event: in}, err)
}

// handleEventEdit is the form of an event that exists.
func (s *Server) handleEventEdit(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	in, status, err := s.organiser.Get(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	return s.eventForm(c, http.StatusOK, templates.EventFormPage{ID: id, Status: status, Event: in})
}

// handleEventUpdate takes the edit form.
func (s *Server) handleEventUpdate(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	_, status, err := s.organiser.Get(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	in, err := eventFromForm(c)
	if err == nil {
		if err = s.organiser.Update(c.Request().Context(), actorOf(c), id, in); err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d", id))
		}
	}
	return s.formProblem(c, templates.EventFormPage{ID: id, Status: status, Event: in}, err)
}

// formProblem shows the form again with what to fix; nothing was saved.
func (s *Server) formProblem(c echo.Context, p templates.EventFormPage, err error) error {
	var e *app.Error
	if !errors.As(err, &e) || e.Code != app.EINVALID {
		return err
	}
	p.Problem = e.Message
	p.Field, _ = e.Detail["field"].(string)
	return s.eventForm(c, http.StatusBadRequest, p)
}

// handleEventPublish is the page's "Publish" button.
func (s *Server) handleEventPublish(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	if _, err := s.organiser.Publish(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d", id))
}

// handleManagedEvent is an event's management page.
func (s *Server) handleManagedEvent(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	in, status, err := s.organiser.Get(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	sales, err := s.organiser.Sales(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	bookings, err := s.organiser.Bookings(c.Request().Context(), actorOf(c), id, c.QueryParam("q"))
	if err != nil {
		return err
	}
	staff, err := s.door.Staff(c.Request().Context(), id)
	if err != nil {
		return err
	}
	log, err := audit.Of(c.Request().Context(), s.venues.Pool(), 0, id, 50)
	if err != nil {
		return err
	}
	return ok(c, templates.ManagedEvent(templates.ManagedEventPage{ID: id, Status: status, Event: in, Sales: sales,
		Bookings: bookings, Staff: staff, Query: c.QueryParam("q"), Log: log}))
}

// handleSalesPanel is the sales panel alone, for the page's script.
func (s *Server) handleSalesPanel(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	in, _, err := s.organiser.Get(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	sales, err := s.organiser.Sales(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return ok(c, templates.SalesPanel(id, sales, templates.Location(in.Timezone)))
}

// handleAttendees is the attendee list, as CSV.
func (s *Server) handleAttendees(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	if _, _, err := s.organiser.Get(c.Request().Context(), actorOf(c), id); err != nil {
		return err // before any byte of the file: a refusal is a page
	}
	c.Response().Header().Set("Content-Type", "text/csv; charset=utf-8")
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="event-%d-attendees.csv"`, id))
	c.Response().WriteHeader(http.StatusOK)
	return s.organiser.Attendees(c.Request().Context(), actorOf(c), id, c.Response())
}

type salesJSON struct {
	Currency  string             `json:"currency"`
	Sold      int                `json:"sold"`
	Held      int                `json:"held"`
	Available int                `json:"available"`
	Revenue   int64              `json:"revenue"`
	Refunded  int64              `json:"refunded"`
	Bookings  int                `json:"bookings"`
	Sections  []sectionSalesJSON `json:"sections"`
	Over      []salesPointJSON   `json:"sold_over_time"`
	StepS     int64              `json:"period_s"`
}

type sectionSalesJSON struct {
	Name      string `json:"name"`
	Sold      int    `json:"sold"`
	Held      int    `json:"held"`
	Available int    `json:"available"`
	CheckedIn int    `json:"checked_in"`
}

type salesPointJSON struct {
	At   string `json:"at"`
	Sold int    `json:"sold"`
}

// handleAPISales is GET /api/v1/manage/events/:id/sales.
func (s *Server) handleAPISales(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	sales, err := s.organiser.Sales(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	out := salesJSON{Currency: sales.Currency, Sold: sales.Total.Sold, Held: sales.Total.Held, Available: sales.Total.Available,
		Revenue: sales.Revenue, Refunded: sales.Refunded, Bookings: sales.Bookings, StepS: int64(sales.Step / time.Second),
		Sections: []sectionSalesJSON{}, Over: []salesPointJSON{}}
	for _, sec := range sales.Sections {
		out.Sections = append(out.Sections, sectionSalesJSON(sec))
	}
	for _, p := range sales.Over {
		out.Over = append(out.Over, salesPointJSON{At: rfc3339(p.At), Sold: p.Sold})
	}
	return c.JSON(http.StatusOK, out)
}

// eventFromForm reads the event form. Prices are typed in major units
// (45.50); sections with the same zone and price form one zone.
func eventFromForm(c echo.Context) (organiser.Event, error) {
	f, err := c.FormParams()
	if err != nil {
		return organiser.Event{}, fanError(c, app.EINVALID, "manage.form_unreadable")
	}
	in := organiser.Event{Name: f.Get("name"), Description: f.Get("description"), Type: f.Get("type"),
		StartsAt: f.Get("starts_at"), EndsAt: f.Get("ends_at"), DoorsAt: f.Get("doors_at"), OnSaleAt: f.Get("on_sale_at"),
		Timezone: f.Get("timezone"), Currency: strings.ToUpper(strings.TrimSpace(f.Get("currency"))), Queue: f.Get("queue")}
	in.VenueID, _ = strconv.ParseInt(f.Get("venue_id"), 10, 64)
	names, kinds, roles := f["performer_name"], f["performer_kind"], f["performer_role"]
	for i, name := range names {
		if strings.TrimSpace(name) != "" && i < len(kinds) && i < len(roles) {
			in.Performers = append(in.Performers, organiser.Performer{Name: name, Kind: kinds[i], Role: roles[i]})
		}
	}
	sections, prices, zones := f["section"], f["price"], f["zone"]
	exp := math.Pow10(templates.Exponent(in.Currency))
	byZone := map[string]int{}
	for i, section := range sections {
		if i >= len(prices) || strings.TrimSpace(prices[i]) == "" {
			continue // not sold
		}
		major, err := parseNumber(lang(c), strings.TrimSpace(prices[i]))
		if err != nil || major <= 0 || math.IsNaN(major) || math.IsInf(major, 0) {
			msg := lang(c).T("manage.price_invalid", "Section", section, "Value", strconv.Quote(prices[i]))
			return in, localize(&app.Error{Code: app.EINVALID, Message: msg, Detail: map[string]any{"field": "prices"}}, msg)
		}
		zone := ""
		if i < len(zones) {
			zone = strings.TrimSpace(zones[i])
		}
		minor := int64(math.Round(major * exp))
		key := zone + "\x00" + strconv.FormatInt(minor, 10)
		if j, ok := byZone[key]; ok {
			in.Prices[j].Sections = append(in.Prices[j].Sections, section)
			continue
		}
		byZone[key] = len(in.Prices)
		in.Prices = append(in.Prices, organiser.Price{Zone: zone, Price: minor, Sections: []string{section}})
	}
	return in, nil
}

// cancelEvent cancels event id and settles its bookings; what a
// processor outage leaves unsettled, the sweeper finishes.
func (s *Server) cancelEvent(c echo.Context, id int64) (ended, refunded int, settled bool, err error) {
	if err := s.organiser.Cancel(c.Request().Context(), actorOf(c), id); err != nil {
		return 0, 0, false, err
	}
	ended, refunded, err = s.bookings.SettleCancelled(c.Request().Context(), id)
	if err != nil {
		s.log.Error("a cancelled event's refunds stopped; the sweeper will go on", "event", id, "err", err)
	}
	return ended, refunded, err == nil, nil
}

func (s *Server) handleAPIEventCancel(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	ended, refunded, settled, err := s.cancelEvent(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "status": organiser.Cancelled, "holds_ended": ended, "refunded": refunded, "settled": settled})
}

func (s *Server) handleEventCancel(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return fanError(c, app.EINVALID, "manage.cancel_unconfirmed")
	}
	if _, _, _, err := s.cancelEvent(c, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d", id))
}

type managedBookingJSON struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Email       string  `json:"email"`
	Status      string  `json:"status"`
	Total       int64   `json:"total"`
	Refunded    int64   `json:"refunded"`
	Currency    string  `json:"currency"`
	Seats       string  `json:"seats"`
	ConfirmedAt *string `json:"confirmed_at"`
}

func (s *Server) handleAPIEventBookings(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	rows, err := s.organiser.Bookings(c.Request().Context(), actorOf(c), id, c.QueryParam("q"))
	if err != nil {
		return err
	}
	out := struct {
		Bookings []managedBookingJSON `json:"bookings"`
	}{Bookings: []managedBookingJSON{}}
	for _, b := range rows {
		out.Bookings = append(out.Bookings, managedBookingJSON{ID: b.ID, Name: b.Name, Email: b.Email, Status: b.Status, Total: b.Total,
			Refunded: b.Refunded, Currency: b.Currency, Seats: b.Seats, ConfirmedAt: rfc3339Ptr(b.ConfirmedAt)})
	}
	return c.JSON(http.StatusOK, out)
}

// refund gives back amount (0: all that is left) of booking id, if the
// caller manages its event; seen is the refunded total the caller saw.
func (s *Server) refund(c echo.Context, id, amount int64, seen *int64) (*booking.Booking, error) {
	if _, _, err := s.organiser.EventOfBooking(c.Request().Context(), actorOf(c), id); err != nil {
		return nil, err
	}
	return s.bookings.Refund(c.Request().Context(), currentUser(c).ID, id, amount, seen)
}

// handleAPIRefund is POST /api/v1/manage/bookings/:id/refund: {"amount":
// N} (minor units, at least 1) for a part, {"all": true} or no body for
// all that is left; "refunded" (optional) is the refunded total the
// caller saw, so that a repeated request refunds nothing more.
func (s *Server) handleAPIRefund(c echo.Context) error {
	id, err := pathID(c, "id", "booking")
	if err != nil {
		return err
	}
	var in struct {
		Amount   *int64 `json:"amount"`
		All      bool   `json:"all"`
		Refunded *int64 `json:"refunded"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	var amount int64
	switch {
	case in.Amount != nil && in.All:
		return app.Errorf(app.EINVALID, "Give an amount, or all: not both.")
	case in.Amount != nil && *in.Amount < 1:
		return app.Errorf(app.EINVALID, "The amount is in minor units (pence, cents) and at least 1; for everything that is left send {\"all\": true}.")
	case in.Amount != nil:
		amount = *in.Amount
	}
	b, err := s.refund(c, id, amount, in.Refunded)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, managedBookingJSON{ID: b.ID, Status: b.Status, Total: b.Total, Refunded: b.Refunded,
		Currency: b.Currency, ConfirmedAt: rfc3339Ptr(b.ConfirmedAt)})
}

// handleRefund is a booking's refund form on the event's page: an amount
// in major units, or empty for all that is left, with the refunded total
// the page showed (a second click refunds nothing more).
func (s *Server) handleRefund(c echo.Context) error {
	id, err := pathID(c, "id", "booking")
	if err != nil {
		return err
	}
	_, currency, err := s.organiser.EventOfBooking(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	var amount int64
	if raw := strings.TrimSpace(c.FormValue("amount")); raw != "" {
		major, err := parseNumber(lang(c), raw)
		amount = int64(math.Round(major * math.Pow10(templates.Exponent(currency))))
		if err != nil || math.IsNaN(major) || math.IsInf(major, 0) || amount < 1 {
			return fanError(c, app.EINVALID, "manage.refund_invalid", "Value", strconv.Quote(raw))
		}
	}
	var seen *int64
	if v, err := strconv.ParseInt(c.FormValue("refunded"), 10, 64); err == nil {
		seen = &v
	}
	b, err := s.refund(c, id, amount, seen)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d?q=%d#bookings", b.EventID, id))
}
