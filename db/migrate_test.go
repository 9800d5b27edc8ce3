package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.NewEmpty(t)
	m, err := db.NewMigrator(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	tables := func() []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		return names
	}

	up, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(up) == 0 {
		t.Fatal("no migrations applied to an empty database")
	}
	want := []string{"audit_log", "booking_tickets", "bookings", "checkins", "event_performers", "event_prices", "event_search", "event_staff", "events", "known_devices", "login_failures", "outbox", "password_resets", "payment_events", "performers", "queue_entries", "queue_load", "queue_state", "search_words", "seats", "sections", "sessions", "signing_keys", "ticket_stock", "ticket_versions", "tickets", "users", "venues"}
	if got := tables(); !equal(got, want) {
		t.Fatalf("tables after up = %v, want %v", got, want)
	}
	if pending, err := m.Pending(ctx); err != nil || pending {
		t.Fatalf("Pending after up = %v, %v; want false", pending, err)
	}

	down, err := m.DownTo(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(down) != len(up) {
		t.Errorf("down rolled back %d migrations, up applied %d", len(down), len(up))
	}
	if got := tables(); len(got) != 0 {
		t.Fatalf("tables left after down to 0: %v", got)
	}
	if pending, _ := m.Pending(ctx); !pending {
		t.Error("Pending after down = false, want true")
	}

	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("up again after down: %v", err)
	}
	if got := tables(); !equal(got, want) {
		t.Fatalf("tables after up again = %v, want %v", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A database migrated by a newer Boxoffice is refused by an older one,
// with what to do, and left as it is.
func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
		t.Fatal(err)
	}
	err := db.Migrate(ctx, pool, nil)
	if !errors.Is(err, db.ErrSchemaNewer) || !strings.Contains(err.Error(), "at migration 99999") || !strings.Contains(err.Error(), "restore a backup") {
		t.Fatalf("an older binary on a newer schema: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id = 99999`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the newer schema's record was changed: %d %v", n, err)
	}
}
