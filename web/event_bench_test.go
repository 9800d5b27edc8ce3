package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/live"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
	"github.com/boxoffice/boxoffice/templates"
)

// Benchmarks of the event page: rendering alone, and the whole handler
// against the database. Run with
//
//	go test ./web -run '^$' -bench Event -benchmem

func benchDemo(b *testing.B) *pgxpool.Pool {
	return dbtest.Shared(b, "demo", func(ctx context.Context, pool *pgxpool.Pool) error {
		_, _, err := seed.Demo(ctx, pool, time.Now())
		return err
	})
}

func benchEvent(b *testing.B, pool *pgxpool.Pool, minSeats, maxSeats int) int64 {
	var id int64
	err := pool.QueryRow(context.Background(), `
		SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE v.capacity BETWEEN $1 AND $2 ORDER BY e.starts_at, e.id LIMIT 1`, minSeats, maxSeats).Scan(&id)
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func BenchmarkEventRender(b *testing.B) {
	pool := benchDemo(b)
	svc := event.NewService(pool, live.New(pool, live.Config{}, time.Now, slog.New(slog.DiscardHandler)), time.Now)
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		min, max int
		seats    bool
	}{
		{"hall-2040-seats", 1800, 2500, true},
		{"stadium-41508-overview", 40000, 100000, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			id := benchEvent(b, pool, c.min, c.max)
			e, err := svc.FindEventByID(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			a, err := svc.Availability(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			p := templates.EventPage{Event: e, Availability: a}
			if c.seats {
				if p.Seats, err = svc.Seats(ctx, id, 0); err != nil {
					b.Fatal(err)
				}
			}
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := templates.EventView(p).Render(ctx, &buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "page-bytes")
		})
	}
}

func BenchmarkEventHandler(b *testing.B) {
	pool := benchDemo(b)
	srv := newSite(b, pool)
	for _, c := range []struct {
		name     string
		min, max int
		path     string
	}{
		{"hall-2040-seats", 1800, 2500, "/event/%d"},
		{"stadium-41508-overview", 40000, 100000, "/event/%d"},
	} {
		b.Run(c.name, func(b *testing.B) {
			url := fmt.Sprintf(c.path, benchEvent(b, pool, c.min, c.max))
			var size, gzSize int
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", url, rec.Code)
				}
				size = rec.Body.Len()
			}
			req := httptest.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			gzSize = rec.Body.Len()
			b.ReportMetric(float64(size), "page-bytes")
			b.ReportMetric(float64(gzSize), "gzip-bytes")
		})
	}
}
