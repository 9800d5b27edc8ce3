package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/templates"
)

// handleBookingCreate holds the seats ticked on a seat map. A fan who is
// not signed in goes to sign in and comes back to the map with the same
// seats ticked; seats someone else took meanwhile bring the map back with
// a message and the rest still ticked.
func (s *Server) handleBookingCreate(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return fanError(c, app.EINVALID, "booking.form_unreadable")
	}
	eventID, _ := strconv.ParseInt(form.Get("event_id"), 10, 64)
	sectionID, _ := strconv.ParseInt(form.Get("section_id"), 10, 64)
	if form.Has("quantity") {
		return s.holdTogether(c, eventID, sectionID, form)
	}
	var ids []int64
	for _, raw := range form["ticket_ids"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fanError(c, app.EINVALID, "booking.not_a_ticket", "Value", strconv.Quote(raw))
		}
		ids = append(ids, id)
	}
	back := mapURL(eventID, sectionID, ids)
	if len(ids) == 0 {
		if eventID > 0 {
			return s.mapAgain(c, eventID, sectionID, nil, saying(app.EINVALID, "booking.tick_a_seat"))
		}
		return fanError(c, app.EINVALID, "booking.choose_a_seat")
	}
	u := currentUser(c)
	if u == nil {
		return &loginRedirect{next: back, why: "seats"}
	}
	b, err := s.bookings.HoldTickets(c.Request().Context(), u.ID, ids)
	if code := app.ErrorCode(err); eventID > 0 && (code == app.ECONFLICT || code == app.EINVALID || code == app.EFORBIDDEN) {
		still := ids
		if taken, ok := errors.AsType[*booking.UnavailableError](err); ok {
			still = without(ids, taken.TicketIDs)
		}
		return s.mapAgain(c, eventID, sectionID, still, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/bookings/%d", b.ID))
}

// holdTogether is the best-available form: quantity seats together,
// optionally in a section and up to a price.
func (s *Server) holdTogether(c echo.Context, eventID, sectionID int64, form url.Values) error {
	if eventID <= 0 {
		return fanError(c, app.EINVALID, "booking.which_event")
	}
	req := booking.Together{EventID: eventID, SectionID: sectionID}
	var err error
	if req.Quantity, err = strconv.Atoi(form.Get("quantity")); err != nil {
		return s.mapAgain(c, eventID, 0, nil, saying(app.EINVALID, "booking.how_many"))
	}
	if raw := form.Get("max_price"); raw != "" {
		if req.MaxPrice, err = strconv.ParseInt(raw, 10, 64); err != nil {
			return s.mapAgain(c, eventID, 0, nil, saying(app.EINVALID, "booking.price_from_list"))
		}
	}
	u := currentUser(c)
	if u == nil {
		return &loginRedirect{next: mapURL(eventID, sectionID, nil), why: "seats"}
	}
	b, err := s.bookings.HoldTogether(c.Request().Context(), u.ID, req)
	if code := app.ErrorCode(err); code == app.ECONFLICT || code == app.EINVALID || code == app.EFORBIDDEN {
		page := int64(0)
		if sectionID != 0 && s.sectionPage(c.Request().Context(), eventID) {
			page = sectionID
		}
		return s.mapAgain(c, eventID, page, nil, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/bookings/%d", b.ID))
}

// sectionPage reports whether event id's map is shown a section at a time.
func (s *Server) sectionPage(ctx context.Context, id int64) bool {
	e, err := s.events.FindEventByID(ctx, id)
	return err == nil && e.Venue.Capacity > s.seatMapLimit
}

// mapAgain shows the seat map again with why (err) and seats ticked, in
// the language of the map (a venue's speaks its country's to a fan who
// chose none).
func (s *Server) mapAgain(c echo.Context, eventID, sectionID int64, selected []int64, why error) error {
	page, err := s.eventPage(c, eventID, sectionID)
	if err != nil {
		return err
	}
	page.Selected = map[int64]bool{}
	for _, id := range selected {
		page.Selected[id] = true
	}
	if m, ok := why.(*sayLater); ok {
		why = fanError(c, m.code, m.id, m.args...)
	}
	if taken, ok := errors.AsType[*booking.UnavailableError](why); ok {
		if names := seatNames(page, taken.TicketIDs); names != "" {
			next := "booking.taken_choose_others"
			if len(selected) > 0 {
				next = "booking.taken_others_ticked"
			}
			why = fanError(c, app.ECONFLICT, next, "Seats", names)
		}
	}
	return showAgain(why, func(msg string) templ.Component {
		page.Message = msg
		return templates.EventView(page)
	})
}

// fanError is a failure a fan can act on, worded from the catalogs in the
// request's language: every page shows it as it is.
func fanError(c echo.Context, code, id string, args ...any) error {
	msg := lang(c).T(id, args...)
	return localize(&app.Error{Code: code, Message: msg}, msg)
}

// sayLater is a failure a fan can act on, to be said in the language of
// the page that shows it once that page has chosen it (mapAgain): its
// message is the catalog's id, with args.
type sayLater struct {
	code, id string
	args     []any
}

func (e *sayLater) Error() string { return e.code + ": " + e.id }

func saying(code, id string, args ...any) error { return &sayLater{code: code, id: id, args: args} }

// ticketCodeTitle names a ticket's QR code for screen readers.
func ticketCodeTitle(ctx context.Context, t booking.Ticket) string {
	return locale.From(ctx).T("booking.ticket_code_for", "Seat", templates.SeatLabel(ctx, t))
}

// mapURL is the seat map a selection came from, with the seats ticked.
func mapURL(eventID, sectionID int64, ids []int64) string {
	if eventID <= 0 {
		return "/"
	}
	u := fmt.Sprintf("/event/%d", eventID)
	if sectionID > 0 {
		u += fmt.Sprintf("/sections/%d", sectionID)
	}
	if len(ids) > 0 {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.FormatInt(id, 10)
		}
		u += "?select=" + strings.Join(parts, ",")
	}
	return u
}

func without(ids, drop []int64) []int64 {
	return slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return slices.Contains(drop, id) })
}

