package ticket

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
)

// Door lets fans in: it checks codes and records check-ins, once per
// ticket.
type Door struct {
	pool *pgxpool.Pool
	keys *Keys
	now  func() time.Time
}

// NewDoor returns the door of the tickets keys sign.
func NewDoor(pool *pgxpool.Pool, keys *Keys, now func() time.Time) *Door {
	return &Door{pool: pool, keys: keys, now: now}
}

// Admitted is a ticket let in: what the door shows in green.
type Admitted struct {
	TicketID, EventID, BookingID int64
	Section, Row                 string
	Seat                         int // 0: a standing place
	Name                         string
	At                           time.Time
	Gate                         string
}

// CanScan tells whether the actor may scan event id's tickets: its door
// staff, its organiser, or an admin.
func (d *Door) CanScan(ctx context.Context, by audit.Actor, eventID int64) (bool, error) {
	var owner *int64
	var staff bool
	err := d.pool.QueryRow(ctx, `SELECT owner_id, EXISTS (SELECT 1 FROM event_staff WHERE event_id = $1 AND user_id = $2)
		FROM events WHERE id = $1`, eventID, by.UserID).Scan(&owner, &staff)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("who scans event %d: %w", eventID, err)
	}
	return staff || by.Owns(owner), nil
}

// Scan checks code at gate (of event eventID, or any when 0) and lets its
// ticket in, once for the booking that bought it: the first scan
// is an Admitted; later ones are 409 already_checked_in (with when and
// where); a forged, expired or malformed code is 422 invalid_code; a
// ticket refunded, cancelled or never sold is 409 not_valid. The scanner
// must be allowed at the event's door (403 otherwise).
func (d *Door) Scan(ctx context.Context, by audit.Actor, eventID int64, code, gate string) (*Admitted, error) {
	now := d.now()
	s, err := Check(d.keys.Public(), code, now)
	if err != nil {
		return nil, err
	}
	if eventID != 0 && s.EventID != eventID {
		return nil, notValid("other_event", "This ticket is for another event.")
	}
	if ok, err := d.CanScan(ctx, by, s.EventID); err != nil || !ok {
		if err == nil {
			err = &app.Error{Code: app.EFORBIDDEN, Reason: "not_door_staff", Message: "You are not door staff of this ticket's event."}
		}
		return nil, err
	}
	gate = cleanGate(gate)
	a := &Admitted{TicketID: s.TicketID, EventID: s.EventID, Gate: gate}
	var status, bookingStatus string
	var eventStatus string
	var email string
	err = d.pool.QueryRow(ctx, `
		SELECT t.status, coalesce(b.status, ''), e.status, coalesce(b.id, 0), s.name, coalesce(st.row_label, ''), coalesce(st.seat_number, 0),
		       coalesce(u.name, ''), coalesce(u.email, '')
		FROM tickets t
		JOIN events e ON e.id = t.event_id
		JOIN sections s ON s.id = t.section_id
		LEFT JOIN seats st ON st.id = t.seat_id
		LEFT JOIN bookings b ON b.id = t.booking_id
		LEFT JOIN users u ON u.id = b.user_id
		WHERE t.id = $1 AND t.event_id = $2`, s.TicketID, s.EventID).
		Scan(&status, &bookingStatus, &eventStatus, &a.BookingID, &a.Section, &a.Row, &a.Seat, &a.Name, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notValid("gone", "This ticket does not exist any more.")
	}
	if err != nil {
		return nil, fmt.Errorf("read ticket %d: %w", s.TicketID, err)
	}
	switch {
	case eventStatus == "cancelled":
		return nil, notValid("event_cancelled", "This event is cancelled: its tickets were refunded.")
	case status != "sold" || bookingStatus != "confirmed" || a.BookingID != s.BookingID:
		return nil, notValid("not_valid", "This ticket is not valid: it was refunded, or never paid for.")
	}
	if a.Name == "" {
		if addr, err := mail.ParseAddress(email); err == nil {
			a.Name = addr.Address
		}
	}
	// Exactly once: the ticket as its booking bought it is the key.
	err = d.pool.QueryRow(ctx, `
		INSERT INTO checkins (ticket_id, booking_id, event_id, at, gate, scanned_by) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (ticket_id, booking_id) DO NOTHING RETURNING at`, s.TicketID, s.BookingID, s.EventID, now, gate, nullID(by.UserID)).Scan(&a.At)
	if errors.Is(err, pgx.ErrNoRows) {
		var at time.Time
		var where string
		if err := d.pool.QueryRow(ctx, `SELECT at, gate FROM checkins WHERE ticket_id = $1 AND booking_id = $2`, s.TicketID, s.BookingID).Scan(&at, &where); err != nil {
			return nil, fmt.Errorf("read ticket %d's check-in: %w", s.TicketID, err)
		}
		msg := "Already in: this ticket was scanned at " + at.UTC().Format("15:04:05 UTC")
		if where != "" {
			msg += " at gate " + where
		}
		return nil, &app.Error{Code: app.ECONFLICT, Reason: "already_checked_in", Message: msg + ".",
			Detail: map[string]any{"checked_in_at": at.UTC().Format(time.RFC3339), "gate": where, "ticket_id": s.TicketID}}
	}
	if err != nil {
		return nil, fmt.Errorf("check in ticket %d: %w", s.TicketID, err)
	}
	return a, nil
}

