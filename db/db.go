// Package db opens Boxoffice's PostgreSQL: an existing server through
// DATABASE_URL, or a cluster of its own (package embedded runs it). It owns
// the schema migrations, the transaction helper every module uses, and the
// one reading of database errors as "unavailable".
package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db/embedded"
)

// Config says which database to open.
type Config struct {
	URL      string // DATABASE_URL; empty runs the embedded cluster
	DataDir  string // BOXOFFICE_DATA_DIR, for the embedded cluster
	MaxConns int32  // pool size; 0 keeps the URL's pool_max_conns or a default
	// WALArchive, for the embedded cluster, is where it archives its
	// write-ahead log; empty: it does not.
	WALArchive string
	// SessionURL (DATABASE_SESSION_URL) reaches the same database with
	// whole sessions, for what a transaction-pooling PgBouncer at URL
	// cannot carry: LISTEN, session advisory locks, migrations. Empty: URL.
	SessionURL string
}

// DB is an open database: the connection pool and, when Boxoffice runs its
// own server, the cluster behind it.
type DB struct {
	Pool *pgxpool.Pool
	// Session is a small pool of whole sessions (Config.SessionURL), or
	// Pool itself.
	Session *pgxpool.Pool
	Cluster *embedded.Cluster // nil with DATABASE_URL, or when another process runs it
	URL     string            // what Pool connects to
	// Shared is set when the embedded cluster belongs to another running
	// Boxoffice, which Connect joined.
	Shared     bool
	dataDir    string
	sessionURL string
}

// DatabaseName is the database Boxoffice uses inside its embedded cluster.
const DatabaseName = "boxoffice"

// Open connects to cfg.URL, or starts the embedded cluster when it is empty.
// The caller must Close the DB, which also stops the embedded server.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	d := &DB{}
	url := cfg.URL
	if url == "" {
		c, err := embedded.Open(ctx, cfg.DataDir, log, embedded.Options{WALArchive: cfg.WALArchive})
		if err != nil {
			return nil, err
		}
		d.Cluster = c
		if err := c.CreateDatabase(ctx, DatabaseName); err != nil {
			_ = c.Stop()
			return nil, err
		}
		url = c.URL(DatabaseName)
	}
	pool, err := NewPool(ctx, url, cfg.MaxConns)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Pool, d.Session, d.URL = pool, pool, url
	if cfg.SessionURL != "" {
		d.sessionURL = cfg.SessionURL
		if d.Session, err = NewPool(ctx, cfg.SessionURL, 4); err != nil {
			d.Close()
			return nil, fmt.Errorf("DATABASE_SESSION_URL: %w", err)
		}
	}
	return d, nil
}

// ServerBinaries is where the PostgreSQL programs live that suit this
// database (pg_basebackup and friends).
func (d *DB) ServerBinaries() (string, error) {
	switch {
	case d.Cluster != nil:
		return d.Cluster.BinDir, nil
	case d.Shared:
		return embedded.BinariesFor(d.dataDir)
	}
	return embedded.FindServerBinaries()
}

// Connect is Open for commands an operator runs beside the site (backup,
// status): when a running Boxoffice already keeps the embedded cluster in
// cfg.DataDir, it connects to that server, touching none of its files,
// and leaves it running on Close. A data directory that holds no database
// is an error, not a new cluster: the command was pointed at the wrong
// place.
func Connect(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	if cfg.URL != "" {
		return Open(ctx, cfg, log)
	}
	if url, err := embedded.RunningURL(cfg.DataDir, DatabaseName); err == nil {
		pool, err := NewPool(ctx, url, 4)
		if err != nil {
			return nil, err
		}
		return &DB{Pool: pool, Session: pool, URL: url, Shared: true, dataDir: cfg.DataDir}, nil
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "pgdata", "PG_VERSION")); err != nil {
		return nil, fmt.Errorf("no Boxoffice database in %s: give the site's data directory (BOXOFFICE_DATA_DIR or --data-dir), or its DATABASE_URL", cfg.DataDir)
	}
	return Open(ctx, cfg, log)
}

// CopyURL is the connection string for pg_basebackup: the session URL's
// when there is one (PgBouncer carries no replication), else the pool's,
// without the settings only pgx knows (pool_max_conns and friends), which
// libpq refuses.
func (d *DB) CopyURL() string {
	raw := cmp.Or(d.sessionURL, d.URL)
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		q := u.Query()
		for k := range q {
			if strings.HasPrefix(k, "pool_") || k == "default_query_exec_mode" {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	var kept []string
	for _, kv := range strings.Fields(raw) {
		if !strings.HasPrefix(kv, "pool_") && !strings.HasPrefix(kv, "default_query_exec_mode") {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, " ")
}

// NewPool opens a pgx pool on url and checks that it answers.
func NewPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if maxConns > 0 {
		pc.MaxConns = maxConns
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "boxoffice"
	// Boxoffice runs many short queries at once: a parallel plan starts
	// worker processes for each, which under a crowd costs far more than it
	// saves (a booking's tickets, planned so on fresh tables, made the first
	// on-sale twelve times slower). No query here should depend on one.
	pc.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	pc.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s@%s/%s: %w", pc.ConnConfig.User, pc.ConnConfig.Host, pc.ConnConfig.Database, err)
	}
	return pool, nil
}

// Close closes the pool, then stops the embedded server if there is one.
func (d *DB) Close() error {
	if d.Session != nil && d.Session != d.Pool {
		d.Session.Close()
	}
	if d.Pool != nil {
		d.Pool.Close()
	}
	if d.Cluster != nil {
		return d.Cluster.Stop()
	}
	return nil
}

// Transact runs fn in a transaction, committing when fn returns nil and
// rolling back otherwise (also when fn panics). A serialization failure or
// deadlock, which PostgreSQL resolves by aborting one side, is retried a few
// times: fn must therefore be safe to run again.
func Transact(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return TransactWith(ctx, pool, "", fn)
}

// TransactWith is Transact with settings for the transaction alone
// ("SET LOCAL lock_timeout = 3000; …"), sent with its BEGIN in one round
// trip.
func TransactWith(ctx context.Context, pool *pgxpool.Pool, settings string, fn func(pgx.Tx) error) error {
	opts := pgx.TxOptions{}
	if settings != "" {
		opts.BeginQuery = "BEGIN; " + settings
	}
	const attempts = 4
	var err error
	for i := range attempts {
		err = transactOnce(ctx, pool, opts, fn)
		if !isRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func transactOnce(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) (err error) {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(ctx)
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// TimedOut reports whether err is a statement that waited longer than its
// lock_timeout or statement_timeout allow: the database is busy, not away.
func TimedOut(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "55P03" || pgErr.Code == "57014")
}

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// Unavailable reports whether err says the database could not be reached,
// went away, or ran out of time, rather than that a query was wrong: the
// same request may well work in a moment. Callers answer 503 for these.
// It is the one place that decides so.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if TimedOut(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // shutting down, crashed, starting up
			"53300": // too many connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection exceptions
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