// bookingView is a booking with its event, as every booking page and row
// shows it.
func (s *Server) bookingView(c echo.Context, b *booking.Booking) (templates.BookingView, error) {
	e, err := s.events.FindEventByID(c.Request().Context(), b.EventID)
	if err != nil {
		return templates.BookingView{}, err
	}
	return templates.BookingView{Booking: b, Event: e, Now: s.now(), Provider: s.paymentProvider, TestMode: !s.livePayments,
		MapURL: s.mapOf(e, b)}, nil
}

// ticketCodes draws the QR code of each of b's tickets for the present
// window, and says how many seconds it has left; none unless the booking
// is paid and the event still to come. Each code is named in the language
// of ctx, for screen readers.
func (s *Server) ticketCodes(ctx context.Context, b *booking.Booking, e *event.Event) (map[int64]string, int, error) {
	now := s.now()
	if b.Status != booking.StatusConfirmed || e.Status != "on_sale" || now.After(e.StartsAt.Add(12*time.Hour)) {
		return nil, 0, nil
	}
	window := ticket.WindowAt(now)
	codes := make(map[int64]string, len(b.Tickets))
	for _, t := range b.Tickets {
		svg, err := ticket.QRSVG(s.tickets.Code(t.ID, b.ID, e.ID, window), ticketCodeTitle(ctx, t))
		if err != nil {
			return nil, 0, err
		}
		codes[t.ID] = svg
	}
	next := time.Unix(int64(window+1)*int64(ticket.Window/time.Second), 0)
	return codes, int(math.Ceil(next.Sub(now).Seconds())), nil
}

