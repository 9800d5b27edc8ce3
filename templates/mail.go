package templates

import (
	"fmt"
	"strings"

	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
)

// ConfirmationMail is what the confirmation e-mail says: its subject and
// its plain text (ConfirmationHTML is the same, for mail readers that
// show HTML). Dates and money read as the pages write them.
type ConfirmationMail struct {
	Booking *booking.Booking
	Event   *event.Event
	URL     string // the booking's page, absolute
}

// Subject is the message's subject.
func (m ConfirmationMail) Subject() string { return "Your tickets: " + m.Event.Name }

// Text is the plain text part.
func (m ConfirmationMail) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "You're going to %s.\n\n", m.Event.Name)
	fmt.Fprintf(&b, "%s\n%s, %s\n\n", longDateTime(m.Event.StartsAt, m.Event.Location()), m.Event.Venue.Name, address(m.Event.Venue))
	fmt.Fprintf(&b, "Booking %d, paid %s:\n", m.Booking.ID, Money(m.Booking.Total, m.Booking.Currency))
	for _, t := range m.Booking.Tickets {
		fmt.Fprintf(&b, "- %s (%s)\n", seatLabel(t), Money(t.Price, t.Currency))
	}
	fmt.Fprintf(&b, "\nAt the door, open your booking on your phone: its codes change every 30 seconds.\n%s\n\n", m.URL)
	b.WriteString("The attached codes are for printing: they do not change, so keep them to yourself (a copy gets in once, whoever shows it first).\n")
	b.WriteString("The attached calendar file adds the event to your calendar.\n")
	return b.String()
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
func (m RefundMail) Subject() string {
	if m.Cancelled {
		return "Cancelled: " + m.Event.Name + " (refunded)"
	}
	return "Your refund: " + m.Event.Name
}

// Text is the plain text part.
func (m RefundMail) Text() string {
	var b strings.Builder
	if m.Cancelled {
		fmt.Fprintf(&b, "We are sorry: %s, on %s at %s, is cancelled.\n\n", m.Event.Name, longDateTime(m.Event.StartsAt, m.Event.Location()), m.Event.Venue.Name)
	}
	fmt.Fprintf(&b, "%s of booking %d is on its way back to the card you paid with (banks take a few days to show it).\n",
		Money(m.Amount, m.Booking.Currency), m.Booking.ID)
	switch {
	case m.Booking.Status == booking.StatusRefunded:
		b.WriteString("The booking is refunded in full: its tickets are no longer valid.\n")
	default:
		fmt.Fprintf(&b, "%s has been refunded in all; your tickets stay valid.\n", Money(m.Booking.Refunded, m.Booking.Currency))
	}
	fmt.Fprintf(&b, "\n%s\n", m.URL)
	return b.String()
}
