package organiser

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/booking"
)

// Cancel marks event id cancelled: fans can no longer hold its seats, and
// its page and search say so. Settling its bookings (ending holds,
// refunding every ticket) is the booking service's, which finishes it even
// after a crash; cancelling again is harmless.
func (s *Service) Cancel(ctx context.Context, by audit.Actor, id int64) error {
	return wrap("cancel the event", pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, status, err := s.lock(ctx, tx, by, id)
		if err != nil || status == Cancelled {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE events SET status = 'cancelled', updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "event.cancel", VenueID: before.VenueID, EventID: id,
			Subject: before.Name, Before: map[string]string{"status": status}, After: map[string]string{"status": Cancelled}})
	}))
}

// BookingRow is a booking as the box office finds it.
type BookingRow struct {
	ID          int64
	Name, Email string
	Status      string
	Total       int64
	Refunded    int64
	Currency    string
	Seats       string // "Stalls A1, A2"
	ConfirmedAt *time.Time
}

// Bookings finds event id's bookings (paid, refunded, or being paid) by
// booking number, a ticket's code, or the fan's email or name; an empty q
// lists the latest. At most 50.
func (s *Service) Bookings(ctx context.Context, by audit.Actor, id int64, q string) ([]BookingRow, error) {
	var out []BookingRow
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, err := s.read(ctx, tx, by, id, false); err != nil {
			return err
		}
		q = strings.TrimSpace(q)
		number, _ := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64)
		var coded []int64 // the booking whose ticket has code q
		if ticketCode.MatchString(strings.ToUpper(q)) {
			var err error
			if coded, err = bookingsWithCode(ctx, tx, id, strings.ToUpper(q)); err != nil {
				return err
			}
		}
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		rows, err := tx.Query(ctx, `
			SELECT b.id, u.name, u.email, b.status, b.total, b.refunded, b.currency,
			       coalesce((SELECT string_agg(s.name || ' ' || coalesce(st.row_label || st.seat_number, 'standing'), ', ' ORDER BY s.position, st.row_label, st.seat_number)
			                 FROM booking_tickets bt JOIN tickets t ON t.id = bt.ticket_id LEFT JOIN seats st ON st.id = t.seat_id
			                 JOIN sections s ON s.id = t.section_id WHERE bt.booking_id = b.id), ''),
			       b.confirmed_at
			FROM bookings b JOIN users u ON u.id = b.user_id
			WHERE b.event_id = $1 AND b.status IN ('confirmed', 'refunded', 'pending')
			  AND ($2 = '' OR b.id = $3 OR u.email ILIKE $4 OR u.name ILIKE $4 OR b.id = ANY ($5))
			ORDER BY b.id DESC LIMIT 50`, id, q, number, like, coded)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[BookingRow])
		return err
	})
	return out, wrap("find bookings", err)
}

// EventOfBooking is the event of booking id, and the booking's currency,
// if the actor manages the event.
func (s *Service) EventOfBooking(ctx context.Context, by audit.Actor, bookingID int64) (eventID int64, currency string, err error) {
	var owner *int64
	err = s.pool.QueryRow(ctx, `SELECT e.id, e.owner_id, b.currency FROM bookings b JOIN events e ON e.id = b.event_id WHERE b.id = $1`, bookingID).
		Scan(&eventID, &owner, &currency)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !by.Owns(owner) {
		return 0, "", app.Errorf(app.ENOTFOUND, "You have no booking %d.", bookingID)
	}
	if err != nil {
		return 0, "", fmt.Errorf("find booking %d: %w", bookingID, err)
	}
	return eventID, currency, nil
}

// ticketCode is how a ticket's code looks (booking.TicketCode).
var ticketCode = regexp.MustCompile(`^[A-Z2-7]{5}-[A-Z2-7]{5}$`)

// bookingsWithCode finds the confirmed booking of event id holding the
// ticket whose code is code. Codes are derived, not stored, so each of
// the event's sold tickets is tried: a few milliseconds for a hall, about
// a tenth of a second for a stadium.
func bookingsWithCode(ctx context.Context, tx pgx.Tx, id int64, code string) ([]int64, error) {
	rows, err := tx.Query(ctx, `
		SELECT b.id, bt.ticket_id, b.confirmed_at FROM bookings b JOIN booking_tickets bt ON bt.booking_id = b.id
		WHERE b.event_id = $1 AND b.confirmed_at IS NOT NULL`, id)
	if err != nil {
		return nil, err
	}
	var found []int64
	var bookingID, ticketID int64
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&bookingID, &ticketID, &at}, func() error {
		if booking.TicketCode(bookingID, ticketID, at) == code {
			found = append(found, bookingID)
		}
		return nil
	})
	return found, err
}
