package organiser

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
)

// Statuses of an event.
const (
	Draft     = "draft"
	OnSale    = "on_sale"
	Cancelled = "cancelled"
)

// Summary is an event in an organiser's list, with how it sells.
type Summary struct {
	ID        int64
	Name      string
	Venue     string
	StartsAt  time.Time
	Timezone  string
	Status    string
	Sold      int
	Held      int
	Available int
}

// Create stores a new draft event, owned by the actor.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Event) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := s.checkIn(ctx, tx, by, in)
		if err != nil {
			return err
		}
		var owner *int64
		if by.UserID != 0 {
			owner = &by.UserID
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO events (venue_id, name, type, description, starts_at, ends_at, doors_at, timezone, currency, status, on_sale_at, queue, owner_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, $11, $12) RETURNING id`,
			in.VenueID, c.in.Name, c.in.Type, c.in.Description, c.startsAt, c.endsAt, c.doorsAt, c.timezone, c.currency,
			c.onSale, c.in.Queue, owner).Scan(&id); err != nil {
			return err
		}
		if err := writeDetails(ctx, tx, id, c); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "event.create", VenueID: in.VenueID, EventID: id,
			Subject: c.in.Name, After: c.in})
	})
	if err != nil {
		return 0, wrap("create an event", err)
	}
	return id, nil
}

// Update rewrites event id. A draft takes anything; a published event
// keeps its venue and currency and every section it sells (sold tickets
// stay as they are): a new price reaches the tickets not sold or held,
// and a section added goes on sale at once.
func (s *Service) Update(ctx context.Context, by audit.Actor, id int64, in Event) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, status, err := s.lock(ctx, tx, by, id)
		if err != nil {
			return err
		}
		if status == Cancelled {
			return &app.Error{Code: app.ECONFLICT, Reason: "event_cancelled", Message: "This event is cancelled: it cannot change."}
		}
		c, err := s.checkIn(ctx, tx, by, in)
		if err != nil {
			return err
		}
		if status == OnSale {
			if in.VenueID != before.VenueID {
				return invalid("venue_id", "The event is on sale: it cannot move to another venue. Cancel it and create another.")
			}
			if c.currency != cmpOr(before.Currency, c.currency) {
				return invalid("currency", "The event is on sale in %s: its currency cannot change.", before.Currency)
			}
			var dropped []string
			if err := tx.QueryRow(ctx, `
				SELECT coalesce(array_agg(s.name ORDER BY s.position), '{}') FROM event_prices p JOIN sections s ON s.id = p.section_id
				WHERE p.event_id = $1 AND NOT p.section_id = ANY($2)`, id, keys(c.sections)).Scan(&dropped); err != nil {
				return err
			}
			if len(dropped) > 0 {
				return invalid("prices", "The event is on sale: every section it sells keeps a price (%q has none now).", dropped[0])
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE events SET venue_id = $2, name = $3, type = $4, description = $5, starts_at = $6, ends_at = $7, doors_at = $8,
			       timezone = $9, currency = $10, on_sale_at = $11, queue = $12, updated_at = now()
			WHERE id = $1`, id, in.VenueID, c.in.Name, c.in.Type, c.in.Description, c.startsAt, c.endsAt, c.doorsAt,
			c.timezone, c.currency, c.onSale, c.in.Queue); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM event_performers WHERE event_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM event_prices WHERE event_id = $1`, id); err != nil {
			return err
		}
		if err := writeDetails(ctx, tx, id, c); err != nil {
			return err
		}
		if status == OnSale {
			// Tickets take the new prices, whatever their state: what a fan
			// who holds or bought one pays is their booking's, and a seat
			// that comes back on sale sells at the new price. New sections
			// go on sale.
			if _, err := tx.Exec(ctx, `
				UPDATE tickets t SET price = p.price FROM event_prices p
				WHERE t.event_id = $1 AND p.event_id = $1 AND p.section_id = t.section_id AND t.price <> p.price`, id); err != nil {
				return err
			}
			if err := createTickets(ctx, tx, id); err != nil {
				return err
			}
			if err := reloadMaps(ctx, tx, id); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "event.update", VenueID: in.VenueID, EventID: id,
			Subject: c.in.Name, Before: before, After: c.in})
	})
	return wrap("update the event", err)
}

// Publish puts a draft on sale: its tickets are made, and fans see it.
func (s *Service) Publish(ctx context.Context, by audit.Actor, id int64) (tickets int, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, status, err := s.lock(ctx, tx, by, id)
		if err != nil {
			return err
		}
		if status != Draft {
			return &app.Error{Code: app.ECONFLICT, Reason: "not_a_draft", Message: "This event is already published (or cancelled)."}
		}
		if _, err := tx.Exec(ctx, `UPDATE events SET status = 'on_sale', updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		if err := createTickets(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE event_id = $1`, id).Scan(&tickets); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: by.UserID, Action: "event.publish", VenueID: before.VenueID, EventID: id,
			Subject: before.Name, Before: map[string]string{"status": Draft}, After: map[string]any{"status": OnSale, "tickets": tickets}})
	})
	return tickets, wrap("publish the event", err)
}

// Get reads event id as its form shows it, with its status.
func (s *Service) Get(ctx context.Context, by audit.Actor, id int64) (Event, string, error) {
	var in Event
	var status string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		in, status, err = s.read(ctx, tx, by, id, false)
		return err
	})
	return in, status, wrap("read the event", err)
}

// List is the events the actor manages, soonest first, with their sales.
func (s *Service) List(ctx context.Context, by audit.Actor) ([]Summary, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT e.id, e.name, v.name, e.starts_at, e.timezone, e.status,
		       count(t.id) FILTER (WHERE t.status = 'sold')::int,
		       count(t.id) FILTER (WHERE t.status = 'reserved')::int,
		       count(t.id) FILTER (WHERE t.status = 'available')::int
		FROM events e JOIN venues v ON v.id = e.venue_id LEFT JOIN tickets t ON t.event_id = e.id
		WHERE $1 OR e.owner_id = $2
		GROUP BY e.id, v.name ORDER BY e.starts_at, e.id`, by.Admin, by.UserID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
		var e Summary
		err := r.Scan(&e.ID, &e.Name, &e.Venue, &e.StartsAt, &e.Timezone, &e.Status, &e.Sold, &e.Held, &e.Available)
		return e, err
	})
}

