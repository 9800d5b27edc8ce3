package templates

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/queue"
)

// seatPage is an event in Madrid with a numbered and a named section and
// seats of every status, n seats a row.
func seatPage(rows, n int) EventPage {
	start := time.Date(2026, 12, 12, 19, 0, 0, 0, time.UTC) // 20:00 in Madrid
	end := start.Add(150 * time.Minute)
	e := &event.Event{ID: 7, Name: "Noche <Flamenca>", Type: event.TypeConcert, StartsAt: start, EndsAt: &end, DoorsAt: &start,
		Timezone: "Europe/Madrid", Currency: "EUR", Status: "published",
		Venue: event.Venue{ID: 3, Name: "Teatro Real", Address: "Plaza de Isabel II", City: "Madrid", Country: "ES",
			Timezone: "Europe/Madrid", Capacity: rows * n * 2, MapWidth: 1000, MapHeight: 1000,
			Stage: []event.Point{{X: 400, Y: 0}, {X: 600, Y: 0}, {X: 600, Y: 50}}},
		Performers: []event.Performer{{ID: 1, Name: "Rosa", Kind: "artist", Role: "headliner"}},
		Sections: []event.Section{
			{ID: 1, Name: "112", Outline: []event.Point{{X: 0, Y: 100}, {X: 500, Y: 100}, {X: 500, Y: 900}}},
			{ID: 2, Name: "Stalls", Outline: []event.Point{{X: 500, Y: 100}, {X: 1000, Y: 100}, {X: 1000, Y: 900}}},
			{ID: 3, Name: "Floor", Standing: true, Capacity: 50},
		},
	}
	a := &event.Availability{Sections: map[int64]event.SectionAvailability{}, Prices: []int64{3000, 4550}, MinPrice: 3000, MaxPrice: 4550}
	p := EventPage{Event: e, Availability: a, MaxTickets: 6, Seats: []event.Seat{}}
	statuses := []string{event.StatusAvailable, event.StatusReserved, event.StatusSold, event.StatusAvailable}
	id := int64(0)
	for sec := int64(1); sec <= 2; sec++ {
		for r := range rows {
			for s := 1; s <= n; s++ {
				id++
				st := statuses[int(id)%len(statuses)]
				price := int64(3000)
				if sec == 1 {
					price = 4550
				}
				p.Seats = append(p.Seats, event.Seat{TicketID: id, SeatID: id, SectionID: sec, Row: string(rune('A' + r%26)), Number: s,
					X: float64(sec-1)*500 + float64(s)*10, Y: 100 + float64(r)*10, Price: price, Status: st})
				sa := a.Sections[sec]
				sa.Total++
				a.Total++
				if st == event.StatusAvailable {
					sa.Available++
					a.Available++
				}
				sa.MinPrice, sa.MaxPrice, sa.Lowest = price, price, price
				a.Sections[sec] = sa
			}
		}
	}
	a.Sections[3] = event.SectionAvailability{Available: 20, Total: 50, MinPrice: 2500, MaxPrice: 2500, Lowest: 2500}
	return p
}

var (
	ariaLabel = regexp.MustCompile(`<(input|i) [^>]*data-(?:t|p|z)="[^"]*"[^>]*aria-label="([^"]*)"`)
	scripts   = regexp.MustCompile(`(?s)<script[^>]*>.*?</script>`)
	// A message ID shown instead of its text: a key the catalogs lack.
	messageID = regexp.MustCompile(`\b(event|seatmap|place|queue)\.[a-z_]+(\.[a-z_]+)*\b`)
)