// notValid refuses a ticket; why says which way, for pages that say it in
// the reader's language (other_event, gone, event_cancelled, not_valid).
func notValid(why, msg string) error {
	return &app.Error{Code: app.ECONFLICT, Reason: "not_valid", Message: msg, Detail: map[string]any{"why": why}}
}

// cleanGate makes a gate's name safe to keep: valid UTF-8, no control
// characters, at most 100 characters.
func cleanGate(gate string) string {
	gate = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(gate, ""))
	gate = strings.TrimSpace(gate)
	if r := []rune(gate); len(r) > 100 {
		gate = string(r[:100])
	}
	return gate
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Grant makes the account of email door staff of event id, as its
// organiser (or an admin) asks.
func (d *Door) Grant(ctx context.Context, by audit.Actor, eventID int64, email string) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var owner *int64
		var venueID int64
		err := tx.QueryRow(ctx, `SELECT owner_id, venue_id FROM events WHERE id = $1`, eventID).Scan(&owner, &venueID)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !by.Owns(owner) {
			return app.Errorf(app.ENOTFOUND, "You have no event %d.", eventID)
		}
		if err != nil {
			return err
		}
		var userID int64
		err = tx.QueryRow(ctx, `SELECT id FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email)).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return &app.Error{Code: app.EINVALID, Reason: "no_account", Message: fmt.Sprintf("There is no account for %s: they sign up first.", email),
				Detail: map[string]any{"field": "email"}}
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO event_staff (event_id, user_id, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			eventID, userID, nullID(by.UserID))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "event.staff", VenueID: venueID, EventID: eventID,
			Subject: strings.TrimSpace(email), After: map[string]string{"door_staff": strings.TrimSpace(email)}})
	})
}

// Counts is an event's check-ins against its tickets sold, per section.
type Counts struct {
	Section         string
	Sold, CheckedIn int
}

// CheckedIn counts event id's check-ins per section.
func (d *Door) CheckedIn(ctx context.Context, eventID int64) ([]Counts, error) {
	rows, err := d.pool.Query(ctx, `
		SELECT s.name, count(*) FILTER (WHERE t.status = 'sold')::int, count(c.ticket_id)::int
		FROM tickets t JOIN sections s ON s.id = t.section_id
		LEFT JOIN checkins c ON c.ticket_id = t.id AND c.booking_id = t.booking_id
		WHERE t.event_id = $1 GROUP BY s.id, s.name, s.position ORDER BY s.position`, eventID)
	if err != nil {
		return nil, fmt.Errorf("count check-ins: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Counts])
}

// Gate is what a gate keeps to check codes while it is offline: the key,
// the bookings whose codes are no longer good (refunded or cancelled
// after they were paid), and the tickets already in.
type Gate struct {
	EventID         int64
	Public          []byte
	Cancelled       bool
	RevokedBookings []int64
	CheckedIn       []int64
	At              time.Time
}

// GateData is event id's Gate, for those who may scan there.
func (d *Door) GateData(ctx context.Context, by audit.Actor, eventID int64) (*Gate, error) {
	if ok, err := d.CanScan(ctx, by, eventID); err != nil || !ok {
		if err == nil {
			err = app.Errorf(app.ENOTFOUND, "You are not door staff of event %d.", eventID)
		}
		return nil, err
	}
	g := &Gate{EventID: eventID, Public: d.keys.Public(), At: d.now()}
	err := d.pool.QueryRow(ctx, `
		SELECT e.status = 'cancelled',
		       coalesce((SELECT array_agg(id ORDER BY id) FROM bookings WHERE event_id = $1 AND confirmed_at IS NOT NULL AND status <> 'confirmed'), '{}'),
		       coalesce((SELECT array_agg(c.ticket_id ORDER BY c.ticket_id) FROM checkins c JOIN tickets t ON t.id = c.ticket_id AND t.booking_id = c.booking_id
		                 WHERE c.event_id = $1), '{}')
		FROM events e WHERE e.id = $1`, eventID).Scan(&g.Cancelled, &g.RevokedBookings, &g.CheckedIn)
	if err != nil {
		return nil, fmt.Errorf("gate data of event %d: %w", eventID, err)
	}
	return g, nil
}

// MaxOffline is how long ago an offline scan may have been made: a gate
// syncs within hours, and an old claim must not use up a fan's ticket.
const MaxOffline = 12 * time.Hour

// OfflineScan is a scan a gate made while offline: the code, and when.
type OfflineScan struct {
	Code string
	At   time.Time
}

// Synced is what became of one offline scan: Result is admitted (the
// first scan of its ticket), duplicate (another scan came first: First
// and FirstGate say which), or the reason it was refused.
type Synced struct {
	Result    string
	Message   string
	TicketID  int64
	First     time.Time
	FirstGate string
}

// Sync records scans an offline gate made, each checked as at its own
// time. Of two scans of one ticket, the earlier wins, whichever gate
// syncs first; the later is a duplicate.
func (d *Door) Sync(ctx context.Context, by audit.Actor, gate string, scans []OfflineScan) ([]Synced, error) {
	now := d.now()
	gate = cleanGate(gate)
	allowed := map[int64]bool{}
	out := make([]Synced, len(scans))
	for i, sc := range scans {
		sc.At = sc.At.Truncate(time.Microsecond) // as PostgreSQL keeps it
		if sc.At.After(now.Add(2*time.Minute)) || sc.At.Before(now.Add(-MaxOffline)) {
			out[i] = Synced{Result: "invalid_code", Message: "The gate's clock is wrong: this scan is dated " + sc.At.UTC().Format(time.RFC3339) + "."}
			continue
		}
		s, err := Check(d.keys.Public(), sc.Code, sc.At)
		if err != nil {
			out[i] = Synced{Result: "invalid_code", Message: app.ErrorMessage(err)}
			continue
		}
		out[i].TicketID = s.TicketID
		ok, seen := allowed[s.EventID]
		if !seen {
			if ok, err = d.CanScan(ctx, by, s.EventID); err != nil {
				return nil, err
			}
			allowed[s.EventID] = ok
		}
		if !ok {
			out[i] = Synced{Result: "not_door_staff", Message: "You are not door staff of this ticket's event.", TicketID: s.TicketID}
			continue
		}
		var valid bool
		if err := d.pool.QueryRow(ctx, `
			SELECT t.status = 'sold' AND b.status = 'confirmed' AND b.id = $3 AND e.status <> 'cancelled'
			FROM tickets t JOIN events e ON e.id = t.event_id LEFT JOIN bookings b ON b.id = t.booking_id
			WHERE t.id = $1 AND t.event_id = $2`, s.TicketID, s.EventID, s.BookingID).Scan(&valid); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("read ticket %d: %w", s.TicketID, err)
		}
		if !valid {
			out[i] = Synced{Result: "not_valid", Message: "This ticket is not valid: it was refunded, or never paid for.", TicketID: s.TicketID}
			continue
		}
		// The earlier scan takes the check-in; a later one finds it taken.
		var first time.Time
		var firstGate string
		// An online check-in, timed by the server, is never moved.
		err = d.pool.QueryRow(ctx, `
			INSERT INTO checkins AS c (ticket_id, booking_id, event_id, at, gate, scanned_by, offline) VALUES ($1, $2, $3, $4, $5, $6, true)
			ON CONFLICT (ticket_id, booking_id) DO UPDATE SET at = EXCLUDED.at, gate = EXCLUDED.gate, scanned_by = EXCLUDED.scanned_by, synced_at = now()
			WHERE EXCLUDED.at < c.at AND c.offline
			RETURNING at, gate`, s.TicketID, s.BookingID, s.EventID, sc.At, gate, nullID(by.UserID)).Scan(&first, &firstGate)
		if err == nil {
			out[i] = Synced{Result: "admitted", TicketID: s.TicketID, First: first, FirstGate: firstGate}
			continue
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("check in ticket %d: %w", s.TicketID, err)
		}
		if err := d.pool.QueryRow(ctx, `SELECT at, gate FROM checkins WHERE ticket_id = $1 AND booking_id = $2`, s.TicketID, s.BookingID).Scan(&first, &firstGate); err != nil {
			return nil, fmt.Errorf("read ticket %d's check-in: %w", s.TicketID, err)
		}
		if first.Equal(sc.At) && firstGate == gate { // this very scan, synced again
			out[i] = Synced{Result: "admitted", TicketID: s.TicketID, First: first, FirstGate: firstGate}
			continue
		}
		out[i] = Synced{Result: "duplicate", Message: "Scanned before, at " + first.UTC().Format("15:04:05 UTC") + " at gate " + firstGate + ".",
			TicketID: s.TicketID, First: first, FirstGate: firstGate}
	}
	return out, nil
}

// Revoke takes the account of email off event id's door, as its
// organiser (or an admin) asks; its scans stay as they were.
func (d *Door) Revoke(ctx context.Context, by audit.Actor, eventID int64, email string) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var owner *int64
		var venueID int64
		err := tx.QueryRow(ctx, `SELECT owner_id, venue_id FROM events WHERE id = $1`, eventID).Scan(&owner, &venueID)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !by.Owns(owner) {
			return app.Errorf(app.ENOTFOUND, "You have no event %d.", eventID)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM event_staff s USING users u
			WHERE s.event_id = $1 AND s.user_id = u.id AND lower(u.email) = lower($2)`, eventID, strings.TrimSpace(email))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "event.staff", VenueID: venueID, EventID: eventID,
			Subject: strings.TrimSpace(email), Before: map[string]string{"door_staff": strings.TrimSpace(email)}})
	})
}

// Staff lists the emails of event id's door staff.
func (d *Door) Staff(ctx context.Context, eventID int64) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT u.email FROM event_staff s JOIN users u ON u.id = s.user_id WHERE s.event_id = $1 ORDER BY lower(u.email)`, eventID)
	if err != nil {
		return nil, fmt.Errorf("door staff of event %d: %w", eventID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
