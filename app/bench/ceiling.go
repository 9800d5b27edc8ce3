package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/booking"
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
	counts, err := booking.CheckInvariant(ctx, pool, []int64{eventID})
	if err != nil {
		return nil, err
	}
	var broken []string
	for _, name := range booking.Checks {
		if n := counts[name]; n > 0 {
			broken = append(broken, fmt.Sprintf("%s: %d", name, n))
		}
	}
	return broken, nil
}
