package booking

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/boxoffice/boxoffice/app"
)

// Best available: a fan asks for N seats side by side instead of ticking
// them. The seats are chosen from what the live model shows, then held by
// the same transaction as ticked seats, which locks and checks every row:
// two fans asking at once can be offered the same block, but only one
// holds it, and the other is offered the next best.

// Place is a seat of an event as best available sees it.
type Place struct {
	TicketID, SectionID int64
	Row                 string
	Number              int
	X, Y                float64
	Price               int64
	Free                bool
}

// Inventory reads an event's seats (of one section, or all when section is
// 0) and the point fans look towards (the stage's centre), for best
// available. Package event's live model provides it.
type Inventory interface {
	Places(ctx context.Context, eventID, section int64) (places []Place, front [2]float64, err error)
}

// Together asks for Quantity seats side by side in one row of EventID, in
// SectionID when it is not 0, none dearer than MaxPrice when it is not 0
// (minor units).
type Together struct {
	EventID, SectionID int64
	Quantity           int
	MaxPrice           int64
}

// togetherTries is how many blocks a request tries when other processes
// take them first (within one process, requests never pick the same).
const togetherTries = 5

// HoldTogether holds the best Quantity seats side by side that are free:
// nearest the stage (the section's front), then nearest the middle of the
// row, never leaving a single seat stranded beside them when another block
// avoids it. 409 no_seats_together when no row has such a block.
func (s *Service) HoldTogether(ctx context.Context, userID int64, req Together) (*Booking, error) {
	switch {
	case req.EventID <= 0:
		return nil, app.Errorf(app.EINVALID, "Say which event: event_id must be an event's id.")
	case req.Quantity < 1 || req.Quantity > s.cfg.MaxTickets:
		return nil, app.Errorf(app.EINVALID, "quantity must be from 1 to %d, not %d.", s.cfg.MaxTickets, req.Quantity)
	case req.SectionID < 0 || req.MaxPrice < 0:
		return nil, app.Errorf(app.EINVALID, "section_id and max_price cannot be negative.")
	}
	if req.SectionID > 0 { // a standing area sells places, not seats
		var standing bool
		if err := s.pool.QueryRow(ctx, `SELECT kind = 'standing' FROM sections WHERE id = $1`, req.SectionID).Scan(&standing); err == nil && standing {
			return s.HoldStanding(ctx, userID, req.EventID, req.SectionID, req.Quantity)
		}
	}
	if s.cfg.Inventory == nil {
		return nil, app.Errorf(app.EUNAVAILABLE, "Best available is not offered here: tick the seats you want.")
	}
	taken := map[int64]bool{} // seats this request lost to others
	var raced []int64         // the seats the last try lost
	for range togetherTries {
		places, front, err := s.cfg.Inventory.Places(ctx, req.EventID, req.SectionID)
		if err != nil {
			return nil, err
		}
		block := s.claimTogether(places, front, taken, req)
		if block == nil {
			raced = nil // none left to race for
			break
		}
		b, err := s.hold(ctx, userID, block)
		s.unclaim(block) // held seats now show as held: the hold waited for the model
		unavailable, lost := errors.AsType[*UnavailableError](err)
		if !lost {
			return b, err
		}
		for _, id := range unavailable.TicketIDs {
			taken[id] = true
		}
		raced = unavailable.TicketIDs
	}
	if raced != nil { // every try lost a race: seats may well be left
		return nil, &app.Error{Code: app.ECONFLICT, Reason: "tickets_unavailable", Detail: map[string]any{"ticket_ids": raced},
			Message: "Others took the seats we found for you, " + itoa(togetherTries) + " times running. Seats are going fast: try again."}
	}
	return nil, &app.Error{Code: app.ECONFLICT, Reason: "no_seats_together", Message: noneTogether(req)}
}

