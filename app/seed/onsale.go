package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OnsaleEvent adds one event going on sale now, in a venue of its own with
// about seats seats in sections of up to 500 (rows of 25), priced by how
// close each section is to the stage, all available. It is what `bench
// onsale` sells out.
func OnsaleEvent(ctx context.Context, pool *pgxpool.Pool, seats int, now time.Time) (int64, error) {
	var eventID int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		next, err := reserveIDs(ctx, tx, "venues", "sections", "seats", "performers", "events")
		if err != nil {
			return err
		}
		b := &builder{next: next, rng: rand.New(rand.NewPCG(uint64(seats), 3)), venues: map[string]*builtVenue{}, perfID: map[string]int64{}}
		plan := onsaleLayout(seats)
		v := b.addVenue(venueSpec{
			key: "onsale", name: fmt.Sprintf("Benchmark Arena %d", next.venue), address: "1 Load Test Lane",
			city: "Testville", country: "US", timezone: "America/New_York", currency: "USD",
			plan: func() *layout { return plan },
		})
		perf := b.addPerformer(performerSpec{name: fmt.Sprintf("The Load Testers %d", next.performer), kind: "band", bio: "A band that always sells out."})
		eventID = b.next.event
		b.next.event++
		starts := now.Add(30 * 24 * time.Hour).Truncate(time.Hour)
		b.c.events = append(b.c.events, eventRow{id: eventID, venueID: v.id, name: "The Load Testers: On-Sale Night", typ: "concert",
			description: "A hot on-sale for the benchmark.", startsAt: starts, endsAt: starts.Add(2 * time.Hour), doorsAt: starts.Add(-time.Hour),
			timezone: "America/New_York", currency: "USD"})
		b.c.eventPerformers = append(b.c.eventPerformers, eventPerformerRow{eventID: eventID, performerID: perf, role: "headliner"})
		for si, s := range plan.sections {
			price := localPrice(150*tierPrice(s.tier), "USD")
			for j := range s.seats {
				b.c.tickets = append(b.c.tickets, ticketRow{eventID: eventID, seatID: v.seatID[si][j], sectionID: v.secIDs[si], price: price, currency: "USD"})
			}
		}
		if err := claimIDs(ctx, tx, b.next); err != nil {
			return err
		}
		return b.c.write(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("on-sale event: %w", err)
	}
	return eventID, analyze(ctx, pool)
}

// onsaleLayout is a hall of sections stacked back from the stage.
func onsaleLayout(seats int) *layout {
	l := &layout{width: 660, stage: rect(180, 10, 480, 50), stageLabel: "Stage"}
	y := 80.0
	for i := 0; seats > 0; i++ {
		n := min(seats, 500)
		rows := (n + 24) / 25
		s := block(fmt.Sprintf("Section %c", 'A'+i%26)+suffix(i), "Floor", min(i, 4), 30, y, rows, 25, 10, 8, 0, rowLabel)
		s.seats = s.seats[:n]
		l.add(s)
		y += float64(rows)*10 + 30
		seats -= n
	}
	l.height = int(y)
	return l
}

func suffix(i int) string {
	if i < 26 {
		return ""
	}
	return fmt.Sprint(i / 26)
}
