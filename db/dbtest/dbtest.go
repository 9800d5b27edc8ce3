// Package dbtest gives each test a fresh PostgreSQL database of its own.
//
// One server serves the whole test process: the server at TEST_DATABASE_URL
// when set, else an embedded cluster in a temporary directory. The schema is
// migrated once into a template database; each test gets a cheap copy of it
// and drops it when done, so tests run in parallel without seeing each other.
//
// A package using it runs its tests through Main:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
package dbtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/embedded"
)

type server struct {
	adminURL string // a database to run CREATE/DROP DATABASE from
	urlFor   func(string) string
	cluster  *embedded.Cluster // nil with TEST_DATABASE_URL
	tempDir  string
	template string

	sharedNames []string // databases of Shared, dropped at the end
}

var (
	once    sync.Once
	srv     *server
	srvErr  error
	counter atomic.Int64
)

// Main runs the tests of a package, then stops the server it started.
func Main(m *testing.M) {
	code := m.Run()
	if srv != nil {
		srv.close()
	}
	os.Exit(code)
}

// Logger is where test servers log: silent unless BOXOFFICE_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("BOXOFFICE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func get(t testing.TB) *server {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		if os.Getenv("CI") == "" && strings.Contains(srvErr.Error(), "not found") {
			t.Skipf("no PostgreSQL for tests: %v", srvErr)
		}
		t.Fatalf("test database server: %v", srvErr)
	}
	return srv
}

func start() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := &server{template: fmt.Sprintf("boxoffice_template_%d", os.Getpid())}
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		if _, err := pgx.ParseConfig(url); err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		s.adminURL = url
		s.urlFor = replaceDatabase(url)
	} else {
		dir, err := os.MkdirTemp("", "boxoffice-test-")
		if err != nil {
			return nil, err
		}
		// When tests run as root the server runs as another user, who must
		// be able to enter the directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		s.tempDir = dir
		c, err := embedded.Start(ctx, dir, Logger(),
			// Test data is thrown away: trade durability for speed.
			"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.cluster = c
		s.adminURL = c.URL("postgres")
		s.urlFor = c.URL
	}
	if err := s.createTemplate(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// replaceDatabase returns a function that points url at another database.
func replaceDatabase(url string) func(string) string {
	return func(name string) string {
		if strings.Contains(url, "://") {
			// postgres://user@host:port/dbname?params
			rest := url[strings.Index(url, "://")+3:]
			query := ""
			if i := strings.IndexByte(rest, '?'); i >= 0 {
				rest, query = rest[:i], rest[i:]
			}
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				rest = rest[:i]
			}
			return url[:strings.Index(url, "://")+3] + rest + "/" + name + query
		}
		return url + " dbname=" + name // key=value: the last one wins
	}
}

func (s *server) createTemplate(ctx context.Context) error {
	if err := s.exec(ctx, "CREATE DATABASE "+ident(s.template)); err != nil {
		return err
	}
	pool, err := db.NewPool(ctx, s.urlFor(s.template), 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	return db.Migrate(ctx, pool, nil)
}

func (s *server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shared.Lock()
	for _, d := range shared.pools {
		if d.pool != nil {
			d.pool.Close()
		}
	}
	shared.Unlock()
	if s.cluster != nil {
		_ = s.cluster.Stop()
		_ = os.RemoveAll(s.tempDir)
		return
	}
	for _, name := range append(s.sharedNames, s.template) {
		_ = s.exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
	}
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// NewURL creates a fresh database for t and returns its connection string.
// With migrated false it is empty (no schema at all). It is dropped when the
// test ends.
func NewURL(t testing.TB, migrated bool) string {
	t.Helper()
	s := get(t)
	name := fmt.Sprintf("boxoffice_test_%d_%d", os.Getpid(), counter.Add(1))
	ctx := context.Background()
	sql := "CREATE DATABASE " + ident(name)
	if migrated {
		sql += " TEMPLATE " + ident(s.template)
	}
	if err := s.exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.exec(context.Background(), "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return s.urlFor(name)
}

// New returns a pool on a fresh, migrated database of t's own.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return open(t, NewURL(t, true))
}

// NewEmpty returns a pool on a fresh database with no schema.
func NewEmpty(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return open(t, NewURL(t, false))
}

func open(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.NewPool(context.Background(), url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // runs before the database is dropped
	return pool
}

var shared struct {
	sync.Mutex
	pools map[string]*sharedDB
}

type sharedDB struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// Shared returns a migrated database that every test of the process asking
// with the same key shares, set up once by setup (loading a large fixture,
// say). Tests must only read it. It is dropped when Main ends.
func Shared(t testing.TB, key string, setup func(context.Context, *pgxpool.Pool) error) *pgxpool.Pool {
	t.Helper()
	s := get(t)
	shared.Lock()
	if shared.pools == nil {
		shared.pools = map[string]*sharedDB{}
	}
	d := shared.pools[key]
	if d == nil {
		d = &sharedDB{}
		shared.pools[key] = d
	}
	shared.Unlock()
	d.once.Do(func() {
		ctx := context.Background()
		name := fmt.Sprintf("boxoffice_shared_%d_%d", os.Getpid(), counter.Add(1))
		if d.err = s.exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(s.template)); d.err != nil {
			return
		}
		s.sharedNames = append(s.sharedNames, name)
		if d.pool, d.err = db.NewPool(ctx, s.urlFor(name), 8); d.err != nil {
			return
		}
		d.err = setup(ctx, d.pool)
	})
	if d.err != nil {
		t.Fatalf("shared database %q: %v", key, d.err)
	}
	return d.pool
}

// Row is one row of a query run by QueryRow, waiting to be scanned.
type Row struct {
	t   testing.TB
	sql string
	row pgx.Row
}

// QueryRow runs sql, which must return one row, for a test to scan:
//
//	dbtest.QueryRow(t, pool, `SELECT status FROM bookings WHERE id = $1`, id).Scan(&status)
//
// Its Scan fails the test on any error, so that a check such as "the count
// is 0" cannot pass because the query broke and left the count at its zero
// value. Like t.Fatal, call it from the test's own goroutine.
func QueryRow(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) Row {
	t.Helper()
	return Row{t: t, sql: sql, row: pool.QueryRow(context.Background(), sql, args...)}
}

// Scan copies the row into dest, or fails the test.
func (r Row) Scan(dest ...any) {
	r.t.Helper()
	if err := r.row.Scan(dest...); err != nil {
		r.t.Fatalf("%s: %v", r.sql, err)
	}
}

// Int runs sql, which must return one number (a count, say), and returns
// it; any error fails the test, as with QueryRow.
func Int(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	QueryRow(t, pool, sql, args...).Scan(&n)
	return n
}

// IDs runs sql, which must return one column of ids, and returns them in
// order. Any error fails the test, including one met partway through the
// rows, which would otherwise look like a shorter list.
func IDs(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return ids
}

// Exec runs sql, which returns no rows; any error fails the test.
func Exec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// User adds an account (a fan) and returns its id.
func User(t testing.TB, pool *pgxpool.Pool) int64 {
	t.Helper()
	var id int64
	QueryRow(t, pool, `INSERT INTO users (email, name) VALUES ('user' || nextval(pg_get_serial_sequence('users', 'id')) || '@example.com', 'A User') RETURNING id`).Scan(&id)
	return id
}
