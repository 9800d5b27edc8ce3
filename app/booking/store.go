package booking

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/db"
)

// This file holds every statement on bookings and tickets. Ticket rows
// change only through hold (available → reserved) and transition (reserved
// → sold, or back to available), each inside a transaction that locks the
// rows in id order.

// transact runs fn in a transaction that waits at most LockTimeout for a
// row lock and StatementTimeout for a statement, so that no request hangs
// behind a stuck lock. Running out of either is an error that
// db.Unavailable (and so the web layer) reads as "busy, try again".
func (s *Service) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	// Sent with BEGIN, so the limits cost no round trip of their own.
	settings := "SET LOCAL lock_timeout = " + milliseconds(s.cfg.LockTimeout) +
		"; SET LOCAL statement_timeout = " + milliseconds(s.cfg.StatementTimeout)
	return db.TransactWith(ctx, s.pool, settings, fn)
}

func milliseconds(d time.Duration) string { return strconv.FormatInt(max(d.Milliseconds(), 1), 10) }

// hold is the hold transaction: lock the requested tickets in id order,
// check every one is free (a run-out hold is), then mark them held by a new
// booking, which it returns as written. ids are sorted and distinct.
func (s *Service) hold(ctx context.Context, userID int64, ids []int64) (*Booking, error) {
	now := s.now()
	var b *Booking
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT t.id, t.event_id, t.price, t.currency,
			       t.status = 'available' OR (t.status = 'reserved' AND t.reserved_until <= $2) AS free,
			       e.starts_at, e.status, t.section_id, s.name, coalesce(st.row_label, ''), coalesce(st.seat_number, 0),
			       s.position, coalesce(t.seat_id, 0), e.on_sale_at, e.queue, e.timezone
			FROM tickets t
			JOIN events e ON e.id = t.event_id
			LEFT JOIN seats st ON st.id = t.seat_id -- none for a standing place
			JOIN sections s ON s.id = t.section_id
			WHERE t.id = ANY ($1)
			ORDER BY t.id
			FOR UPDATE OF t`, ids, now)
		if err != nil {
			return err
		}
		type row struct {
			Ticket
			eventID, seatID int64
			free            bool
			startsAt        time.Time
			eventStatus     string
			sectionPosition int
			onSaleAt        *time.Time
			queue           string
			timezone        string
		}
		var found []row
		var r row
		_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.eventID, &r.Price, &r.Currency, &r.free, &r.startsAt, &r.eventStatus,
			&r.SectionID, &r.Section, &r.Row, &r.Seat, &r.sectionPosition, &r.seatID,
			&r.onSaleAt, &r.queue, &r.timezone}, func() error {
			found = append(found, r)
			return nil
		})
		if err != nil {
			return err
		}
		if len(found) != len(ids) {
			for i, f := range found {
				if f.ID != ids[i] {
					return app.Errorf(app.EINVALID, "There is no ticket %d.", ids[i])
				}
			}
			return app.Errorf(app.EINVALID, "There is no ticket %d.", ids[len(found)])
		}
		var taken []int64
		var total int64
		for _, f := range found {
			if f.eventID != found[0].eventID {
				return app.Errorf(app.EINVALID, "A booking is for one event; tickets %d and %d are for different events.", found[0].ID, f.ID)
			}
			if !f.free {
				taken = append(taken, f.ID)
			}
			total += f.Price
		}
		first := found[0]
		switch {
		case first.eventStatus != "on_sale":
			return app.Errorf(app.ECONFLICT, "This event is %s; its tickets are not on sale.", first.eventStatus)
		case !first.startsAt.After(now):
			return app.Errorf(app.ECONFLICT, "This event has already started; its tickets are no longer on sale.")
		case first.onSaleAt != nil && first.onSaleAt.After(now):
			return notOnSaleYet(first.eventID, *first.onSaleAt, first.timezone)
		case len(taken) > 0:
			return &UnavailableError{TicketIDs: taken}
		}
		// A queued event: only a fan the waiting room let in. Asked only
		// here, so that the seats taken (most attempts at an on-sale) cost
		// nothing more.
		var admittedUntil *time.Time
		if first.queue != QueueOff {
			var engaged bool
			if err := tx.QueryRow(ctx, `
				SELECT coalesce((SELECT engaged FROM queue_state WHERE event_id = $1), false),
				       (SELECT admitted_until FROM queue_entries WHERE event_id = $1 AND user_id = $2
				        AND admitted_at IS NOT NULL AND left_at IS NULL)`,
				first.eventID, userID).Scan(&engaged, &admittedUntil); err != nil {
				return err
			}
			if (first.queue == QueueAlways || engaged) && (admittedUntil == nil || !admittedUntil.After(now)) {
				return queueRequired(first.eventID)
			}
		}

		b = &Booking{UserID: userID, EventID: found[0].eventID, Status: StatusPending, Total: total, Currency: found[0].Currency,
			ExpiresAt: now.Add(s.cfg.HoldTTL), CreatedAt: now}
		// The booking, its tickets and the hold, in one statement, unless
		// the fan would have more than MaxTickets of the event. One fan's
		// holds go one at a time (two tabs at once): the lock is taken by a
		// statement of its own, so that the hold's, which counts what the
		// fan has, sees what a hold before it committed. Both go in one
		// round trip.
		var touched, owned int
		var id *int64
		var key *string
		batch := &pgx.Batch{}
		batch.Queue(`SELECT pg_advisory_xact_lock(`+holdLock+`, $1::int)`, int32(userID))
		batch.Queue(`
			WITH owned AS (
				SELECT count(*)::int AS n FROM bookings ob JOIN tickets o ON o.booking_id = ob.id
				WHERE ob.user_id = $1 AND ob.event_id = $2
				  AND (o.status = 'sold' OR (o.status = 'reserved' AND o.reserved_until > $6))
			), b AS (
				INSERT INTO bookings (user_id, event_id, status, total, currency, expires_at, created_at, updated_at)
				SELECT $1, $2, 'pending', $3, $4, $5, $6, $6 FROM owned WHERE owned.n + $8 <= $9
				RETURNING id, payment_key
			), bt AS (
				INSERT INTO booking_tickets (booking_id, ticket_id, price)
				SELECT b.id, t.id, t.price FROM b, tickets t WHERE t.id = ANY ($7)
			), held AS (
				UPDATE tickets t SET status = 'reserved', booking_id = b.id, reserved_until = $5
				FROM b WHERE t.id = ANY ($7)
				RETURNING t.id
			)
			SELECT owned.n, b.id, b.payment_key::text, (SELECT count(*) FROM held) FROM owned LEFT JOIN b ON true`,
			userID, b.EventID, total, b.Currency, b.ExpiresAt, now, ids, len(ids), s.cfg.MaxTickets).QueryRow(func(row pgx.Row) error {
			return row.Scan(&owned, &id, &key, &touched)
		})
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		if id == nil {
			return ticketLimit(s.cfg.MaxTickets, owned)
		}
		b.ID, b.PaymentKey = *id, *key
		if touched != len(ids) { // cannot happen: the rows are locked
			return fmt.Errorf("hold touched %d of %d tickets", touched, len(ids))
		}
		if admittedUntil != nil && admittedUntil.Before(b.ExpiresAt) {
			// An admitted fan's window lasts while they hold unpaid seats.
			if _, err := tx.Exec(ctx, `UPDATE queue_entries SET admitted_until = greatest(admitted_until, $3)
				WHERE event_id = $1 AND user_id = $2 AND admitted_at IS NOT NULL AND left_at IS NULL`,
				b.EventID, userID, b.ExpiresAt); err != nil {
				return err
			}
		}
		// In the order every reader shows them: by section, then seat.
		slices.SortFunc(found, func(a, b row) int {
			return cmp.Or(cmp.Compare(a.sectionPosition, b.sectionPosition), cmp.Compare(a.seatID, b.seatID))
		})
		b.Tickets = make([]Ticket, len(found))
		for i, f := range found {
			b.Tickets[i] = f.Ticket
			b.Tickets[i].Status = "reserved"
		}
		return nil
	})
	if err != nil {
		if _, ok := errors.AsType[*app.Error](err); ok {
			return nil, err // for the fan: no ticket, seats taken, not on sale
		}
		return nil, fmt.Errorf("hold tickets %v: %w", ids, err)
	}
	s.committed(ctx, b.EventID)
	return b, nil
}

// committed tells Config.Committed that event's tickets changed. The
// change is made: a failure here is only logged.
func (s *Service) committed(ctx context.Context, eventID int64) {
	if s.cfg.Committed == nil {
		return
	}
	if err := s.cfg.Committed(ctx, eventID); err != nil && ctx.Err() == nil {
		s.log.Warn("live availability did not follow a change", "event", eventID, "err", err)
	}
}

// locked is a booking as read under its row lock.
type locked struct {
	userID, eventID int64
	status          string
	total           int64
	currency        string
	provider, payID string
	refunded        int64
}

// lock reads booking id and locks its row, so that every change to one
// booking waits for the one before.
func lock(ctx context.Context, tx pgx.Tx, id int64) (locked, error) {
	var l locked
	err := tx.QueryRow(ctx, `SELECT user_id, event_id, status, total, currency, coalesce(payment_provider, ''), coalesce(payment_id, ''), refunded
		FROM bookings WHERE id = $1 FOR UPDATE`, id).Scan(&l.userID, &l.eventID, &l.status, &l.total, &l.currency, &l.provider, &l.payID, &l.refunded)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, notFound(id)
	}
	return l, err
}

// transition moves locked bookings to status `to` and their tickets with
// them, the same way for every caller: confirmed sells the seats they
// hold; cancelled and expired free the seats they hold; refunded frees
// every seat they hold or bought. receipt, when not nil, is the payment
// that confirmed or was refunded.
func transition(ctx context.Context, tx pgx.Tx, ids []int64, to string, now time.Time, receipt *payment.Receipt) error {
	from, status := []string{"reserved"}, "available"
	switch to {
	case StatusConfirmed:
		status = "sold"
	case StatusRefunded:
		from = []string{"reserved", "sold"}
	case StatusCancelled, StatusExpired:
	default:
		return fmt.Errorf("no transition to %q", to)
	}
	if _, err := tx.Exec(ctx, `
		WITH mine AS (
			SELECT id FROM tickets WHERE booking_id = ANY ($1) AND status = ANY ($2) ORDER BY id FOR UPDATE
		)
		UPDATE tickets t SET status = $3, reserved_until = NULL,
			booking_id = CASE WHEN $3 = 'available' THEN NULL ELSE t.booking_id END
		FROM mine WHERE t.id = mine.id`, ids, from, status); err != nil {
		return err
	}
	var provider, payID *string
	if receipt != nil {
		provider, payID = &receipt.Provider, &receipt.ID
	}
	// A purchase ends the fan's turn in the event's waiting room, if they
	// were let in through one: the next fan may come in.
	_, err := tx.Exec(ctx, `
		WITH b AS (
			UPDATE bookings SET status = $2, updated_at = $3,
				confirmed_at = CASE WHEN $2 = 'confirmed' THEN $3 ELSE confirmed_at END,
				refunded = CASE WHEN $2 = 'refunded' THEN total ELSE refunded END,
				payment_provider = coalesce($4, payment_provider), payment_id = coalesce($5, payment_id)
			WHERE id = ANY ($1)
			RETURNING user_id, event_id
		)
		UPDATE queue_entries q SET left_at = $3
		FROM b WHERE $2 = 'confirmed' AND q.event_id = b.event_id AND q.user_id = b.user_id
		  AND q.admitted_at IS NOT NULL AND q.left_at IS NULL`, ids, to, now, provider, payID)
	return err
}

// end cancels (or expires) a pending booking of userID and frees its seats.
func (s *Service) end(ctx context.Context, userID, id int64, to string) error {
	var l locked
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		if l, err = lock(ctx, tx, id); err != nil {
			return err
		}
		if l.userID != userID {
			return notFound(id)
		}
		if l.status != StatusPending {
			return notPending(l.status)
		}
		return transition(ctx, tx, []int64{id}, to, s.now(), nil)
	})
	if err == nil {
		s.committed(ctx, l.eventID)
	}
	return err
}

type confirmOutcome int

const (
	confirmed confirmOutcome = iota
	lostHold                 // the booking no longer holds every seat: the money goes back
	mismatch                 // not this booking's payment, or not its total: ignored
)

// confirm sells booking id's tickets to it if receipt is the booking's own
// payment of its total and the booking still holds every seat. When this
// call sold them, it gives the time it confirmed the booking at.
func (s *Service) confirm(ctx context.Context, id int64, receipt payment.Receipt) (confirmOutcome, locked, *time.Time, error) {
	var outcome confirmOutcome
	var l locked
	var sold bool
	now := s.now()
	err := s.transact(ctx, func(tx pgx.Tx) error {
		sold = false
		var err error
		if l, err = lock(ctx, tx, id); err != nil {
			return err
		}
		switch {
		case receipt.ID == "" || receipt.ID != l.payID || receipt.Provider != l.provider ||
			receipt.Amount != l.total || receipt.Currency != l.currency:
			outcome = mismatch
			return nil
		case l.status == StatusConfirmed:
			outcome = confirmed // already, with this payment
			return nil
		case l.status != StatusPending:
			outcome = lostHold // cancelled, expired or refunded meanwhile
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
		outcome, sold = confirmed, true
		if err := transition(ctx, tx, []int64{id}, StatusConfirmed, now, &receipt); err != nil {
			return err
		}
		// The fan's confirmation goes out if, and only if, this commits,
		// in their language.
		var email, language string
		if err := tx.QueryRow(ctx, `SELECT email, language FROM users WHERE id = $1`, l.userID).Scan(&email, &language); err != nil {
			return err
		}
		return s.tell(ctx, tx, mail.Message{Kind: MailConfirmation, To: email, Language: language, Payload: map[string]any{"booking_id": id}})
	})
	if err != nil {
		return 0, l, nil, fmt.Errorf("confirm booking %d: %w", id, err)
	}
	if !sold {
		return outcome, l, nil, nil
	}
	s.committed(ctx, l.eventID)
	return outcome, l, &now, nil
}

// refund records that refunded (minor units) of booking id's payment
// receipt has been given back. Only a full refund ends the booking, freeing
// every seat it held or bought; a partial one is noted and the fan keeps
// their tickets. A refund of any other payment changes nothing.
func (s *Service) refund(ctx context.Context, id int64, receipt payment.Receipt, refunded int64) error {
	return s.applyRefund(ctx, id, receipt, refunded, nil)
}

// applyRefund is refund, writing entry (if any) to the audit log with it.
func (s *Service) applyRefund(ctx context.Context, id int64, receipt payment.Receipt, refunded int64, entry *audit.Entry) error {
	var l locked
	var freed bool
	err := s.transact(ctx, func(tx pgx.Tx) error {
		freed = false
		var err error
		if l, err = lock(ctx, tx, id); err != nil {
			return err
		}
		if entry != nil {
			if err := audit.Write(ctx, tx, *entry); err != nil {
				return err
			}
		}
		// The refund written down before the processor was asked is done
		// once the booking has been refunded that much (by this answer, or
		// a webhook's).
		if _, err := tx.Exec(ctx, `UPDATE bookings SET refund_pending = NULL WHERE id = $1 AND refund_pending <= $2`, id, refunded); err != nil {
			return err
		}
		switch {
		case receipt.ID != l.payID || receipt.Provider != l.provider, l.status == StatusRefunded:
			return nil
		case refunded < l.total:
			if _, err := tx.Exec(ctx, `UPDATE bookings SET refunded = greatest(refunded, $2), updated_at = $3 WHERE id = $1`,
				id, max(refunded, 0), s.now()); err != nil {
				return err
			}
		default:
			freed = true
			if err := transition(ctx, tx, []int64{id}, StatusRefunded, s.now(), &receipt); err != nil {
				return err
			}
		}
		// The fan hears of money given back, with the change that gave it.
		delta := min(refunded, l.total) - l.refunded
		if delta <= 0 {
			return nil
		}
		var email, language, eventStatus string
		if err := tx.QueryRow(ctx, `SELECT u.email, u.language, e.status FROM users u, events e WHERE u.id = $1 AND e.id = $2`,
			l.userID, l.eventID).Scan(&email, &language, &eventStatus); err != nil {
			return err
		}
		kind := MailRefund
		if eventStatus == "cancelled" {
			kind = MailCancelled
		}
		return s.tell(ctx, tx, mail.Message{Kind: kind, To: email, Language: language, Payload: map[string]any{"booking_id": id, "amount": delta}})
	})
	if err != nil {
		return fmt.Errorf("refund booking %d: %w", id, err)
	}
	if freed {
		s.committed(ctx, l.eventID)
	}
	return nil
}

// sweepExpired expires up to 500 pending bookings whose hold ran out at
// now, and returns the payments that were made for them.
func (s *Service) sweepExpired(ctx context.Context, now time.Time) (int, []string, error) {
	n, payments, err := s.endPending(ctx, StatusExpired, now, `
		SELECT id, coalesce(payment_id, '') FROM bookings WHERE status = 'pending' AND expires_at <= $1
		ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`, now)
	if err != nil {
		return 0, nil, fmt.Errorf("sweep expired bookings: %w", err)
	}
	return n, payments, nil
}

// endPending ends the pending bookings that query (id, payment id; FOR
// UPDATE) selects, as status at now, in one transaction, and returns how
// many and the payments made for them.
func (s *Service) endPending(ctx context.Context, status string, now time.Time, query string, args ...any) (int, []string, error) {
	var ids []int64
	var payments []string
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		var id int64
		var payID string
		ids, payments = ids[:0], payments[:0]
		if _, err := pgx.ForEachRow(rows, []any{&id, &payID}, func() error {
			ids = append(ids, id)
			if payID != "" {
				payments = append(payments, payID)
			}
			return nil
		}); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return transition(ctx, tx, ids, status, now, nil)
	})
	return len(ids), payments, err
}

// notePayment records on pending booking id the payment made for it,
// before anyone can pay it, so that its outcome can be matched to the
// booking however it arrives. It reports whether the booking has that
// payment now (false: it ended meanwhile, or has another).
func (s *Service) notePayment(ctx context.Context, id int64, in payment.Intent) (bool, error) {
	var noted string
	err := s.pool.QueryRow(ctx, `
		WITH noted AS (
			UPDATE bookings SET payment_provider = $2, payment_id = $3, updated_at = $4
			WHERE id = $1 AND status = 'pending' AND payment_id IS NULL
			RETURNING payment_id
		)
		SELECT payment_id FROM noted
		UNION ALL SELECT coalesce(payment_id, '') FROM bookings WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM noted)`,
		id, in.Provider, in.ID, s.now()).Scan(&noted)
	if err != nil {
		return false, fmt.Errorf("note the payment of booking %d: %w", id, err)
	}
	return noted == in.ID, nil
}

// bookingOfPayment finds the booking a payment was made for: only the
// payment recorded on a booking counts. ok is false for a payment that is
// none of ours.
func (s *Service) bookingOfPayment(ctx context.Context, p payment.Receipt) (id int64, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT id FROM bookings WHERE payment_provider = $1 AND payment_id = $2`, p.Provider, p.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find the booking of payment %s: %w", p.ID, err)
	}
	return id, true, nil
}

