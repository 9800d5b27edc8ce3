package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reads chooses where reads that may be a little behind go (event pages,
// search): to a streaming replica that is up and at most MaxLag behind
// the primary, else to the primary. Holds, payments, accounts and a fan's
// own bookings never come here: they read the primary, so that nobody
// sees a booking disappear after making it.
//
// A watcher measures each replica's lag every second; Pool only reads the
// latest finding, so choosing costs nothing on the request's path.
type Reads struct {
	primary  *pgxpool.Pool
	replicas []*Replica
	maxLag   time.Duration
	next     atomic.Uint64 // spreads reads over healthy replicas
	log      *slog.Logger
}

// Replica is one read replica and what the watcher last saw of it.
type Replica struct {
	Name string // host:port/database, for /metrics and logs
	pool *pgxpool.Pool

	mu      sync.Mutex
	lag     time.Duration
	err     error
	checked time.Time
}

// ReplicaState is a replica as last seen.
type ReplicaState struct {
	Name    string
	Lag     time.Duration
	Err     error // it did not answer
	InUse   bool  // reads go there
	Checked time.Time
}

// NewReads opens the replicas at urls (comma-separated DATABASE_READ_URL;
// empty: none, every read goes to the primary). A replica that does not
// answer at start is still watched and used once it does.
func NewReads(ctx context.Context, primary *pgxpool.Pool, urls string, maxLag time.Duration, log *slog.Logger) (*Reads, error) {
	r := &Reads{primary: primary, maxLag: maxLag, log: log}
	for _, u := range strings.Split(urls, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		pc, err := pgxpool.ParseConfig(u)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
		}
		pc.ConnConfig.RuntimeParams["application_name"] = "boxoffice"
		pc.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
		pc.ConnConfig.ConnectTimeout = 2 * time.Second
		name := fmt.Sprintf("%s:%d/%s", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database)
		rep := &Replica{Name: name, err: fmt.Errorf("not checked yet")}
		pc.ConnConfig.Tracer = downTracer{r, rep}
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
		}
		rep.pool = pool
		r.replicas = append(r.replicas, rep)
		r.check(ctx, rep)
	}
	return r, nil
}

// Pool is where a read that may lag goes now.
func (r *Reads) Pool() *pgxpool.Pool {
	n := len(r.replicas)
	if n == 0 {
		return r.primary
	}
	start := int(r.next.Add(1) % uint64(n))
	for i := range n {
		rep := r.replicas[(start+i)%n]
		if r.usable(rep) {
			return rep.pool
		}
	}
	return r.primary
}

func (r *Reads) usable(rep *Replica) bool {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	return rep.err == nil && rep.lag <= r.maxLag
}

// Watch measures the replicas' lag every interval until ctx ends.
func (r *Reads) Watch(ctx context.Context, interval time.Duration) {
	if len(r.replicas) == 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, rep := range r.replicas {
			r.check(ctx, rep)
		}
	}
}

// lagSQL is how far a replica's data is behind the primary's: nothing
// while it streams from the primary and has replayed all it received,
// else the age of the last transaction it replayed (an hour, taken for
// "too far", while it has replayed none since it started). A replica that
// is not streaming (its link to the primary is down: it has replayed all
// it got, which says nothing of what it did not get) counts as an hour
// behind. A server that is not in recovery is no replica.
const lagSQL = `SELECT pg_is_in_recovery(),
	CASE WHEN NOT EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 3600
	     WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
	     ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 3600) END`

func (r *Reads) check(ctx context.Context, rep *Replica) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var recovering bool
	var seconds float64
	err := rep.pool.QueryRow(ctx, lagSQL).Scan(&recovering, &seconds)
	if err == nil && !recovering {
		err = fmt.Errorf("%s is not a replica (not in recovery)", rep.Name)
	}
	lag := time.Duration(seconds * float64(time.Second))
	rep.mu.Lock()
	was := rep.err == nil && rep.lag <= r.maxLag
	rep.lag, rep.err, rep.checked = lag, err, time.Now()
	now := rep.err == nil && rep.lag <= r.maxLag
	rep.mu.Unlock()
	switch {
	case was && !now && err != nil:
		r.log.Warn("read replica skipped: it does not answer", "replica", rep.Name, "err", err)
	case was && !now:
		r.log.Warn("read replica skipped: too far behind", "replica", rep.Name, "lag", lag.Round(time.Millisecond), "max", r.maxLag)
	case !was && now:
		r.log.Info("read replica in use", "replica", rep.Name, "lag", lag.Round(time.Millisecond))
	}
}

// down takes rep out of use at once after a read failed to reach it,
// rather than at the watcher's next look: the reads after it go to the
// primary (or another replica), and the watcher brings it back once it
// answers again.
func (r *Reads) down(rep *Replica, err error) {
	rep.mu.Lock()
	was := rep.err == nil
	rep.err = err
	rep.mu.Unlock()
	if was {
		r.log.Warn("read replica skipped: a read failed to reach it", "replica", rep.Name, "err", err)
	}
}

// downTracer watches a replica's reads for the ones that could not reach
// it (pgx calls it at the end of every query, batch and acquire).
type downTracer struct {
	r   *Reads
	rep *Replica
}

// failed marks the replica down when err says it could not be reached:
// the connection failed, or the server is shutting down or starting. A
// caller's own deadline or cancellation, a statement timeout and a query's
// own error say nothing of the replica.
func (t downTracer) failed(ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil || TimedOut(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return
	}
	if Unavailable(err) {
		t.r.down(t.rep, err)
	}
}

func (t downTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (t downTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	t.failed(ctx, d.Err)
}
func (t downTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (t downTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (t downTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	t.failed(ctx, d.Err)
}
func (t downTracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return ctx
}
func (t downTracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	t.failed(ctx, d.Err)
}

// Replicas reports each replica as last seen.
func (r *Reads) Replicas() []ReplicaState {
	out := make([]ReplicaState, 0, len(r.replicas))
	for _, rep := range r.replicas {
		rep.mu.Lock()
		out = append(out, ReplicaState{Name: rep.Name, Lag: rep.lag, Err: rep.err, Checked: rep.checked,
			InUse: rep.err == nil && rep.lag <= r.maxLag})
		rep.mu.Unlock()
	}
	return out
}

// Close closes the replicas' pools.
func (r *Reads) Close() {
	for _, rep := range r.replicas {
		rep.pool.Close()
	}
}
