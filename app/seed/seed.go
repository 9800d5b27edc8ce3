// Package seed fills a database with a catalogue: the demo catalogue that a
// first start shows, and large synthetic catalogues for benchmarks.
//
// It is a bulk loader, so unlike the modules it writes the catalogue,
// inventory and booking tables directly, with COPY, inside transactions that
// leave either whole events or nothing.
package seed

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Stats counts what a seed wrote.
type Stats struct {
	Venues, Sections, Seats, Performers, Events, Users, Bookings, Tickets int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d venues, %d sections, %d seats, %d performers, %d events, %d tickets (%d bookings by %d fans)",
		s.Venues, s.Sections, s.Seats, s.Performers, s.Events, s.Tickets, s.Bookings, s.Users)
}

func (s *Stats) add(o Stats) {
	s.Venues += o.Venues
	s.Sections += o.Sections
	s.Seats += o.Seats
	s.Performers += o.Performers
	s.Events += o.Events
	s.Users += o.Users
	s.Bookings += o.Bookings
	s.Tickets += o.Tickets
}

// Rows, in the order of their COPY columns.

type venueRow struct {
	id                                                     int64
	name, address, city, region, country, timezone, stageL string
	capacity, width, height                                int
	stage                                                  []pgtype.Vec2
}

type sectionRow struct {
	id, venueID int64
	name, level string
	position    int
	outline     []pgtype.Vec2
}

type seatRow struct {
	id, sectionID int64
	row           string
	number        int
	x, y          float32
}

type performerRow struct {
	id              int64
	name, kind, bio string
}

type eventRow struct {
	id, venueID               int64
	name, typ, description    string
	startsAt, endsAt, doorsAt time.Time
	timezone, currency        string
	onSaleAt                  *time.Time
	queue                     string
}

type eventPerformerRow struct {
	eventID, performerID int64
	role                 string
	billing              int16
}

type userRow struct {
	id          int64
	email, name string
	createdAt   time.Time
}

type bookingRow struct {
	id, userID, eventID int64
	total               int64
	currency            string
	createdAt           time.Time
}

type ticketRow struct {
	eventID, seatID, sectionID, price, bookingID int64 // bookingID 0: available
	currency                                     string
}

// catalog is a batch of rows written together.
type catalog struct {
	venues          []venueRow
	sections        []sectionRow
	seats           []seatRow
	performers      []performerRow
	events          []eventRow
	eventPerformers []eventPerformerRow
	users           []userRow
	bookings        []bookingRow
	tickets         []ticketRow
}

func (c *catalog) stats() Stats {
	return Stats{len(c.venues), len(c.sections), len(c.seats), len(c.performers), len(c.events), len(c.users), len(c.bookings), len(c.tickets)}
}

// nextIDs are the first free ids of the tables whose ids the seed assigns
// itself (tickets take theirs from the table's identity).
type nextIDs struct {
	venue, section, seat, performer, event, user, booking int64
}

// reserveIDs locks tables against concurrent writers for the rest of tx
// and returns the first free id of each table whose ids the seed assigns.
// The app never inserts catalogue rows, so only other seeds (and, for the
// demo seed of an empty database, sign-ups and bookings) wait.
func reserveIDs(ctx context.Context, tx pgx.Tx, tables ...string) (nextIDs, error) {
	var n nextIDs
	if _, err := tx.Exec(ctx, "LOCK TABLE "+joinIdents(tables)+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return n, fmt.Errorf("lock catalogue: %w", err)
	}
	// The larger of the highest id and the identity's position: ids claimed
	// by a seed still loading are not in the table yet.
	const free = `(SELECT greatest(coalesce((SELECT max(id) FROM %[1]s), 0),
		(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %[1]s_id_seq)) + 1)`
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, t := range idTables {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, free, t)
	}
	err := tx.QueryRow(ctx, q.String()).Scan(&n.venue, &n.section, &n.seat, &n.performer, &n.event, &n.user, &n.booking)
	if err != nil {
		return n, fmt.Errorf("read next ids: %w", err)
	}
	return n, nil
}

// idTables are the tables of nextIDs, in its field order.
var idTables = []string{"venues", "sections", "seats", "performers", "events", "users", "bookings"}

// claimIDs moves each identity past the ids below next, so that the app's
// own inserts (and other seeds) never pick one of them.
func claimIDs(ctx context.Context, tx pgx.Tx, next nextIDs) error {
	for i, v := range []int64{next.venue, next.section, next.seat, next.performer, next.event, next.user, next.booking} {
		_, err := tx.Exec(ctx, fmt.Sprintf(
			"SELECT setval('%[1]s_id_seq', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %[1]s_id_seq)), false)",
			idTables[i]), v)
		if err != nil {
			return fmt.Errorf("claim %s ids: %w", idTables[i], err)
		}
	}
	return nil
}

func joinIdents(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += pgx.Identifier{n}.Sanitize()
	}
	return out
}

