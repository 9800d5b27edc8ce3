package backup

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Schedule takes a backup every Every into Dir while the site runs,
// keeping the newest Keep and the archived log they need.
type Schedule struct {
	Every   time.Duration
	Keep    int
	Dir     string
	Archive string // the WAL archive to prune; empty: none
	Tools   Tools
	Pool    *pgxpool.Pool
	Conn    string // for pg_basebackup
	Log     *slog.Logger

	mu   sync.Mutex
	last Outcome
}

// Outcome is how the last scheduled backup went.
type Outcome struct {
	At   time.Time
	Took time.Duration
	Err  error
}

// scheduleLock is the advisory lock that lets one process at a time take
// the scheduled backup, however many share the database.
const scheduleLock = 0x626f78_6261636b // "box" "back"

// Run takes backups until ctx ends. The first comes once the newest
// backup in Dir is Every old (at once when there is none, or when it is of
// another timeline: the database was restored since), so restarts do not
// pile up backups nor skip them. After a failure it tries again in a
// minute, then less and less often, up to Every.
func (s *Schedule) Run(ctx context.Context) {
	retry := time.Minute
	for {
		wait := s.Every
		list, err := List(s.Dir)
		switch {
		case err != nil:
		case len(list) == 0:
			wait = 0
		case s.timeline(ctx) != 0 && list[0].Timeline != s.timeline(ctx):
			wait = 0
		default:
			wait = time.Until(list[0].Started.Add(s.Every))
		}
		if last := s.Last(); last.Err != nil {
			wait = max(wait, time.Until(last.At.Add(retry)))
			retry = min(2*retry, s.Every)
		} else {
			retry = time.Minute
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, 10*time.Second)):
		}
		s.takeOne(ctx)
	}
}

// timeline is the database's timeline now; 0 when it cannot be read.
func (s *Schedule) timeline(ctx context.Context) int {
	var tl int
	_ = s.Pool.QueryRow(ctx, "SELECT timeline_id FROM pg_control_checkpoint()").Scan(&tl)
	return tl
}

func (s *Schedule) takeOne(ctx context.Context) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		s.record(Outcome{At: time.Now(), Err: err})
		return
	}
	defer conn.Release()
	var mine bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", scheduleLock).Scan(&mine); err != nil || !mine {
		return // another process is at it
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", scheduleLock)
	// Another process may have finished one while we waited.
	if list, err := List(s.Dir); err == nil && len(list) > 0 && time.Since(list[0].Started) < s.Every/2 {
		return
	}
	t0 := time.Now()
	b, err := Take(ctx, s.Tools, s.Pool, s.Conn, s.Dir, nil)
	s.record(Outcome{At: t0, Took: time.Since(t0), Err: err})
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Error("scheduled backup failed", "err", err, "dir", s.Dir)
		}
		return
	}
	s.Log.Info("took a backup", "dir", b.Dir, "bytes", b.Bytes, "took", time.Since(t0).Round(time.Millisecond))
	removed, err := Prune(s.Tools, s.Dir, s.Keep, s.Archive)
	if err != nil {
		s.Log.Error("remove old backups", "err", err)
	}
	for _, r := range removed {
		s.Log.Info("removed an old backup", "dir", r.Dir)
	}
}

func (s *Schedule) record(o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = o
}

// Last is how the last backup this process tried went.
func (s *Schedule) Last() Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
