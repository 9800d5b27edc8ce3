package organiser

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app/audit"
)

// Sales is how an event sells: seats per section, money, and tickets sold
// over time.
type Sales struct {
	Currency string
	Sections []SectionSales
	Total    SectionSales // every section together
	Revenue  int64        // paid for confirmed bookings, less what was refunded (minor units)
	Refunded int64        // given back, in full or in part
	Bookings int          // confirmed
	// Over is tickets sold (net of bookings refunded in full) per period
	// since the first sale: Step long each, oldest first.
	Over []Point
	Step time.Duration
}

// SectionSales counts one section's tickets.
type SectionSales struct {
	Name                  string
	Sold, Held, Available int
	CheckedIn             int // let in at the door
}

// Point is tickets sold in one period from At.
type Point struct {
	At   time.Time
	Sold int
}

// Sales reads event id's sales, for the actor who manages it.
func (s *Service) Sales(ctx context.Context, by audit.Actor, id int64) (*Sales, error) {
	out := &Sales{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, err := s.read(ctx, tx, by, id, false); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT currency FROM events WHERE id = $1`, id).Scan(&out.Currency); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT s.name, count(*) FILTER (WHERE t.status = 'sold')::int, count(*) FILTER (WHERE t.status = 'reserved')::int,
			       count(*) FILTER (WHERE t.status = 'available')::int, count(c.ticket_id)::int
			FROM tickets t JOIN sections s ON s.id = t.section_id LEFT JOIN checkins c ON c.ticket_id = t.id
			WHERE t.event_id = $1 GROUP BY s.id, s.name, s.position ORDER BY s.position`, id)
		if err != nil {
			return err
		}
		if out.Sections, err = pgx.CollectRows(rows, pgx.RowToStructByPos[SectionSales]); err != nil {
			return err
		}
		for _, sec := range out.Sections {
			out.Total.Sold += sec.Sold
			out.Total.Held += sec.Held
			out.Total.Available += sec.Available
			out.Total.CheckedIn += sec.CheckedIn
		}
		if err := tx.QueryRow(ctx, `
			SELECT coalesce(sum(total - refunded) FILTER (WHERE status = 'confirmed'), 0)::bigint,
			       coalesce(sum(refunded) FILTER (WHERE status IN ('confirmed', 'refunded')), 0)::bigint,
			       count(*) FILTER (WHERE status = 'confirmed')::int
			FROM bookings WHERE event_id = $1`, id).Scan(&out.Revenue, &out.Refunded, &out.Bookings); err != nil {
			return err
		}
		return s.salesOverTime(ctx, tx, id, out)
	})
	return out, wrap("read the sales", err)
}

// salesOverTime buckets the tickets of confirmed bookings by when they
// were confirmed: by hour when the sales span two days or less, else by
// day; at least 24 buckets, ending with the latest sale.
func (s *Service) salesOverTime(ctx context.Context, tx pgx.Tx, id int64, out *Sales) error {
	var first, last *time.Time
	if err := tx.QueryRow(ctx, `SELECT min(confirmed_at), max(confirmed_at) FROM bookings WHERE event_id = $1 AND status = 'confirmed'`,
		id).Scan(&first, &last); err != nil || first == nil {
		return err
	}
	out.Step = time.Hour
	if last.Sub(*first) > 48*time.Hour {
		out.Step = 24 * time.Hour
	}
	start := first.Truncate(out.Step)
	n := int(last.Sub(start)/out.Step) + 1
	if n < 24 { // at least a day of hours (or 24 days): one sale is not one wall of a bar
		start = start.Add(-time.Duration(24-n) * out.Step)
		n = 24
	}
	out.Over = make([]Point, n)
	for i := range out.Over {
		out.Over[i].At = start.Add(time.Duration(i) * out.Step)
	}
	rows, err := tx.Query(ctx, `
		SELECT floor(extract(epoch FROM b.confirmed_at - $2) / $3)::int, count(*)::int
		FROM bookings b JOIN booking_tickets bt ON bt.booking_id = b.id
		WHERE b.event_id = $1 AND b.status = 'confirmed' GROUP BY 1`, id, start, out.Step.Seconds())
	if err != nil {
		return err
	}
	var i, sold int
	_, err = pgx.ForEachRow(rows, []any{&i, &sold}, func() error {
		if i >= 0 && i < n {
			out.Over[i].Sold = sold
		}
		return nil
	})
	return err
}

// Attendees writes event id's confirmed tickets as CSV: one line per
// seat, with who holds it.
func (s *Service) Attendees(ctx context.Context, by audit.Actor, id int64, w io.Writer) error {
	return wrap("list the attendees", pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, err := s.read(ctx, tx, by, id, false); err != nil {
			return err
		}
		// COPY quotes names with commas and quotes as CSV must; the id is
		// a number, since COPY takes no parameters.
		_, err := tx.Conn().PgConn().CopyTo(ctx, w, fmt.Sprintf(`COPY (
			SELECT b.id AS booking, `+spreadsheetSafe("u.name")+` AS name, `+spreadsheetSafe("u.email")+` AS email, s.name AS section,
			       coalesce(st.row_label, 'standing') AS row, st.seat_number AS seat,
			       bt.price, e.currency, to_char(b.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS confirmed_at
			FROM bookings b
			JOIN users u ON u.id = b.user_id
			JOIN events e ON e.id = b.event_id
			JOIN booking_tickets bt ON bt.booking_id = b.id
			JOIN tickets t ON t.id = bt.ticket_id
			LEFT JOIN seats st ON st.id = t.seat_id
			JOIN sections s ON s.id = t.section_id
			WHERE b.event_id = %d AND b.status = 'confirmed'
			ORDER BY s.position, st.row_label, st.seat_number, b.id
		) TO STDOUT WITH (FORMAT csv, HEADER)`, id))
		return err
	}))
}

// spreadsheetSafe keeps a fan's text from being read as a formula when
// the list is opened in a spreadsheet (a name such as "=HYPERLINK(…)"):
// such text starts with a quote.
func spreadsheetSafe(col string) string {
	return fmt.Sprintf(`CASE WHEN %s ~ '^[=+@\t\r-]' THEN '''' || %s ELSE %s END`, col, col, col)
}
