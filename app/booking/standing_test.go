package booking_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// Fans racing for the last places of a standing area: each place goes to
// one fan, and the ones who come too late are told how many are left.
func TestStandingPlacesRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2, 40)
	ctx := context.Background()
	dbtest.Exec(t, f.pool, `INSERT INTO sections (id, venue_id, name, position, outline, kind, capacity) VALUES (2, 1, 'Pit', 1, '((0,0),(10,0),(10,10))', 'standing', 5)`)
	dbtest.Exec(t, f.pool, `INSERT INTO tickets (event_id, seat_id, section_id, price, currency) SELECT 1, NULL, 2, 1500, 'GBP' FROM generate_series(1, 5)`)
	var wg sync.WaitGroup
	var held, late atomic.Int32
	for _, fan := range f.fans {
		wg.Go(func() {
			_, err := f.svc.HoldStanding(ctx, fan, f.eventID, 2, 2)
			switch code(err) {
			case "":
				held.Add(1)
			case "tickets_unavailable", "sold_out":
				late.Add(1)
			default:
				t.Errorf("fan %d: %v", fan, err)
			}
		})
	}
	wg.Wait()
	if held.Load() != 2 || late.Load() != 38 {
		t.Errorf("40 fans for 2 places each of 5: %d held, %d told it is too late; want 2 and 38", held.Load(), late.Load())
	}
	if n := dbtest.Int(t, f.pool, `SELECT count(*) FROM tickets WHERE section_id = 2 AND status = 'reserved'`); n != 4 {
		t.Errorf("%d places held, want 4", n)
	}
	if _, err := f.svc.HoldStanding(ctx, f.fans[0], f.eventID, 2, 2); !strings.Contains(fmt.Sprint(err), "Only 1 place is left") {
		t.Errorf("asking for 2 of the last 1: %v", err)
	}
	if _, err := f.svc.HoldStanding(ctx, f.fans[0], f.eventID, 1, 1); code(err) != "invalid" {
		t.Errorf("a seated section by quantity: %v", err)
	}
	checkInvariant(t, f.pool)
}
