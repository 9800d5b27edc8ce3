package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrator applies the schema migrations embedded in the binary. Several
// instances starting at once take turns through an advisory lock.
type Migrator struct {
	provider *goose.Provider
	sqlDB    *sql.DB
}

// NewMigrator prepares migrations over pool.
func NewMigrator(pool *pgxpool.Pool, log *slog.Logger) (*Migrator, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, opts...)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{provider: p, sqlDB: sqlDB}, nil
}

// Close releases the migrator's connection; the pool stays open.
func (m *Migrator) Close() error { return m.sqlDB.Close() }

// Up applies every pending migration and returns what it applied.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	res, err := m.provider.Up(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate up: %w", err)
	}
	return res, nil
}

// Down rolls back the newest applied migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) {
	res, err := m.provider.Down(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate down: %w", err)
	}
	return res, nil
}

// DownTo rolls back to version (0 removes the whole schema).
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	res, err := m.provider.DownTo(ctx, version)
	if err != nil {
		return res, fmt.Errorf("migrate down to %d: %w", version, err)
	}
	return res, nil
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.provider.Status(ctx)
}

// Pending reports whether migrations remain to be applied; readiness
// depends on it.
func (m *Migrator) Pending(ctx context.Context) (bool, error) {
	return m.provider.HasPending(ctx)
}

// Migrate applies all pending migrations on pool; start-up calls it. A
// database whose schema is newer than this binary knows (a newer
// Boxoffice ran on it, and this one is older) is refused, untouched: this
// binary's code may not understand what the newer schema holds.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	m, err := NewMigrator(pool, log)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.CheckNotNewer(ctx); err != nil {
		return err
	}
	_, err = m.Up(ctx)
	return err
}

// ErrSchemaNewer is a database migrated by a newer Boxoffice than this.
var ErrSchemaNewer = errors.New("the database's schema is newer than this Boxoffice")

// CheckNotNewer refuses a database whose schema is newer than the
// migrations embedded in this binary.
func (m *Migrator) CheckNotNewer(ctx context.Context) error {
	current, known, err := m.provider.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read the schema's version: %w", err)
	}
	if current > known {
		return fmt.Errorf("%w: it is at migration %d, and this binary knows migrations up to %d. A newer Boxoffice has run on "+
			"this database; run that version (or a newer one). Going back to an older binary does not roll the schema back: "+
			"to go back, restore a backup taken before the upgrade", ErrSchemaNewer, current, known)
	}
	return nil
}

// KnownVersion is the newest migration embedded in this binary.
func KnownVersion() (int64, error) {
	entries, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	var newest int64
	for _, name := range entries {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", name, err)
		}
		newest = max(newest, v)
	}
	return newest, nil
}
