package templates

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/venue"
)

// ManageHomePage is /manage: the organiser's venues.
type ManageHomePage struct {
	Venues []venue.Summary
	Admin  bool
}

// VenueNewPage is the page that adds a venue, with the problems of a
// file that was refused.
type VenueNewPage struct {
	Problems []string
	Pasted   string
}

// ManageVenuePage is a venue's management page.
type ManageVenuePage struct {
	ID  int64
	Map *venue.SeatMap
	Log []audit.Entry
}

func outlinePoints(o venue.Outline) []event.Point {
	pts := make([]event.Point, len(o))
	for i, p := range o {
		pts[i] = event.Point{X: p[0], Y: p[1]}
	}
	return pts
}

// planSeatLimit is the most seats a preview draws one by one; bigger maps
// show their sections only, as the fans' overview does.
const planSeatLimit = 20_000

func showSeats(m *venue.SeatMap) bool { return m.Seats() <= planSeatLimit }

// seatRadius fits the dots to the map's scale.
func seatRadius(m *venue.SeatMap) string {
	return num(math.Max(2, math.Min(float64(m.Width), float64(m.Height))/160))
}

func mapLabelSize(m *venue.SeatMap) string { return num(math.Max(12, float64(m.Width)/64)) }

func sectionSummary(s venue.Section) string {
	if s.Kind == venue.Standing {
		return "standing, " + thousands(s.Capacity) + " places"
	}
	seats := 0
	for _, r := range s.Rows {
		seats += len(r.Seats)
	}
	return thousands(len(s.Rows)) + " rows, " + thousands(seats) + " seats"
}

func seatClass(st venue.Seat) string {
	var c []string
	if st.Accessible {
		c = append(c, "accessible")
	}
	if st.RestrictedView {
		c = append(c, "restricted")
	}
	return strings.Join(append([]string{"plan-seat"}, c...), " ")
}

// change is an audit entry's before → after, compact.
func change(e audit.Entry) string {
	enc := func(v any) string {
		if v == nil {
			return "—"
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	if e.Before == nil {
		return enc(e.After)
	}
	return enc(e.Before) + " → " + enc(e.After)
}

func ternary(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
