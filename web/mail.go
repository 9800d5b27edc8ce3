package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/templates"
)

// renderMail draws a message written as its kind and payload, as the
// pages would: the mail sender calls it when the message goes out, with
// the message's language (the fan's) in ctx.
func (s *Server) renderMail(ctx context.Context, kind string, payload []byte) (mail.Message, error) {
	switch kind {
	case booking.MailConfirmation:
		var p struct {
			BookingID int64 `json:"booking_id"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return mail.Message{}, fmt.Errorf("a confirmation's payload: %w", err)
		}
		return s.confirmationMail(ctx, p.BookingID)
	case booking.MailRefund, booking.MailCancelled:
		var p struct {
			BookingID int64 `json:"booking_id"`
			Amount    int64 `json:"amount"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return mail.Message{}, fmt.Errorf("a refund's payload: %w", err)
		}
		return s.refundMail(ctx, kind, p.BookingID, p.Amount)
	}
	return mail.Message{}, fmt.Errorf("no drawing for mail of kind %q", kind)
}

// confirmationMail tells a fan their booking is paid: the tickets, a
// printable code for each (PNG) and the event for their calendar.
func (s *Server) confirmationMail(ctx context.Context, id int64) (mail.Message, error) {
	b, err := s.bookings.BookingByID(ctx, id)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return mail.Message{}, mail.ErrNothingToSay
	}
	if err != nil {
		return mail.Message{}, err
	}
	if b.Status != booking.StatusConfirmed {
		return mail.Message{}, mail.ErrNothingToSay // refunded meanwhile: that message says so
	}
	e, err := s.events.FindEventByID(ctx, b.EventID)
	if err != nil {
		return mail.Message{}, err
	}
	m := templates.ConfirmationMail{Booking: b, Event: e, URL: s.baseURL + bookingPath(b.ID)}
	var html bytes.Buffer
	if err := templates.ConfirmationHTML(m).Render(ctx, &html); err != nil {
		return mail.Message{}, err
	}
	out := mail.Message{Kind: booking.MailConfirmation, Subject: m.Subject(ctx), Text: m.Text(ctx), HTML: html.String(), Language: locale.From(ctx).Code,
		Attachments: []mail.Attachment{{Name: "event.ics", Type: "text/calendar", Data: []byte(calendar(e, s.baseURL, s.now()))}}}
	for _, t := range b.Tickets {
		png, err := ticket.QRPNG(s.tickets.Code(t.ID, b.ID, b.EventID, ticket.Printed), 6)
		if err != nil {
			return mail.Message{}, err
		}
		out.Attachments = append(out.Attachments, mail.Attachment{Name: fmt.Sprintf("ticket-%d.png", t.ID), Type: "image/png", Data: png})
	}
	return out, nil
}

// refundMail tells a fan money was given back, or that their event is
// cancelled and they are refunded.
func (s *Server) refundMail(ctx context.Context, kind string, id, amount int64) (mail.Message, error) {
	b, err := s.bookings.BookingByID(ctx, id)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return mail.Message{}, mail.ErrNothingToSay
	}
	if err != nil {
		return mail.Message{}, err
	}
	e, err := s.events.FindEventByID(ctx, b.EventID)
	if err != nil {
		return mail.Message{}, err
	}
	m := templates.RefundMail{Booking: b, Event: e, Amount: amount, Cancelled: kind == booking.MailCancelled, URL: s.baseURL + bookingPath(b.ID)}
	var html bytes.Buffer
	if err := templates.RefundHTML(m).Render(ctx, &html); err != nil {
		return mail.Message{}, err
	}
	return mail.Message{Kind: kind, Subject: m.Subject(ctx), Text: m.Text(ctx), HTML: html.String(), Language: locale.From(ctx).Code}, nil
}