// handlePrintTickets is a paid booking's tickets to print: their codes
// are the printed kind, which do not turn (a copy gets in once: the
// first scan wins).
func (s *Server) handlePrintTickets(c echo.Context) error {
	b, err := s.userBooking(c)
	if err != nil {
		return err
	}
	v, err := s.bookingView(c, b)
	if err != nil {
		return err
	}
	if v.QR, _, err = s.ticketCodes(c.Request().Context(), b, v.Event); err != nil {
		return err
	}
	if len(v.QR) == 0 {
		return c.Redirect(http.StatusSeeOther, bookingPath(b.ID)) // nothing to print: the booking says why
	}
	for _, t := range b.Tickets {
		if v.QR[t.ID], err = ticket.QRSVG(s.tickets.Code(t.ID, b.ID, b.EventID, ticket.Printed), ticketCodeTitle(c.Request().Context(), t)); err != nil {
			return err
		}
	}
	return ok(c, templates.PrintTickets(v))
}

// handleTicketCodes is a paid booking's codes of the moment, for the
// booking page's script to turn: {"codes": {ticket id: SVG}, "next_s": N}.
func (s *Server) handleTicketCodes(c echo.Context) error {
	b, err := s.userBooking(c)
	if err != nil {
		return err
	}
	e, err := s.events.FindEventByID(c.Request().Context(), b.EventID)
	if err != nil {
		return err
	}
	codes, next, err := s.ticketCodes(c.Request().Context(), b, e)
	if err != nil {
		return err
	}
	out := map[string]any{"codes": map[string]string{}, "next_s": next}
	for id, svg := range codes {
		out["codes"].(map[string]string)[strconv.FormatInt(id, 10)] = svg
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// mapOf is the seat map with b's seats ticked again (those still free): the
// event's, or its section's when the venue is shown a section at a time and
// the seats are all in one.
func (s *Server) mapOf(e *event.Event, b *booking.Booking) string {
	ids := make([]int64, len(b.Tickets))
	section := int64(0)
	for i, t := range b.Tickets {
		ids[i] = t.ID
		if i == 0 || section == t.SectionID {
			section = t.SectionID
		} else {
			section = 0
		}
	}
	switch {
	case e.Venue.Capacity <= s.seatMapLimit:
		section = 0
	case section == 0 && len(b.Tickets) > 0:
		section = b.Tickets[0].SectionID // a large venue's seats show a section at a time
	}
	return mapURL(e.ID, section, ids)
}

// checkoutView is the booking page: with Stripe's Payment Element while
// the booking is held.
func (s *Server) checkoutView(c echo.Context, b *booking.Booking) (templates.BookingView, error) {
	v, err := s.bookingView(c, b)
	if err != nil {
		return v, err
	}
	// A paid booking's page shows its tickets' codes (the list of
	// bookings does not: no codes are signed for it).
	if v.QR, v.QRFor, err = s.ticketCodes(c.Request().Context(), b, v.Event); err != nil || s.stripeKey == "" {
		return v, err
	}
	in, err := s.bookings.Checkout(c.Request().Context(), b)
	switch app.ErrorCode(err) {
	case app.EUNAVAILABLE, app.ECONFLICT:
		// Stripe is unreachable, or the booking ended a moment ago: say
		// so, and the fan may reload.
		v.Error = app.ErrorMessage(err)
		return v, nil
	}
	if err != nil || in.ClientSecret == "" {
		return v, err
	}
	v.StripeKey, v.ClientSecret = s.stripeKey, in.ClientSecret
	v.ReturnURL = c.Scheme() + "://" + c.Request().Host + bookingPath(b.ID)
	return v, nil
}

func bookingPath(id int64) string { return fmt.Sprintf("/bookings/%d", id) }

// userBooking reads the :id booking of the signed-in fan.
func (s *Server) userBooking(c echo.Context) (*booking.Booking, error) {
	id, err := pathID(c, "id", "booking")
	if err != nil {
		return nil, err
	}
	u, err := requireUser(c, c.Request().URL.Path)
	if err != nil {
		return nil, err
	}
	return s.bookings.FindBooking(c.Request().Context(), u.ID, id)
}

// paymentCheckedBooking reads the :id booking of the signed-in fan as it
// stands after asking the processor how a payment in progress stands, so
// that a payment made while nobody was listening confirms the booking now.
func (s *Server) paymentCheckedBooking(c echo.Context) (*booking.Booking, error) {
	b, err := s.userBooking(c)
	if err != nil {
		return nil, err
	}
	// Back from Stripe's page: the fan has just paid, so ask afresh.
	back := c.QueryParam("payment_intent") != ""
	return s.bookings.CheckPayment(c.Request().Context(), b, back)
}

func (s *Server) handleBookingView(c echo.Context) error {
	b, err := s.paymentCheckedBooking(c)
	if err != nil {
		return err
	}
	if c.QueryParam("payment_intent") != "" {
		// Back from Stripe: show the booking at its own address.
		return c.Redirect(http.StatusSeeOther, bookingPath(b.ID))
	}
	v, err := s.checkoutView(c, b)
	if err != nil {
		return err
	}
	return ok(c, templates.BookingPage(v))
}

// handleBookingPay takes the demo payment form: a test payment method, or
// a test card number. A decline shows checkout again with the reason.
func (s *Server) handleBookingPay(c echo.Context) error {
	b, err := s.userBooking(c)
	if err != nil {
		return err
	}
	method := c.FormValue("payment_method")
	if number := strings.TrimSpace(c.FormValue("card_number")); number != "" {
		if method = payment.MethodForCard(number); method == "" {
			return s.checkoutAgain(c, b, fanError(c, app.EINVALID, "checkout.not_a_test_card", "Card", "4242 4242 4242 4242"))
		}
	}
	_, err = s.bookings.PayFound(c.Request().Context(), b, method)
	switch app.ErrorCode(err) {
	case "", app.ECONFLICT:
		// Paid, or no longer payable: the booking's page says which.
		return c.Redirect(http.StatusSeeOther, bookingPath(b.ID))
	case app.EPAYMENT, app.EINVALID, app.EUNAVAILABLE:
		return s.checkoutAgain(c, b, err)
	}
	return err
}

// checkoutAgain shows checkout again with why the payment did not go
// through.
func (s *Server) checkoutAgain(c echo.Context, b *booking.Booking, why error) error {
	v, err := s.checkoutView(c, b)
	if err != nil {
		return err
	}
	return showAgain(why, func(msg string) templ.Component {
		v.Error = msg
		return templates.BookingPage(v)
	})
}

func (s *Server) handleBookingCancel(c echo.Context) error {
	b, err := s.userBooking(c)
	if err != nil {
		return err
	}
	if _, err := s.bookings.CancelBooking(c.Request().Context(), b.UserID, b.ID); err != nil && app.ErrorCode(err) != app.ECONFLICT {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/bookings/%d", b.ID))
}

func (s *Server) handleMyBookings(c echo.Context) error {
	u, err := requireUser(c, "/account/bookings")
	if err != nil {
		return err
	}
	list, err := s.bookings.ListBookings(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	views := make([]templates.BookingView, 0, len(list))
	for _, b := range list {
		v, err := s.bookingView(c, b)
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	return ok(c, templates.MyBookings(views, s.now()))
}

// bookingJSON is a booking in the API (DESIGN §5).
type bookingJSON struct {
	ID          int64        `json:"id"`
	Status      string       `json:"status"`
	EventID     int64        `json:"event_id"`
	TicketIDs   []int64      `json:"ticket_ids"`
	Tickets     []ticketJSON `json:"tickets"`
	Total       int64        `json:"total"`
	Currency    string       `json:"currency"`
	ExpiresAt   string       `json:"expires_at"`
	CreatedAt   string       `json:"created_at"`
	ConfirmedAt *string      `json:"confirmed_at"`
	Payment     paymentJSON  `json:"payment"`
}

type paymentJSON struct {
	Provider     string `json:"provider"`
	ClientSecret string `json:"client_secret,omitempty"`
}

func toBookingJSON(b *booking.Booking, provider string) bookingJSON {
	out := bookingJSON{
		ID: b.ID, Status: b.Status, EventID: b.EventID, TicketIDs: b.TicketIDs(),
		Tickets: make([]ticketJSON, len(b.Tickets)), Total: b.Total, Currency: b.Currency,
		ExpiresAt: rfc3339(b.ExpiresAt), CreatedAt: rfc3339(b.CreatedAt), ConfirmedAt: rfc3339Ptr(b.ConfirmedAt),
		Payment: paymentJSON{Provider: provider},
	}
	if b.PaymentProvider != "" {
		out.Payment.Provider = b.PaymentProvider
	}
	for i, t := range b.Tickets {
		out.Tickets[i] = ticketJSON{ID: t.ID, SectionID: t.SectionID, Section: t.Section, Row: t.Row, Seat: t.Seat, Standing: t.Standing(),
			Price: t.Price, Currency: t.Currency, Status: t.Status}
	}
	return out
}

func (s *Server) handleAPIBookingCreate(c echo.Context) error {
	u, err := requireUser(c, "")
	if err != nil {
		return err
	}
	var in struct {
		TicketIDs []int64 `json:"ticket_ids"`
		// Best available, instead of ticket_ids.
		EventID   int64 `json:"event_id"`
		Quantity  int   `json:"quantity"`
		SectionID int64 `json:"section_id"`
		MaxPrice  int64 `json:"max_price"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	together := in.EventID != 0 || in.Quantity != 0 || in.SectionID != 0 || in.MaxPrice != 0
	var b *booking.Booking
	switch {
	case together && in.TicketIDs != nil:
		return app.Errorf(app.EINVALID, "Send either ticket_ids (the seats you chose) or event_id and quantity (the best seats together), not both.")
	case together:
		b, err = s.bookings.HoldTogether(c.Request().Context(), u.ID,
			booking.Together{EventID: in.EventID, Quantity: in.Quantity, SectionID: in.SectionID, MaxPrice: in.MaxPrice})
	default:
		b, err = s.bookings.HoldTickets(c.Request().Context(), u.ID, in.TicketIDs)
	}
	if err != nil {
		return err
	}
	out, err := s.withClientSecret(c, b)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) handleAPIBookings(c echo.Context) error {
	u, err := requireUser(c, "")
	if err != nil {
		return err
	}
	list, err := s.bookings.ListBookings(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	out := struct {
		Bookings []bookingJSON `json:"bookings"`
	}{Bookings: make([]bookingJSON, len(list))}
	for i, b := range list {
		out.Bookings[i] = toBookingJSON(b, s.paymentProvider)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleAPIBooking(c echo.Context) error {
	b, err := s.paymentCheckedBooking(c)
	if err != nil {
		return err
	}
	out, err := s.withClientSecret(c, b)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// withClientSecret is a booking for the API with, when the fan pays in an
// app or browser through Stripe, the secret of its PaymentIntent. An
// unreachable Stripe leaves the secret out: the app asks again.
func (s *Server) withClientSecret(c echo.Context, b *booking.Booking) (bookingJSON, error) {
	out := toBookingJSON(b, s.paymentProvider)
	in, err := s.bookings.Checkout(c.Request().Context(), b)
	if code := app.ErrorCode(err); err != nil && code != app.EUNAVAILABLE && code != app.ECONFLICT {
		return out, err
	}
	out.Payment.ClientSecret = in.ClientSecret
	return out, nil
}

func (s *Server) handleAPIBookingPay(c echo.Context) error {
	b, err := s.userBooking(c)
	if err != nil {
		return err
	}
	var in struct {
		PaymentMethod string `json:"payment_method"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	paid, err := s.bookings.PayFound(c.Request().Context(), b, in.PaymentMethod)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBookingJSON(paid, s.paymentProvider))
}

func (s *Server) handleAPIBookingCancel(c echo.Context) error {
	b, err := s.userBooking(c)
	if err != nil {
		return err
	}
	cancelled, err := s.bookings.CancelBooking(c.Request().Context(), b.UserID, b.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBookingJSON(cancelled, s.paymentProvider))
}