// seenPaymentEvent reports whether a processor's event was applied before.
func (s *Service) seenPaymentEvent(ctx context.Context, ev payment.Event) (bool, error) {
	var seen bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payment_events WHERE provider = $1 AND event_id = $2)`,
		ev.Payment.Provider, ev.ID).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("payment event %s: %w", ev.ID, err)
	}
	return seen, nil
}

// recordPaymentEvent notes a processor's event as applied; bookingID 0
// means it was about none of our bookings.
func (s *Service) recordPaymentEvent(ctx context.Context, ev payment.Event, bookingID int64) error {
	var booking *int64
	if bookingID != 0 {
		booking = &bookingID
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO payment_events (provider, event_id, type, booking_id, received_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, ev.Payment.Provider, ev.ID, ev.Type, booking, s.now())
	if err != nil {
		return fmt.Errorf("record payment event %s: %w", ev.ID, err)
	}
	return nil
}

const bookingColumns = `b.id, b.user_id, b.event_id, b.status, b.total, b.currency,
	coalesce(b.payment_provider, ''), coalesce(b.payment_id, ''), b.payment_key::text, b.refunded,
	b.expires_at, b.created_at, b.confirmed_at`

func scanBooking(row pgx.Row) (*Booking, error) {
	b := &Booking{}
	err := row.Scan(&b.ID, &b.UserID, &b.EventID, &b.Status, &b.Total, &b.Currency,
		&b.PaymentProvider, &b.PaymentID, &b.PaymentKey, &b.Refunded, &b.ExpiresAt, &b.CreatedAt, &b.ConfirmedAt)
	return b, err
}

// BookingByID reads booking id whoever's it is, for messages about it.
func (s *Service) BookingByID(ctx context.Context, id int64) (*Booking, error) {
	b, err := scanBooking(s.pool.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings b WHERE b.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find booking %d: %w", id, err)
	}
	return b, loadTickets(ctx, s.pool, []*Booking{b})
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
		SELECT bt.booking_id, t.id, t.section_id, s.name, coalesce(st.row_label, ''), coalesce(st.seat_number, 0), bt.price, t.currency, t.status
		FROM booking_tickets bt
		JOIN tickets t ON t.id = bt.ticket_id
		LEFT JOIN seats st ON st.id = t.seat_id -- none for a standing place
		JOIN sections s ON s.id = t.section_id
		WHERE bt.booking_id = ANY ($1)
		ORDER BY bt.booking_id, s.position, st.id, t.id`, ids)
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