// write copies every row of c into the database. The ids it uses must have
// been claimed (claimIDs).
func (c *catalog) write(ctx context.Context, tx pgx.Tx) error {
	copies := []struct {
		table   string
		columns []string
		n       int
		row     func(i int) []any
	}{
		{"venues", []string{"id", "name", "address", "city", "region", "country", "timezone", "capacity", "map_width", "map_height", "stage", "stage_label"},
			len(c.venues), func(i int) []any {
				v := c.venues[i]
				return []any{v.id, v.name, v.address, v.city, v.region, v.country, v.timezone, v.capacity, v.width, v.height, polygon(v.stage), v.stageL}
			}},
		{"sections", []string{"id", "venue_id", "name", "level", "position", "outline"},
			len(c.sections), func(i int) []any {
				s := c.sections[i]
				return []any{s.id, s.venueID, s.name, s.level, s.position, polygon(s.outline)}
			}},
		{"seats", []string{"id", "section_id", "row_label", "seat_number", "x", "y"},
			len(c.seats), func(i int) []any {
				s := c.seats[i]
				return []any{s.id, s.sectionID, s.row, s.number, s.x, s.y}
			}},
		{"performers", []string{"id", "name", "kind", "bio"},
			len(c.performers), func(i int) []any {
				p := c.performers[i]
				return []any{p.id, p.name, p.kind, p.bio}
			}},
		{"events", []string{"id", "venue_id", "name", "type", "description", "starts_at", "ends_at", "doors_at", "timezone", "currency", "on_sale_at", "queue"},
			len(c.events), func(i int) []any {
				e := c.events[i]
				return []any{e.id, e.venueID, e.name, e.typ, e.description, e.startsAt, e.endsAt, e.doorsAt, e.timezone, e.currency,
					e.onSaleAt, cmp.Or(e.queue, "off")}
			}},
		{"event_performers", []string{"event_id", "performer_id", "role", "billing"},
			len(c.eventPerformers), func(i int) []any {
				p := c.eventPerformers[i]
				return []any{p.eventID, p.performerID, p.role, p.billing}
			}},
		{"users", []string{"id", "email", "name", "created_at"},
			len(c.users), func(i int) []any {
				u := c.users[i]
				return []any{u.id, u.email, u.name, u.createdAt}
			}},
		{"bookings", []string{"id", "user_id", "event_id", "status", "total", "currency", "payment_provider", "payment_id", "expires_at", "created_at", "updated_at", "confirmed_at"},
			len(c.bookings), func(i int) []any {
				b := c.bookings[i]
				return []any{b.id, b.userID, b.eventID, "confirmed", b.total, b.currency, "demo", fmt.Sprintf("seed-%d", b.id),
					b.createdAt.Add(10 * time.Minute), b.createdAt, b.createdAt, b.createdAt.Add(2 * time.Minute)}
			}},
		{"tickets", []string{"event_id", "seat_id", "section_id", "price", "currency", "status", "booking_id"},
			len(c.tickets), func(i int) []any {
				t := c.tickets[i]
				if t.bookingID == 0 {
					return []any{t.eventID, t.seatID, t.sectionID, t.price, t.currency, "available", nil}
				}
				return []any{t.eventID, t.seatID, t.sectionID, t.price, t.currency, "sold", t.bookingID}
			}},
	}
	for _, cp := range copies {
		if cp.n == 0 {
			continue
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{cp.table}, cp.columns,
			pgx.CopyFromSlice(cp.n, func(i int) ([]any, error) { return cp.row(i), nil }))
		if err != nil {
			return fmt.Errorf("copy %s: %w", cp.table, err)
		}
	}
	if len(c.bookings) > 0 {
		// Each booking's record of its seats (tickets take their ids from
		// the table, so this is done in SQL).
		_, err := tx.Exec(ctx, `INSERT INTO booking_tickets (booking_id, ticket_id, price)
			SELECT booking_id, id, price FROM tickets WHERE booking_id BETWEEN $1 AND $2`,
			c.bookings[0].id, c.bookings[len(c.bookings)-1].id)
		if err != nil {
			return fmt.Errorf("record booked tickets: %w", err)
		}
	}
	return nil
}

func polygon(pts []pgtype.Vec2) pgtype.Polygon {
	return pgtype.Polygon{P: pts, Valid: len(pts) > 0}
}

// withoutChecks runs load with the foreign keys and secondary indexes of
// tables set aside, then puts them back. Checking a key or updating an index
// row by row costs several times what the COPY itself does; rebuilding them
// afterwards validates and indexes everything in one pass each. The
// definitions come from the catalogue, so they are exactly what the
// migrations made. It locks the tables exclusively: only for loading a
// database nobody is using yet.
func withoutChecks(ctx context.Context, tx pgx.Tx, tables []string, load func() error) error {
	rows, err := tx.Query(ctx, `
		SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		FROM pg_constraint
		WHERE contype = 'f' AND conrelid = ANY ($1::regclass[])
		UNION ALL
		SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = ANY ($1::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary`, tables)
	if err != nil {
		return fmt.Errorf("read constraints: %w", err)
	}
	var drops, creates []string
	for rows.Next() {
		var d, c string
		if err := rows.Scan(&d, &c); err != nil {
			return err
		}
		drops, creates = append(drops, d), append(creates, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, sql := range drops {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	if err := load(); err != nil {
		return err
	}
	for _, sql := range creates {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	return nil
}