// claimTogether picks the best block among places that are neither taken
// nor claimed by another request of this process, and claims it, so that
// fans asking at once are offered different seats. It returns the
// block's ticket ids, sorted, or nil.
func (s *Service) claimTogether(places []Place, front [2]float64, taken map[int64]bool, req Together) []int64 {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	for i := range places {
		if taken[places[i].TicketID] || s.claimed[places[i].TicketID] {
			places[i].Free = false
		}
	}
	block := BestTogether(places, req.Quantity, req.MaxPrice, front)
	if block == nil {
		return nil
	}
	ids := sortedIDs(block)
	for _, id := range ids {
		s.claimed[id] = true
	}
	return ids
}

func (s *Service) unclaim(ids []int64) {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	for _, id := range ids {
		delete(s.claimed, id)
	}
}

func noneTogether(req Together) string {
	where := "at this event"
	if req.SectionID != 0 {
		where = "in this section"
	}
	msg := "There are no " + itoa(req.Quantity) + " seats together " + where
	if req.MaxPrice != 0 {
		msg += " at that price or less"
	}
	return msg + " right now. Try fewer seats, another section or a higher price, or pick seats on the map."
}

func itoa(n int) string { return strconv.Itoa(n) }

func sortedIDs(block []Place) []int64 {
	ids := make([]int64, len(block))
	for i, p := range block {
		ids[i] = p.TicketID
	}
	slices.Sort(ids)
	return ids
}

// BestTogether picks n free seats with consecutive numbers in one row of
// one section, all at most maxPrice (0: any price), ranked by the row's
// distance from front, then by how far the block's middle is from the
// row's. A block that would leave exactly one free seat between it and a
// taken seat or the row's end loses to any block that does not. It
// returns nil when no row has n such seats.
func BestTogether(places []Place, n int, maxPrice int64, front [2]float64) []Place {
	type rowKey struct {
		section int64
		row     string
	}
	rows := map[rowKey][]Place{}
	for _, p := range places {
		k := rowKey{p.SectionID, p.Row}
		rows[k] = append(rows[k], p)
	}
	type candidate struct {
		seats    []Place
		strands  bool
		distance float64 // the row's, from front
		offset   float64 // the block's middle from the row's, in seats
		first    int64   // ties: the lowest ticket
	}
	var best *candidate
	better := func(a, b *candidate) bool {
		if b == nil {
			return true
		}
		return cmp.Or(
			compareBool(a.strands, b.strands),
			cmp.Compare(math.Round(a.distance*10), math.Round(b.distance*10)),
			cmp.Compare(a.offset, b.offset),
			cmp.Compare(a.first, b.first),
		) < 0
	}
	for _, row := range rows {
		slices.SortFunc(row, func(a, b Place) int { return cmp.Compare(a.Number, b.Number) })
		distance := rowDistance(row, front)
		middle := float64(row[0].Number+row[len(row)-1].Number) / 2
		usable := func(p Place) bool { return maxPrice == 0 || p.Price <= maxPrice }
		// Runs of free seats with consecutive numbers; a block lies in
		// one, and strands a seat when it leaves one free seat at either
		// end of its run.
		for start := 0; start < len(row); {
			if !row[start].Free {
				start++
				continue
			}
			end := start + 1
			for end < len(row) && row[end].Free && row[end].Number == row[end-1].Number+1 {
				end++
			}
		blocks:
			for i := start; i+n <= end; i++ {
				for _, p := range row[i : i+n] {
					if !usable(p) {
						continue blocks
					}
				}
				c := &candidate{
					seats:    row[i : i+n],
					strands:  i-start == 1 || end-(i+n) == 1,
					distance: distance,
					offset:   math.Abs(float64(row[i].Number+row[i+n-1].Number)/2 - middle),
					first:    row[i].TicketID,
				}
				if better(c, best) {
					best = c
				}
			}
			start = end
		}
	}
	if best == nil {
		return nil
	}
	return slices.Clone(best.seats)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// rowDistance is how far a row's middle is from front.
func rowDistance(row []Place, front [2]float64) float64 {
	var x, y float64
	for _, p := range row {
		x += p.X
		y += p.Y
	}
	n := float64(len(row))
	return math.Hypot(x/n-front[0], y/n-front[1])
}
