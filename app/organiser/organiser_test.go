package organiser_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/live"
	"github.com/boxoffice/boxoffice/app/organiser"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// house is a small venue: Stalls (2 rows of 3), Circle (1 row of 4) and
// a standing Pit, owned by an organiser.
func house(t *testing.T, pool *pgxpool.Pool, owner audit.Actor) int64 {
	t.Helper()
	row := func(label string, y float32, n int) venue.Row {
		r := venue.Row{Label: label}
		for i := range n {
			r.Seats = append(r.Seats, venue.Seat{Number: i + 1, X: float32(10 + 10*i), Y: y})
		}
		return r
	}
	box := venue.Outline{{0, 0}, {100, 0}, {100, 100}, {0, 100}}
	m := &venue.SeatMap{Format: venue.Format, Width: 100, Height: 100,
		Venue: venue.Place{Name: "Little Hall", City: "York", Country: "GB", Timezone: "Europe/London"},
		Sections: []venue.Section{
			{Name: "Stalls", Kind: venue.Seated, Outline: box, Rows: []venue.Row{row("A", 10, 3), row("B", 20, 3)}},
			{Name: "Circle", Kind: venue.Seated, Outline: box, Rows: []venue.Row{row("A", 50, 4)}},
			{Name: "Pit", Kind: venue.Standing, Outline: box, Capacity: 100},
		}}
	id, err := venue.NewService(pool, time.Now).Create(context.Background(), owner, m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func reason(err error) string {
	var e *app.Error
	if errors.As(err, &e) {
		return e.Reason + ": " + e.Message
	}
	return "not an app error: " + err.Error()
}

// A draft is invisible to fans; publishing makes one ticket per seat of
// the priced sections; a price change reaches unsold seats only; a
// section added goes on sale; a section sold cannot be dropped.
func TestEventFromDraftToSale(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	alice := audit.Actor{UserID: dbtest.User(t, pool)}
	bob := audit.Actor{UserID: dbtest.User(t, pool)}
	venueID := house(t, pool, alice)
	svc := organiser.NewService(pool, time.Now)
	in := organiser.Event{VenueID: venueID, Name: "Spring Recital", Type: "concert",
		Performers: []organiser.Performer{{Name: "Ana Sol", Kind: "artist", Role: "headliner"}},
		StartsAt:   time.Now().AddDate(0, 2, 0).Format("2006-01-02") + "T19:30",
		Prices:     []organiser.Price{{Zone: "Best", Price: 4500, Sections: []string{"Stalls"}}}}
	id, err := svc.Create(ctx, alice, in)
	if err != nil {
		t.Fatal(err)
	}
	events := event.NewService(pool, live.New(pool, live.Config{}, time.Now, slog.New(slog.DiscardHandler)), time.Now)
	if _, err := events.FindEventByID(ctx, id); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("a fan looks at a draft: %v, want not found", err)
	}
	words := func() int { return dbtest.Int(t, pool, `SELECT count(*) FROM search_words WHERE word = 'recital'`) }
	if words() != 0 {
		t.Error("a draft's name is among the words search suggests")
	}
	if _, err := svc.Publish(ctx, bob, id); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("another organiser publishes it: %v, want not found", err)
	}
	n, err := svc.Publish(ctx, alice, id)
	if err != nil || n != 6 {
		t.Fatalf("publish: %d tickets, %v; want the 6 stalls seats", n, err)
	}
	if words() != 1 {
		t.Error("a published event's name is not among the words search suggests")
	}
	if _, err := svc.Publish(ctx, alice, id); app.ErrorCode(err) != app.ECONFLICT {
		t.Errorf("publishing twice: %v", err)
	}
	e, err := events.FindEventByID(ctx, id)
	if err != nil || e.Currency != "GBP" || e.Timezone != "Europe/London" || e.StartsAt.In(time.UTC).Hour() > 19 {
		t.Fatalf("the published event: %+v, %v", e, err)
	}

	// A fan buys one seat; then the price rises and the circle goes on sale.
	tickets := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 ORDER BY id`, id)
	fan := dbtest.User(t, pool)
	bookings := booking.NewService(pool, payment.NewDemo(), booking.Config{HoldTTL: time.Minute, MaxTickets: 8}, time.Now,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, err := bookings.HoldTickets(ctx, fan, tickets[:1])
	if err == nil {
		_, err = bookings.PayBooking(ctx, fan, b.ID, "pm_card_visa")
	}
	if err != nil {
		t.Fatal(err)
	}
	in.Prices = []organiser.Price{{Zone: "Best", Price: 5000, Sections: []string{"Stalls"}}, {Zone: "Good", Price: 3000, Sections: []string{"Circle"}}}
	if err := svc.Update(ctx, alice, id, in); err != nil {
		t.Fatal(err)
	}
	// The fan paid what they paid; every stalls seat, theirs included
	// (should it come back on sale), now costs the new price.
	var paid, stalls, circle int
	dbtest.QueryRow(t, pool, `SELECT
		(SELECT total FROM bookings WHERE id = $2),
		(SELECT count(*) FROM tickets WHERE event_id = $1 AND price = 5000 AND section_id = (SELECT id FROM sections WHERE name = 'Stalls' AND venue_id = $3)),
		(SELECT count(*) FROM tickets WHERE event_id = $1 AND price = 3000)`, id, b.ID, venueID).Scan(&paid, &stalls, &circle)
	if paid != 4500 || stalls != 6 || circle != 4 {
		t.Errorf("after the change: the fan's booking totals %d (want 4500), %d stalls at 5000 (want 6), %d circle at 3000 (want 4)", paid, stalls, circle)
	}
	in.Prices = in.Prices[1:]
	if err := svc.Update(ctx, alice, id, in); !strings.Contains(reason(err), `"Stalls" has none now`) {
		t.Errorf("dropping a section on sale: %v", err)
	}
	got, status, err := svc.Get(ctx, alice, id)
	if err != nil || status != organiser.OnSale || len(got.Prices) != 2 || got.Prices[0].Price != 5000 || got.StartsAt != in.StartsAt {
		t.Errorf("read back: %+v %s %v", got, status, err)
	}
	var logged int
	dbtest.QueryRow(t, pool, `SELECT count(*) FROM audit_log WHERE event_id = $1`, id).Scan(&logged)
	if logged != 3 { // create, publish, the update that passed
		t.Errorf("%d audit entries, want 3", logged)
	}
}

// Bad events are refused with the field to fix.
func TestEventChecks(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	alice := audit.Actor{UserID: dbtest.User(t, pool)}
	bob := audit.Actor{UserID: dbtest.User(t, pool)}
	venueID := house(t, pool, alice)
	svc := organiser.NewService(pool, time.Now)
	good := func() organiser.Event {
		return organiser.Event{VenueID: venueID, Name: "Night", Type: "comedy", StartsAt: "2099-01-01T20:00",
			Prices: []organiser.Price{{Price: 1000, Sections: []string{"Stalls"}}}}
	}
	for _, c := range []struct {
		name   string
		change func(*organiser.Event)
		by     audit.Actor
		want   string
	}{
		{"another's venue", func(e *organiser.Event) {}, bob, "You have no venue"},
		{"no name", func(e *organiser.Event) { e.Name = " " }, alice, "Give the event a name"},
		{"a type", func(e *organiser.Event) { e.Type = "opera" }, alice, `The type "opera"`},
		{"the past", func(e *organiser.Event) { e.StartsAt = "2001-01-01T20:00" }, alice, "The start is in the past"},
		{"no start", func(e *organiser.Event) { e.StartsAt = "soon" }, alice, "Give the start as a date and time"},
		{"ends first", func(e *organiser.Event) { e.EndsAt = "2099-01-01T19:00" }, alice, "The end must be"},
		{"on sale after", func(e *organiser.Event) { e.OnSaleAt = "2099-02-01T10:00" }, alice, "before the event starts"},
		{"no price", func(e *organiser.Event) { e.Prices = nil }, alice, "Price at least one section"},
		{"a section twice", func(e *organiser.Event) {
			e.Prices = append(e.Prices, organiser.Price{Price: 5, Sections: []string{"Stalls"}})
		}, alice, `Section "Stalls" has two prices`},
		{"a missing section", func(e *organiser.Event) { e.Prices[0].Sections = []string{"Gods"} }, alice, `no section "Gods"`},
		{"a control character", func(e *organiser.Event) { e.Name = "Night\x00" }, alice, "cannot be shown"},
		{"a free seat", func(e *organiser.Event) { e.Prices[0].Price = 0 }, alice, "give a price between 1"},
		{"a performer's role", func(e *organiser.Event) {
			e.Performers = []organiser.Performer{{Name: "X", Kind: "band", Role: "star"}}
		}, alice, `X's role "star"`},
		{"a queue", func(e *organiser.Event) { e.Queue = "sometimes" }, alice, "give off, always or auto"},
		{"a currency", func(e *organiser.Event) { e.Currency = "pounds" }, alice, "three capital letters"},
	} {
		e := good()
		c.change(&e)
		if _, err := svc.Create(context.Background(), c.by, e); app.ErrorCode(err) != app.EINVALID || !strings.Contains(reason(err), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d events stored from refused input", n)
	}
}
