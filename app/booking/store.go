package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db"
)

// transact runs fn in a transaction that waits at most LockTimeout for a
// row lock and StatementTimeout for a statement, so that no request hangs
// behind a stuck lock. Running out of either is an app.EUNAVAILABLE: the
// fan may simply try again.
func (s *Service) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	err := db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`,
			milliseconds(s.cfg.LockTimeout), milliseconds(s.cfg.StatementTimeout)); err != nil {
			return err
		}
		return fn(tx)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "55P03" || pgErr.Code == "57014") {
		s.log.Warn("booking transaction timed out", "err", err)
		return &app.Error{Code: app.EUNAVAILABLE, Message: "So many fans are booking right now that we could not get to these seats in time. Try again in a moment."}
	}
	return err
}

func milliseconds(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// hold is the hold transaction: lock the requested tickets in id order,
// check every one is free (a run-out hold is), then mark them held by a new
// booking. ids are sorted and distinct.
func (s *Service) hold(ctx context.Context, userID int64, ids []int64) (int64, error) {
	now := s.now()
	var bookingID int64
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT t.id, t.event_id, t.price, t.currency,
			       t.status = 'available' OR (t.status = 'reserved' AND t.reserved_until <= $2) AS free,
			       e.starts_at, e.status
			FROM tickets t JOIN events e ON e.id = t.event_id
			WHERE t.id = ANY ($1)
			ORDER BY t.id
			FOR UPDATE OF t`, ids, now)
		if err != nil {
			return err
		}
		type row struct {
			id, eventID, price int64
			currency           string
			free               bool
			startsAt           time.Time
			eventStatus        string
		}
		var found []row
		var r row
		_, err = pgx.ForEachRow(rows, []any{&r.id, &r.eventID, &r.price, &r.currency, &r.free, &r.startsAt, &r.eventStatus}, func() error {
			found = append(found, r)
			return nil
		})
		if err != nil {
			return err
		}
		if len(found) != len(ids) {
			for i, f := range found {
				if f.id != ids[i] {
					return app.Errorf(app.EINVALID, "There is no ticket %d.", ids[i])
				}
			}
			return app.Errorf(app.EINVALID, "There is no ticket %d.", ids[len(found)])
		}
		var taken []int64
		var total int64
		for _, f := range found {
			if f.eventID != found[0].eventID {
				return app.Errorf(app.EINVALID, "A booking is for one event; tickets %d and %d are for different events.", found[0].id, f.id)
			}
			if !f.free {
				taken = append(taken, f.id)
			}
			total += f.price
		}
		switch first := found[0]; {
		case first.eventStatus != "on_sale":
			return app.Errorf(app.ECONFLICT, "This event is %s; its tickets are not on sale.", first.eventStatus)
		case !first.startsAt.After(now):
			return app.Errorf(app.ECONFLICT, "This event has already started; its tickets are no longer on sale.")
		case len(taken) > 0:
			return unavailable(taken)
		}

		expires := now.Add(s.cfg.HoldTTL)
		err = tx.QueryRow(ctx, `
			INSERT INTO bookings (user_id, event_id, status, total, currency, expires_at, created_at, updated_at)
			VALUES ($1, $2, 'pending', $3, $4, $5, $6, $6) RETURNING id`,
			userID, found[0].eventID, total, found[0].currency, expires, now).Scan(&bookingID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO booking_tickets (booking_id, ticket_id, price)
			SELECT $1, t.id, t.price FROM tickets t WHERE t.id = ANY ($2)`, bookingID, ids); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE tickets SET status = 'reserved', booking_id = $1, reserved_until = $2
			WHERE id = ANY ($3)`, bookingID, expires, ids)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(len(ids)) { // cannot happen: the rows are locked
			return fmt.Errorf("hold touched %d of %d tickets", tag.RowsAffected(), len(ids))
		}
		return nil
	})
	if err != nil {
		var ae *app.Error
		if errors.As(err, &ae) {
			return 0, err
		}
		return 0, fmt.Errorf("hold tickets %v: %w", ids, err)
	}
	return bookingID, nil
}

