package event

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// availableTicket is the SQL condition for a ticket that can be bought now:
// a hold that has run out counts as available (DESIGN §4), whether or not
// the sweeper has tidied it yet. $1 is now.
const availableTicket = `(t.status = 'available' OR (t.status = 'reserved' AND t.reserved_until < $1))`

func listUpcoming(ctx context.Context, pool *pgxpool.Pool, now time.Time, limit int) ([]Summary, error) {
	rows, err := pool.Query(ctx, `
		SELECT e.id, e.name, e.type, e.starts_at, e.timezone,
		       v.id AS venue_id, v.name AS venue_name, v.city, v.country, e.currency,
		       coalesce(a.min_price, 0) AS min_price, coalesce(a.available, 0) AS available
		FROM events e
		JOIN venues v ON v.id = e.venue_id
		LEFT JOIN LATERAL (
			SELECT min(t.price) AS min_price, count(*)::int AS available
			FROM tickets t
			WHERE t.event_id = e.id AND `+availableTicket+`
		) a ON true
		WHERE e.starts_at > $1 AND e.status = 'on_sale'
		ORDER BY e.starts_at, e.id
		LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list upcoming events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByName[Summary])
	if err != nil {
		return nil, fmt.Errorf("list upcoming events: %w", err)
	}
	return events, nil
}
