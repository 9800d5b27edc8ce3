package templates

import (
	"context"
	"fmt"
	"strings"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
)

// Mails speak the language of the context they are drawn with (the fan's,
// which the outbox keeps with each message); their dates are in the
// venue's zone, as on the pages.

// ConfirmationMail is what the confirmation e-mail says: its subject and
// its plain text (ConfirmationHTML is the same, for mail readers that
// show HTML). Dates and money read as the pages write them.
type ConfirmationMail struct {
	Booking *booking.Booking
	Event   *event.Event
	URL     string // the booking's page, absolute
}

// Subject is the message's subject.
func (m ConfirmationMail) Subject(ctx context.Context) string {
	return tr(ctx, "mail.confirmation_subject", "Event", m.Event.Name)
}

// Text is the plain text part.
func (m ConfirmationMail) Text(ctx context.Context) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", tr(ctx, "mail.confirmation_going_text", "Event", m.Event.Name))
	fmt.Fprintf(&b, "%s\n%s, %s\n\n", dateTime(ctx, m.Event.StartsAt, m.Event.Location()), m.Event.Venue.Name, address(m.Event.Venue))
	fmt.Fprintf(&b, "%s\n", m.paid(ctx))
	for _, t := range m.Booking.Tickets {
		fmt.Fprintf(&b, "- %s\n", ticketLine(ctx, t))
	}
	fmt.Fprintf(&b, "\n%s\n%s\n\n", tr(ctx, "mail.confirmation_at_the_door"), m.URL)
	fmt.Fprintf(&b, "%s\n", tr(ctx, "mail.confirmation_printed_codes"))
	fmt.Fprintf(&b, "%s\n", tr(ctx, "mail.confirmation_calendar"))
	return b.String()
}

// paid is "Booking 12, paid £50.00:".
func (m ConfirmationMail) paid(ctx context.Context) string {
	return tr(ctx, "mail.confirmation_paid", "Booking", itoa(m.Booking.ID), "Total", money(ctx, m.Booking.Total, m.Booking.Currency))
}

// ticketLine is a ticket in a mail's list: its place and its price.
func ticketLine(ctx context.Context, t booking.Ticket) string {
	return tr(ctx, "mail.ticket_line", "Seat", seatLabel(ctx, t), "Price", money(ctx, t.Price, t.Currency))
}

// RefundMail tells a fan money was given back: a refund by the box office
// (or the payment processor), or all of it when their event is cancelled.
type RefundMail struct {
	Booking   *booking.Booking
	Event     *event.Event
	Amount    int64 // given back this time, minor units
	Cancelled bool  // the event is cancelled
	URL       string
}

// Subject is the message's subject.
func (m RefundMail) Subject(ctx context.Context) string {
	if m.Cancelled {
		return tr(ctx, "mail.cancelled_subject", "Event", m.Event.Name)
	}
	return tr(ctx, "mail.refund_subject", "Event", m.Event.Name)
}

// Text is the plain text part.
func (m RefundMail) Text(ctx context.Context) string {
	var b strings.Builder
	if m.Cancelled {
		fmt.Fprintf(&b, "%s\n\n", tr(ctx, "mail.cancelled_sorry", "Event", m.Event.Name,
			"When", dateTime(ctx, m.Event.StartsAt, m.Event.Location()), "Venue", m.Event.Venue.Name))
	}
	fmt.Fprintf(&b, "%s\n", tr(ctx, "mail.refund_on_its_way", "Amount", money(ctx, m.Amount, m.Booking.Currency), "Booking", itoa(m.Booking.ID)))
	switch {
	case m.Booking.Status == booking.StatusRefunded:
		fmt.Fprintf(&b, "%s\n", tr(ctx, "mail.refund_in_full"))
	default:
		fmt.Fprintf(&b, "%s\n", tr(ctx, "mail.refund_in_part", "Amount", money(ctx, m.Booking.Refunded, m.Booking.Currency)))
	}
	fmt.Fprintf(&b, "\n%s\n", m.URL)
	return b.String()
}