// invariantSQL counts, in one statement (so over one snapshot), what
// breaks each check among the events $1; the columns follow Checks.
const invariantSQL = `
WITH ev AS (SELECT unnest($1::bigint[]) AS id),
live AS (
	SELECT bt.ticket_id FROM bookings b
	JOIN booking_tickets bt ON bt.booking_id = b.id
	JOIN tickets t ON t.id = bt.ticket_id
	WHERE b.event_id IN (SELECT id FROM ev)
	  AND (b.status = 'confirmed' OR (b.status = 'pending' AND t.booking_id = b.id))
)
SELECT
	(SELECT count(*) FROM (SELECT ticket_id FROM live GROUP BY ticket_id HAVING count(*) > 1) x),
	(SELECT count(*) FROM ev WHERE
		(SELECT count(*) FROM tickets t WHERE t.event_id = ev.id AND t.status = 'sold') <>
		(SELECT count(*) FROM bookings b JOIN booking_tickets bt ON bt.booking_id = b.id
		 WHERE b.event_id = ev.id AND b.status = 'confirmed')),
	(SELECT count(*) FROM bookings b JOIN tickets t ON t.booking_id = b.id
	 WHERE b.event_id IN (SELECT id FROM ev) AND t.status = 'sold' AND b.status <> 'confirmed'),
	(SELECT count(*) FROM bookings b JOIN tickets t ON t.booking_id = b.id
	 WHERE b.event_id IN (SELECT id FROM ev) AND t.status = 'reserved' AND b.status <> 'pending'),
	(SELECT count(*) FROM bookings b JOIN booking_tickets bt ON bt.booking_id = b.id JOIN tickets t ON t.id = bt.ticket_id
	 WHERE b.event_id IN (SELECT id FROM ev) AND b.status = 'confirmed'
	   AND (t.booking_id IS DISTINCT FROM b.id OR t.status <> 'sold')),
	(SELECT count(*) FROM bookings b
	 WHERE b.event_id IN (SELECT id FROM ev)
	   AND b.total <> (SELECT coalesce(sum(price), 0) FROM booking_tickets WHERE booking_id = b.id)),
	(SELECT count(*) FROM ev WHERE EXISTS (
		SELECT 1
		FROM (SELECT price, count(*) AS n FROM tickets t WHERE t.event_id = ev.id AND t.status = 'available' GROUP BY price) c
		FULL JOIN (SELECT price, available AS n FROM ticket_stock s WHERE s.event_id = ev.id AND s.available <> 0) s USING (price)
		WHERE c.n IS DISTINCT FROM s.n))`

// changedEvents lists the events whose bookings changed after since.
func changedEvents(ctx context.Context, pool *pgxpool.Pool, since time.Time) ([]int64, error) {
	rows, err := pool.Query(ctx, `SELECT DISTINCT event_id FROM bookings WHERE updated_at > $1`, since)
	if err != nil {
		return nil, fmt.Errorf("find changed events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find changed events: %w", err)
	}
	return events, nil
}

// tell writes a message to the fan beside a change in tx; an address mail
// cannot go to does not stop the change (a payment, a refund).
func (s *Service) tell(ctx context.Context, tx pgx.Tx, m mail.Message) error {
	err := mail.Enqueue(ctx, tx, m, s.cfg.MailDomain)
	if errors.Is(err, mail.ErrBadAddress) {
		s.log.Warn("a fan's address takes no mail; message not written", "kind", m.Kind, "to", m.To)
		return nil
	}
	return err
}
