package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ceiling is what the database alone does: the smallest hold transaction
// (lock one seat's row, mark it held, commit) from the same number of
// clients, with no HTTP and no application in the way.
type Ceiling struct {
	Clients  int           `json:"clients"`
	Duration time.Duration `json:"duration_ns"`
	TxPerSec float64       `json:"tx_per_sec"`
	Latency  Latency       `json:"latency"`
}

// MeasureCeiling runs the minimal lock-and-update transaction from clients
// connections for d, on a scratch table it creates and drops.
func MeasureCeiling(ctx context.Context, pool *pgxpool.Pool, clients int, d time.Duration) (Ceiling, error) {
	c := Ceiling{Clients: clients, Duration: d}
	const rows = 100_000
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS bench_ceiling;
		CREATE TABLE bench_ceiling (id bigint PRIMARY KEY, status text NOT NULL, holder bigint, until timestamptz);
		INSERT INTO bench_ceiling SELECT g, 'available', NULL, NULL FROM generate_series(1, 100000) g;`); err != nil {
		return c, fmt.Errorf("ceiling table: %w", err)
	}
	defer pool.Exec(context.Background(), `DROP TABLE IF EXISTS bench_ceiling`)

	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 5))
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				id := 1 + rng.Int64N(rows)
				t0 := time.Now()
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, `SELECT id FROM bench_ceiling WHERE id = $1 FOR UPDATE`, id); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `UPDATE bench_ceiling SET status = 'reserved', holder = $2, until = now() + interval '10 minutes' WHERE id = $1`, id, i)
					return err
				})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if firstErr != nil {
		return c, fmt.Errorf("ceiling: %w", firstErr)
	}
	c.TxPerSec = float64(len(lat)) / d.Seconds()
	c.Latency = summarize(lat)
	return c, nil
}

// CheckInvariant reads DESIGN §4 off the database for one event and
// returns what is broken (nothing, one hopes).
func CheckInvariant(ctx context.Context, pool *pgxpool.Pool, eventID int64) ([]string, error) {
	var broken []string
	for _, c := range []struct{ name, sql string }{
		{"tickets in two live bookings", `
			SELECT count(*) FROM (
				SELECT bt.ticket_id FROM booking_tickets bt JOIN bookings b ON b.id = bt.booking_id
				JOIN tickets t ON t.id = bt.ticket_id
				WHERE t.event_id = $1 AND (b.status = 'confirmed' OR (b.status = 'pending' AND t.booking_id = b.id))
				GROUP BY bt.ticket_id HAVING count(*) > 1) x`},
		{"sold + held + available <> total", `
			SELECT count(*) FROM (SELECT
				count(*) FILTER (WHERE status = 'sold') + count(*) FILTER (WHERE status = 'reserved')
				+ count(*) FILTER (WHERE status = 'available') - count(*) AS diff
				FROM tickets WHERE event_id = $1) x WHERE diff <> 0`},
		{"sold tickets not in a confirmed booking", `
			SELECT count(*) FROM tickets t LEFT JOIN bookings b ON b.id = t.booking_id
			WHERE t.event_id = $1 AND t.status = 'sold' AND b.status IS DISTINCT FROM 'confirmed'`},
		{"confirmed bookings missing a ticket", `
			SELECT count(*) FROM bookings b JOIN booking_tickets bt ON bt.booking_id = b.id JOIN tickets t ON t.id = bt.ticket_id
			WHERE b.event_id = $1 AND b.status = 'confirmed' AND (t.booking_id IS DISTINCT FROM b.id OR t.status <> 'sold')`},
	} {
		var n int
		if err := pool.QueryRow(ctx, c.sql, eventID).Scan(&n); err != nil {
			return nil, fmt.Errorf("check %s: %w", c.name, err)
		}
		if n > 0 {
			broken = append(broken, fmt.Sprintf("%s: %d", c.name, n))
		}
	}
	return broken, nil
}