// lock takes event id's row for a change, if the actor manages it.
func (s *Service) lock(ctx context.Context, tx pgx.Tx, by audit.Actor, id int64) (Event, string, error) {
	return s.read(ctx, tx, by, id, true)
}

func (s *Service) read(ctx context.Context, tx pgx.Tx, by audit.Actor, id int64, forUpdate bool) (Event, string, error) {
	var in Event
	var owner *int64
	var status string
	var startsAt time.Time
	var endsAt, doorsAt, onSaleAt *time.Time
	q := `SELECT venue_id, name, description, type, starts_at, ends_at, doors_at, timezone, currency, on_sale_at, queue, status, owner_id
		FROM events WHERE id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	err := tx.QueryRow(ctx, q, id).Scan(&in.VenueID, &in.Name, &in.Description, &in.Type, &startsAt, &endsAt, &doorsAt,
		&in.Timezone, &in.Currency, &onSaleAt, &in.Queue, &status, &owner)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !by.Owns(owner) {
		return in, "", app.Errorf(app.ENOTFOUND, "You have no event %d.", id)
	}
	if err != nil {
		return in, "", err
	}
	loc, err := time.LoadLocation(in.Timezone)
	if err != nil {
		loc = time.UTC
	}
	local := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2006-01-02T15:04")
	}
	in.StartsAt, in.EndsAt, in.DoorsAt, in.OnSaleAt = local(&startsAt), local(endsAt), local(doorsAt), local(onSaleAt)
	rows, err := tx.Query(ctx, `
		SELECT p.name, p.kind, ep.role FROM event_performers ep JOIN performers p ON p.id = ep.performer_id
		WHERE ep.event_id = $1 ORDER BY ep.billing, p.name`, id)
	if err != nil {
		return in, "", err
	}
	if in.Performers, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Performer]); err != nil {
		return in, "", err
	}
	rows, err = tx.Query(ctx, `
		SELECT p.zone, p.price, array_agg(s.name ORDER BY s.position)
		FROM event_prices p JOIN sections s ON s.id = p.section_id
		WHERE p.event_id = $1 GROUP BY p.zone, p.price ORDER BY p.price DESC, p.zone`, id)
	if err != nil {
		return in, "", err
	}
	if in.Prices, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Price]); err != nil {
		return in, "", err
	}
	return in, status, nil
}

// checkIn checks in against its venue, which the actor must manage.
func (s *Service) checkIn(ctx context.Context, tx pgx.Tx, by audit.Actor, in Event) (*checked, error) {
	v, err := s.readVenue(ctx, tx, by, in.VenueID)
	if err != nil {
		return nil, err
	}
	return s.check(in, v)
}

// writeDetails writes an event's bill and prices.
func writeDetails(ctx context.Context, tx pgx.Tx, id int64, c *checked) error {
	for i, p := range c.in.Performers {
		var pid int64
		// A performer already known is found, not rewritten (a rewrite
		// would refresh the search rows of every event of theirs).
		if err := tx.QueryRow(ctx, `
			WITH added AS (INSERT INTO performers (name, kind) VALUES ($1, $2) ON CONFLICT (name, kind) DO NOTHING RETURNING id)
			SELECT id FROM added UNION ALL SELECT id FROM performers WHERE name = $1 AND kind = $2 LIMIT 1`,
			strings.TrimSpace(p.Name), p.Kind).Scan(&pid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO event_performers (event_id, performer_id, role, billing) VALUES ($1, $2, $3, $4)`,
			id, pid, p.Role, i); err != nil {
			return err
		}
	}
	for sid, p := range c.sections {
		if _, err := tx.Exec(ctx, `INSERT INTO event_prices (event_id, section_id, zone, price) VALUES ($1, $2, $3, $4)`,
			id, sid, p.zone, p.price); err != nil {
			return err
		}
	}
	return nil
}