// end cancels (or expires) a pending booking of userID and frees its seats.
func (s *Service) end(ctx context.Context, userID, id int64, status string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var current string
		err := tx.QueryRow(ctx, `SELECT status FROM bookings WHERE id = $1 AND user_id = $2 FOR UPDATE`, id, userID).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if current != StatusPending {
			return notPending(&Booking{Status: current})
		}
		if err := release(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE bookings SET status = $2, updated_at = $3 WHERE id = $1`, id, status, s.now())
		return err
	})
}

// release frees the tickets booking id still holds, locking them in id
// order like every other writer.
func release(ctx context.Context, tx pgx.Tx, id int64) error {
	_, err := tx.Exec(ctx, `
		WITH mine AS (
			SELECT id FROM tickets WHERE booking_id = $1 AND status = 'reserved' ORDER BY id FOR UPDATE
		)
		UPDATE tickets t SET status = 'available', booking_id = NULL, reserved_until = NULL
		FROM mine WHERE t.id = mine.id`, id)
	return err
}

type confirmOutcome int

const (
	confirmed confirmOutcome = iota
	lostHold
)

// confirm sells booking id's tickets to it if it still holds every one.
// It returns lostHold (changing nothing) when it does not.
func (s *Service) confirm(ctx context.Context, id int64, receipt payment.Receipt) (confirmOutcome, int64, error) {
	var outcome confirmOutcome
	var userID int64
	err := s.transact(ctx, func(tx pgx.Tx) error {
		outcome = confirmed
		var status string
		var provider, paymentID *string
		err := tx.QueryRow(ctx, `SELECT user_id, status, payment_provider, payment_id FROM bookings WHERE id = $1 FOR UPDATE`, id).
			Scan(&userID, &status, &provider, &paymentID)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if status == StatusConfirmed && paymentID != nil && *paymentID == receipt.ID {
			return nil // already confirmed with this payment
		}
		if status != StatusPending {
			outcome = lostHold // cancelled, expired or refunded meanwhile: the money goes back
			return nil
		}
		var wanted, held int
		err = tx.QueryRow(ctx, `
			WITH mine AS (
				SELECT t.id, t.booking_id = $1 AND t.status = 'reserved' AS held
				FROM booking_tickets bt JOIN tickets t ON t.id = bt.ticket_id
				WHERE bt.booking_id = $1
				ORDER BY t.id FOR UPDATE OF t
			)
			SELECT count(*), count(*) FILTER (WHERE held) FROM mine`, id).Scan(&wanted, &held)
		if err != nil {
			return err
		}
		if held != wanted {
			outcome = lostHold
			return nil
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'sold', reserved_until = NULL WHERE booking_id = $1 AND status = 'reserved'`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE bookings SET status = 'confirmed', confirmed_at = $2, updated_at = $2,
			payment_provider = $3, payment_id = $4 WHERE id = $1`, id, now, receipt.Provider, receipt.ID)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("confirm booking %d: %w", id, err)
	}
	return outcome, userID, nil
}

// markRefunded ends a booking whose payment was refunded, freeing any seat
// it still holds.
func (s *Service) markRefunded(ctx context.Context, id int64, receipt payment.Receipt) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM bookings WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
			return err
		}
		if status == StatusConfirmed {
			return nil
		}
		if err := release(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE bookings SET status = 'refunded', updated_at = $2, payment_provider = $3, payment_id = $4
			WHERE id = $1`, id, s.now(), receipt.Provider, receipt.ID)
		return err
	})
}

func (s *Service) sweepExpired(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id FROM bookings WHERE status = 'pending' AND expires_at <= $1
			ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`, now)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `
			WITH mine AS (
				SELECT id FROM tickets WHERE booking_id = ANY ($1) AND status = 'reserved' ORDER BY id FOR UPDATE
			)
			UPDATE tickets t SET status = 'available', booking_id = NULL, reserved_until = NULL
			FROM mine WHERE t.id = mine.id`, ids); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE bookings SET status = 'expired', updated_at = $2 WHERE id = ANY ($1)`, ids, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep expired bookings: %w", err)
	}
	return n, nil
}

const bookingColumns = `b.id, b.user_id, b.event_id, b.status, b.total, b.currency,
	coalesce(b.payment_provider, ''), coalesce(b.payment_id, ''), b.expires_at, b.created_at, b.confirmed_at`

func scanBooking(row pgx.Row) (*Booking, error) {
	b := &Booking{}
	err := row.Scan(&b.ID, &b.UserID, &b.EventID, &b.Status, &b.Total, &b.Currency,
		&b.PaymentProvider, &b.PaymentID, &b.ExpiresAt, &b.CreatedAt, &b.ConfirmedAt)
	return b, err
}

func findBooking(ctx context.Context, pool *pgxpool.Pool, userID, id int64) (*Booking, error) {
	b, err := scanBooking(pool.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings b WHERE b.id = $1 AND b.user_id = $2`, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find booking %d: %w", id, err)
	}
	if err := loadTickets(ctx, pool, []*Booking{b}); err != nil {
		return nil, err
	}
	return b, nil
}

func listBookings(ctx context.Context, pool *pgxpool.Pool, userID int64) ([]*Booking, error) {
	rows, err := pool.Query(ctx, `SELECT `+bookingColumns+` FROM bookings b WHERE b.user_id = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT 200`, userID)
	if err != nil {
		return nil, fmt.Errorf("list bookings: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Booking, error) { return scanBooking(row) })
	if err != nil {
		return nil, fmt.Errorf("list bookings: %w", err)
	}
	if err := loadTickets(ctx, pool, list); err != nil {
		return nil, err
	}
	return list, nil
}

// loadTickets fills in the seats of bookings, in one query.
func loadTickets(ctx context.Context, pool *pgxpool.Pool, list []*Booking) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[int64]*Booking, len(list))
	ids := make([]int64, len(list))
	for i, b := range list {
		byID[b.ID], ids[i] = b, b.ID
		b.Tickets = []Ticket{}
	}
	rows, err := pool.Query(ctx, `
		SELECT bt.booking_id, t.id, t.section_id, s.name, st.row_label, st.seat_number, bt.price, t.currency, t.status
		FROM booking_tickets bt
		JOIN tickets t ON t.id = bt.ticket_id
		JOIN seats st ON st.id = t.seat_id
		JOIN sections s ON s.id = t.section_id
		WHERE bt.booking_id = ANY ($1)
		ORDER BY bt.booking_id, s.position, st.id`, ids)
	if err != nil {
		return fmt.Errorf("booking tickets: %w", err)
	}
	var bookingID int64
	var t Ticket
	_, err = pgx.ForEachRow(rows, []any{&bookingID, &t.ID, &t.SectionID, &t.Section, &t.Row, &t.Seat, &t.Price, &t.Currency, &t.Status}, func() error {
		byID[bookingID].Tickets = append(byID[bookingID].Tickets, t)
		return nil
	})
	if err != nil {
		return fmt.Errorf("booking tickets: %w", err)
	}
	return nil
}
