package templates

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
)

// BookingView is the checkout page of a pending booking, or the
// confirmation (or epitaph) of one that is not.
type BookingView struct {
	Booking *booking.Booking
	Event   *event.Event
	Now     time.Time
	// QR is each ticket's QR code (SVG) for the present window, by ticket
	// id, when the booking is paid and the event to come; QRFor is how many
	// seconds the codes have left before they turn.
	QR    map[int64]string
	QRFor int
	Error string // why the last payment failed
	// Provider is the payment processor: "demo" moves no money, "stripe"
	// takes cards through Stripe.
	Provider string
	// TestMode is true unless real money moves (Stripe with live keys):
	// only then does checkout offer Stripe's test cards and say that no
	// money moves.
	TestMode bool
	// With Stripe, the Payment Element: the publishable key, the booking's
	// PaymentIntent secret, and where Stripe sends the fan back.
	StripeKey, ClientSecret, ReturnURL string
	// MapURL is the seat map with the booking's seats ticked again.
	MapURL string
}

// PayMethod is a test payment method the demo processor takes: a test
// card and what paying with it does (succeeds, declined,
// insufficient_funds).
type PayMethod struct {
	Value, Card, Outcome string
}

// Label names the card and what it does, in the page's language.
func (m PayMethod) Label(ctx context.Context) string {
	return tr(ctx, "checkout.method_"+m.Outcome, "Card", m.Card)
}

// DemoMethods are offered on the demo checkout, successes first.
var DemoMethods = []PayMethod{
	{"pm_card_visa", "Visa 4242 4242 4242 4242", "succeeds"},
	{"pm_card_mastercard", "Mastercard 5555 5555 5555 4444", "succeeds"},
	{"pm_card_chargeDeclined", "Visa 4000 0000 0000 0002", "declined"},
	{"pm_card_chargeDeclinedInsufficientFunds", "Visa 4000 0000 0000 9995", "insufficient_funds"},
}

func bookingURL(id int64) string { return fmt.Sprintf("/bookings/%d", id) }

func bookingAction(id int64, action string) string { return fmt.Sprintf("/bookings/%d/%s", id, action) }

// minutesLeft is the time left on a hold, as the page says it.
func minutesLeft(b *booking.Booking, now time.Time) string {
	left := b.ExpiresAt.Sub(now).Round(time.Second)
	m, s := int(left.Minutes()), int(left.Seconds())%60
	return fmt.Sprintf("%d:%02d", m, s)
}

func statusLabel(ctx context.Context, status string) string {
	switch status {
	case booking.StatusPending:
		return tr(ctx, "booking.status_pending")
	case booking.StatusConfirmed:
		return tr(ctx, "booking.status_confirmed")
	case booking.StatusCancelled:
		return tr(ctx, "booking.status_cancelled")
	case booking.StatusExpired:
		return tr(ctx, "booking.status_expired")
	case booking.StatusRefunded:
		return tr(ctx, "booking.status_refunded")
	}
	return status
}

// SeatLabel names a ticket's place in the language of ctx: "Stalls, row
// A, seat 12", "Floor, standing".
func SeatLabel(ctx context.Context, t booking.Ticket) string { return seatLabel(ctx, t) }

func seatLabel(ctx context.Context, t booking.Ticket) string {
	if t.Standing() {
		return tr(ctx, "booking.seat_standing", "Section", sectionName(ctx, t.Section))
	}
	return tr(ctx, "booking.seat", "Section", sectionName(ctx, t.Section), "Row", t.Row, "Seat", t.Seat)
}

func ticketCount(ctx context.Context, n int) string { return trn(ctx, "booking.tickets", n) }

// bookingGroup is a heading of the bookings list and its rows.
type bookingGroup struct {
	Key, Title string
	Rows       []BookingView
}

// groupBookings sorts a fan's bookings (newest first) into what they are
// now: tickets to come (soonest first), holds to pay, past events, and
// attempts that ended without tickets. Empty groups are left out.
func groupBookings(ctx context.Context, list []BookingView, now time.Time) []bookingGroup {
	groups := []bookingGroup{
		{Key: "upcoming", Title: tr(ctx, "booking.group_upcoming")},
		{Key: "held", Title: tr(ctx, "booking.group_held")},
		{Key: "past", Title: tr(ctx, "booking.group_past")},
		{Key: "ended", Title: tr(ctx, "booking.group_ended")},
	}
	for _, v := range list {
		i := 3
		switch {
		case v.Booking.Status == booking.StatusConfirmed && v.Event.StartsAt.After(now):
			i = 0
		case v.Booking.Held(now):
			i = 1
		case v.Booking.Status == booking.StatusConfirmed:
			i = 2
		}
		groups[i].Rows = append(groups[i].Rows, v)
	}
	slices.SortStableFunc(groups[0].Rows, func(a, b BookingView) int { return a.Event.StartsAt.Compare(b.Event.StartsAt) })
	return slices.DeleteFunc(groups, func(g bookingGroup) bool { return len(g.Rows) == 0 })
}

// amountLine says what a booking cost, in words that cannot be read as a
// charge when nothing was.
func amountLine(ctx context.Context, b *booking.Booking, now time.Time) string {
	total := money(ctx, b.Total, b.Currency)
	switch {
	case b.Status == booking.StatusConfirmed && b.Refunded > 0:
		return tr(ctx, "booking.amount_paid_refunded", "Total", total, "Refunded", money(ctx, b.Refunded, b.Currency))
	case b.Status == booking.StatusConfirmed:
		return tr(ctx, "booking.amount_paid", "Total", total)
	case b.Held(now):
		return tr(ctx, "booking.amount_to_pay", "Total", total)
	case b.Status == booking.StatusRefunded:
		return tr(ctx, "booking.amount_refunded_in_full", "Total", total)
	}
	return tr(ctx, "booking.amount_nothing_charged")
}

func ternaryInt(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}