// Every seat's name is in the page's language, from the same messages as
// the script reads them back with, and the page has no message missing.
func TestSeatMapSpeaksThePageLanguage(t *testing.T) {
	p := seatPage(2, 4)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	for _, l := range locale.Default().Langs() {
		ctx := locale.With(context.Background(), l)
		var buf bytes.Buffer
		if err := EventView(p).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		want := map[string]bool{}
		for _, s := range p.Seats {
			section := p.Event.Section(s.SectionID).Name
			name := l.T("seatmap.seat_price", "Name", SeatName(l, section, s.Row, s.Number), "Price", l.Money(s.Price, "EUR"))
			switch s.Status {
			case event.StatusReserved:
				name = l.T("seatmap.js.on_hold", "Name", name)
			case event.StatusSold:
				name = l.T("seatmap.js.sold", "Name", name)
			}
			want[escape(name)] = true
		}
		got := ariaLabel.FindAllStringSubmatch(page, -1)
		if len(got) != len(p.Seats) {
			t.Fatalf("%s: %d seats labelled, %d seats", l.Code, len(got), len(p.Seats))
		}
		for _, m := range got {
			if !want[m[2]] {
				t.Errorf("%s: a seat is labelled %q", l.Code, m[2])
			}
		}
		if when := escape(l.DateTime(p.Event.StartsAt, madrid)); !strings.Contains(page, when) {
			t.Errorf("%s: the page does not say %q", l.Code, when)
		}
		if id := messageID.FindString(scripts.ReplaceAllString(page, "")); id != "" {
			t.Errorf("%s: the page shows the message ID %q", l.Code, id)
		}
	}
	en := locale.Default().English()
	if got := SeatName(en, "112", "C", 12); got != "Section 112, row C, seat 12" {
		t.Errorf("English seat name %q", got)
	}
	ja, _ := locale.Default().Get("ja")
	if got := SeatName(ja, "Stalls", "C", 12); !strings.Contains(got, "C列") {
		t.Errorf("Japanese seat name %q", got)
	}
}

func escape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// The pages of the area render in every language without a missing
// message: the overview, a room before its on-sale, the waiting room, a
// venue and a performer.
func TestFanPagesInEveryLanguage(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	onSale, until := now.Add(10*time.Minute), now.Add(5*time.Minute)
	overview := seatPage(1, 2)
	overview.Seats = nil
	room := seatPage(1, 2)
	room.Room = &Room{OnSaleAt: &onSale, Queue: "always", Now: now}
	admitted := seatPage(1, 2)
	admitted.Room = &Room{Queue: "always", Now: now, Place: &queue.Place{State: queue.StateAdmitted, AdmittedUntil: &until}}
	ev := overview.Event
	pages := map[string]interface {
		Render(context.Context, io.Writer) error
	}{
		"overview":   EventView(overview),
		"room":       EventView(room),
		"admitted":   EventView(admitted),
		"waiting":    QueueView(QueuePage{Event: ev, Now: now, Place: &queue.Place{State: queue.StateWaiting, Position: 1234, Ahead: 1, EstimatedWait: 90 * time.Second}}),
		"draw":       QueueView(QueuePage{Event: ev, Now: now, Place: &queue.Place{State: queue.StateWaiting, OnSaleAt: &onSale, Ahead: 3}}),
		"queue-done": QueueView(QueuePage{Event: ev, Now: now, Place: &queue.Place{State: queue.StateExpired}}),
		"venue":      VenueView(&ev.Venue, ev.Sections, nil),
		"performer":  PerformerView(&event.Performer{ID: 1, Name: "Rosa", Kind: "band"}, nil),
	}
	for _, l := range locale.Default().Langs() {
		ctx := locale.With(context.Background(), l)
		for name, c := range pages {
			var buf bytes.Buffer
			if err := c.Render(ctx, &buf); err != nil {
				t.Fatalf("%s %s: %v", l.Code, name, err)
			}
			if id := messageID.FindString(scripts.ReplaceAllString(buf.String(), "")); id != "" {
				t.Errorf("%s %s: the page shows the message ID %q", l.Code, name, id)
			}
		}
	}
	// The countdown and the time stay elements inside their sentence.
	var buf bytes.Buffer
	ja, _ := locale.Default().Get("ja")
	if err := EventView(room).Render(locale.With(context.Background(), ja), &buf); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`チケットは<strong>[^<]+</strong>に発売されます（あと<time data-countdown="600" data-testid="countdown">10分</time>）。`).MatchString(buf.String()) {
		t.Errorf("the on-sale sentence in Japanese: %s", regexp.MustCompile(`(?s)<p class="room-when">.*?</p>`).FindString(buf.String()))
	}
}

// BenchmarkSeatsHTML draws a hall of 5,000 seats.
func BenchmarkSeatsHTML(b *testing.B) {
	p := seatPage(25, 100)
	for _, code := range []string{"en", "ja"} {
		b.Run(code, func(b *testing.B) {
			l, _ := locale.Default().Get(code)
			ctx := locale.With(context.Background(), l)
			m := buildMap(ctx, p)
			b.ReportAllocs()
			for b.Loop() {
				_ = seatsHTML(ctx, p, m)
			}
		})
	}
}
