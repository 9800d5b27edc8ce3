package booking

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The booking invariant (DESIGN §4), as checks that each count what breaks
// it. Every count must be zero.
var Checks = []string{
	"ticket_in_two_live_bookings",     // a ticket sold or held twice
	"sold_count_mismatch",             // events whose sold tickets ≠ tickets of their confirmed bookings
	"sold_ticket_not_confirmed",       // a sold ticket whose booking is not confirmed
	"held_ticket_not_pending",         // a held ticket whose booking is not pending
	"confirmed_booking_missing_seat",  // a confirmed booking one of whose tickets is not sold to it
	"booking_total_not_ticket_prices", // a booking charging other than its tickets' prices
	"stock_count_mismatch",            // events whose seats left per price (ticket_stock) ≠ their available tickets
}

// CheckInvariant counts what breaks each of Checks among the given events'
// tickets and bookings. A healthy database gives all zeros.
func CheckInvariant(ctx context.Context, pool *pgxpool.Pool, eventIDs []int64) (map[string]int64, error) {
	counts := make([]int64, len(Checks))
	dest := make([]any, len(Checks))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := pool.QueryRow(ctx, invariantSQL, eventIDs).Scan(dest...); err != nil { // in store.go
		return nil, fmt.Errorf("check the booking invariant: %w", err)
	}
	out := make(map[string]int64, len(Checks))
	for i, name := range Checks {
		out[name] = counts[i]
	}
	return out, nil
}

// Monitor checks the booking invariant now and then, on the events whose
// bookings changed since its previous run, so that each run costs what
// changed rather than what exists. It logs every breach as an error and
// keeps the latest figures for /metrics.
type Monitor struct {
	pool *pgxpool.Pool
	now  func() time.Time
	log  *slog.Logger

	running sync.Mutex // one run at a time; since is its own
	since   time.Time

	mu     sync.Mutex // guards report, which /metrics reads during a run
	report MonitorReport
}

// MonitorReport is what the monitor found on its latest run.
type MonitorReport struct {
	Runs       int64            // runs so far, failed ones included
	Failures   int64            // runs that could not query the database
	At         time.Time        // when the latest successful run finished
	Events     int              // events it checked
	Took       time.Duration    // how long the latest successful run took
	Violations map[string]int64 // per check; all zero when the invariant holds
}

// monitorSlack is how far back each run looks before the previous one started, to
// catch transactions that were open then and committed later.
const monitorSlack = time.Minute

// monitorLookBack is how far back a new monitor's first run looks: past
// what a previous process, stopped or crashed, may not have checked yet,
// without reading every event of a large catalogue at each start.
const monitorLookBack = 15 * time.Minute

// NewMonitor returns a monitor whose first run looks back monitorLookBack.
func NewMonitor(pool *pgxpool.Pool, now func() time.Time, log *slog.Logger) *Monitor {
	return &Monitor{pool: pool, now: now, log: log, since: now().Add(-monitorLookBack)}
}

// Run checks at once and then every interval until ctx ends.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		runCtx, cancel := context.WithTimeout(ctx, interval) // a run never overlaps the next
		if _, err := m.Check(runCtx); err != nil && ctx.Err() == nil {
			m.log.Error("invariant monitor could not run", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check runs the monitor once and returns its report.
func (m *Monitor) Check(ctx context.Context) (MonitorReport, error) {
	m.running.Lock()
	defer m.running.Unlock()
	start := m.now()
	events, violations, err := m.check(ctx)

	m.mu.Lock()
	defer m.mu.Unlock()
	m.report.Runs++
	if err != nil {
		m.report.Failures++
		return m.report, err
	}
	m.since = start.Add(-monitorSlack)
	m.report.At, m.report.Events, m.report.Violations = m.now(), len(events), violations
	m.report.Took = m.report.At.Sub(start)
	broken := false
	for _, name := range Checks {
		if n := violations[name]; n > 0 {
			broken = true
			m.log.Error("BOOKING INVARIANT BROKEN", "check", name, "count", n, "events", events[:min(len(events), 20)])
		}
	}
	if !broken && len(events) > 0 {
		m.log.Info("booking invariant holds", "events", len(events), "took", m.report.Took)
	}
	return m.report, nil
}

func (m *Monitor) check(ctx context.Context) ([]int64, map[string]int64, error) {
	events, err := changedEvents(ctx, m.pool, m.since)
	if err != nil {
		return nil, nil, err
	}
	violations, err := CheckInvariant(ctx, m.pool, events)
	return events, violations, err
}

// Report returns the latest figures.
func (m *Monitor) Report() MonitorReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.report
}
