package bench

import (
	"context"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Crash is what a crash of PostgreSQL at the worst moment of an on-sale
// cost: how much write-ahead log it had to replay, and how long the
// database and the site took to come back.
type Crash struct {
	// At is when, after the start of the on-sale, a server process was
	// killed; zero when the on-sale ended first.
	At time.Duration `json:"at_ns"`
	// PeakBefore is the most log written since a checkpoint's start seen
	// before the kill (the height of a checkpoint cycle), and WALBytes
	// what it was at the kill: the log the recovery replayed.
	PeakBefore int64 `json:"peak_before_bytes"`
	WALBytes   int64 `json:"wal_bytes"`
	// DatabaseBack and SiteReady count from the kill: the database takes
	// connections again, and /readyz says 200.
	DatabaseBack time.Duration `json:"database_back_ns"`
	SiteReady    time.Duration `json:"site_ready_ns"`
	// ServerErrors are the on-sale's 5xx answers from the kill until the
	// site was ready (503s, which fans' pages retry).
	ServerErrors int64 `json:"server_errors"`
}

// crashAtPeak kills a PostgreSQL server process (SIGKILL), which makes
// the server end every session and recover from its write-ahead log as
// after a power cut, at the worst moment: when the log written since the
// start of the last finished checkpoint, all of which the recovery
// replays, is near the most it gets to. It waits for one checkpoint cycle
// of the on-sale to learn that height, then kills at 90% of it.
//
// It must run on the database's machine, as a user allowed to signal the
// server (root, or the server's own user).
//
// It gives up without a kill when fansDone closes first.
func crashAtPeak(ctx context.Context, cfg OnsaleConfig, rep *OnsaleReport, start time.Time, fansDone <-chan struct{}, progress func(string, ...any)) {
	conn, err := cfg.Pool.Acquire(ctx)
	if err != nil {
		progress("crash: %v", err)
		return
	}
	defer conn.Release()
	distance := func() (int64, error) {
		var d int64
		err := conn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - redo_lsn)::bigint FROM pg_control_checkpoint()`).Scan(&d)
		return d, err
	}
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		progress("crash: %v", err)
		return
	}
	var peak, last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-fansDone:
			return
		case <-time.After(50 * time.Millisecond):
		}
		d, err := distance()
		if err != nil {
			progress("crash: %v", err)
			return
		}
		if d < last && last > peak/2 { // a checkpoint finished: last was a cycle's top
			peak = max(peak, last)
			progress("crash: a checkpoint cycle topped at %.1f MB of log", float64(last)/1e6)
		}
		last = d
		if peak > 0 && d >= peak*9/10 {
			break
		}
	}
	c := rep.Crash
	c.At, c.PeakBefore, c.WALBytes = time.Since(start), peak, last
	errorsBefore := atomic.LoadInt64(&rep.ServerErrors)
	killed := time.Now()
	progress("crash: killing server process %d with %.1f MB of log to replay", pid, float64(last)/1e6)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		progress("crash: kill %d: %v (run the benchmark as root or as the database's user)", pid, err)
		return
	}
	conn.Conn().Close(ctx) // it is dead
	up := func() bool {
		probe, err := pgx.ConnectConfig(ctx, cfg.Pool.Config().ConnConfig)
		if err != nil {
			return false
		}
		defer probe.Close(ctx)
		return probe.Ping(ctx) == nil
	}
	// The server takes a moment to notice the death; until it has, it
	// still takes connections. Count from the kill, once it is seen down.
	for down := time.Now().Add(5 * time.Second); up(); time.Sleep(time.Millisecond) {
		if time.Now().After(down) {
			progress("crash: the server still takes connections 5 s after the kill; no recovery to measure")
			return
		}
	}
	for c.DatabaseBack == 0 || c.SiteReady == 0 {
		if c.DatabaseBack == 0 && up() {
			c.DatabaseBack = time.Since(killed)
		}
		if c.SiteReady == 0 && c.DatabaseBack > 0 {
			if res, err := http.Get(cfg.URL + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					c.SiteReady = time.Since(killed)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.ServerErrors = atomic.LoadInt64(&rep.ServerErrors) - errorsBefore
	progress("crash: database back after %v, site ready after %v", c.DatabaseBack.Round(time.Millisecond), c.SiteReady.Round(time.Millisecond))
}

func (c Crash) writeText(w *errWriter) {
	if c.At == 0 {
		w.printf("\ncrash: none; the on-sale ended before a checkpoint cycle finished (use more --seats or a longer --ramp)\n")
		return
	}
	w.printf("\ncrash at %v into the on-sale, with %.1f MB of write-ahead log since the last checkpoint (the cycle's top: %.1f MB):\n",
		c.At.Round(time.Second), float64(c.WALBytes)/1e6, float64(c.PeakBefore)/1e6)
	w.printf("database back after %v, site ready after %v; %d 5xx answers meanwhile\n",
		c.DatabaseBack.Round(time.Millisecond), c.SiteReady.Round(time.Millisecond), c.ServerErrors)
}