// createTickets makes the missing tickets of every priced section: one
// per seat, in seat order, and for a standing section one per place of
// its capacity, without a seat.
func createTickets(ctx context.Context, tx pgx.Tx, id int64) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO tickets (event_id, seat_id, section_id, price, currency)
		SELECT $1, st.id, st.section_id, p.price, e.currency
		FROM event_prices p JOIN events e ON e.id = p.event_id JOIN seats st ON st.section_id = p.section_id
		WHERE p.event_id = $1 AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.event_id = $1 AND t.seat_id = st.id)
		ORDER BY st.id`, id)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO tickets (event_id, seat_id, section_id, price, currency)
		SELECT $1, NULL, s.id, p.price, e.currency
		FROM event_prices p JOIN events e ON e.id = p.event_id JOIN sections s ON s.id = p.section_id
		CROSS JOIN LATERAL generate_series(1, s.capacity - (SELECT count(*) FROM tickets t WHERE t.event_id = $1 AND t.section_id = s.id)::int)
		WHERE p.event_id = $1 AND s.kind = 'standing'`, id)
	return err
}

// reloadMaps tells every live seat map of event id to load it afresh:
// prices and new tickets are not changes the feed sends seat by seat, so
// the event's version skips one, and each model, seeing the gap, reloads.
func reloadMaps(ctx context.Context, tx pgx.Tx, id int64) error {
	_, err := tx.Exec(ctx, `
		WITH v AS (
			INSERT INTO ticket_versions AS tv (event_id, version) VALUES ($1, 2)
			ON CONFLICT (event_id) DO UPDATE SET version = tv.version + 2
			RETURNING version
		)
		SELECT pg_notify('ticket_changes', json_build_object('e', $1::bigint, 'v', v.version, 't', '[]'::json)::text) FROM v`, id)
	return err
}

func keys(m map[int64]zonePrice) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// wrap adds what was being done to an unexpected error; errors meant for
// the organiser go out as they are.
func wrap(doing string, err error) error {
	if err == nil || app.ErrorCode(err) != app.EINTERNAL {
		return err
	}
	return fmt.Errorf("%s: %w", doing, err)
}
