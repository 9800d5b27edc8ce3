package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/db"
	"github.com/boxoffice/boxoffice/db/embedded"
)

// TestReadsOnAReplica runs the binary on a primary with a real streaming
// replica (DATABASE_READ_URL): event pages and search read the replica,
// holds and a fan's own bookings the primary. With the replica's replay
// paused, an event renamed on the primary keeps its old name on its page
// and in search, while a fan holds its seats and sees the booking at once;
// once replay resumes, the new name shows.
func TestReadsOnAReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	primary, err := embedded.Start(ctx, dataDir(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	if err := primary.CreateDatabase(ctx, db.DatabaseName); err != nil {
		t.Fatal(err)
	}
	replica, err := embedded.StartReplica(ctx, dataDir(t), primary.URL(db.DatabaseName), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { replica.Stop() })
	in := start(t, nil, "DATABASE_URL="+primary.URL(db.DatabaseName), "DATABASE_READ_URL="+replica.URL(db.DatabaseName),
		"BOXOFFICE_MAX_REPLICA_LAG=1h", "BOXOFFICE_BOOKING_RATE=off", "BOXOFFICE_SEARCH_RATE=off")

	var ready map[string]any
	if !waitFor(time.Minute, func() bool {
		_, ready, _ = call("GET", in.url+"/readyz", "", nil)
		return ready["reads"] == "1 of 1 replicas"
	}) {
		t.Fatalf("/readyz never said reads go to the replica: %v\n%s", ready, in.logs)
	}

	eventID, tickets := availableTickets(t, in.url, 1)
	onPrimary := openPool(t, primary.URL(db.DatabaseName))
	onReplica := openPool(t, replica.URL(db.DatabaseName))
	// Another event, whose page nobody has opened (so none is cached).
	var otherID int64
	if err := onPrimary.QueryRow(ctx, "SELECT id FROM events WHERE id <> $1 AND status = 'on_sale' ORDER BY id DESC LIMIT 1", eventID).Scan(&otherID); err != nil {
		t.Fatal(err)
	}
	if _, err := onReplica.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	const renamed = "Zyxwvut Renamed On The Primary"
	if _, err := onPrimary.Exec(ctx, "UPDATE events SET name = $1 WHERE id = $2", renamed, otherID); err != nil {
		t.Fatal(err)
	}
	page := func() string {
		_, body := in.get(t, fmt.Sprintf("/event/%d", otherID))
		return body
	}
	found := func() float64 {
		_, res, _ := call("GET", in.url+"/api/v1/search?q="+url.QueryEscape("Zyxwvut"), "", nil)
		n, _ := res["total"].(float64)
		return n
	}
	if strings.Contains(page(), renamed) || found() != 0 {
		t.Fatal("the event page or search read the primary while the replica is behind")
	}

	// A fan's hold and booking go to the primary: seen at once.
	token := fanToken(t, in.url, 0)
	code, held, _ := call("POST", in.url+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:1]})
	if code != http.StatusCreated {
		t.Fatalf("hold with the replica behind: %d %v", code, held)
	}
	if code, b, _ := call("GET", fmt.Sprintf("%s/api/v1/bookings/%d", in.url, int64(held["id"].(float64))), token, nil); code != http.StatusOK || b["status"] != "pending" {
		t.Fatalf("the fan's own booking, just made: %d %v", code, b)
	}

	if _, err := onReplica.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(time.Minute, func() bool { return found() == 1 }) {
		t.Fatalf("search does not find the renamed event after the replica caught up")
	}
	if !strings.Contains(page(), renamed) && !waitFor(time.Minute, func() bool { return strings.Contains(page(), renamed) }) {
		t.Errorf("the event page keeps the old name after the replica caught up")
	}
}

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.NewPool(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
