package templates

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/organiser"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/app/venue"
)

// UsersPage is the admins' list of organisers and admins, with the form
// that gives an account a role.
type UsersPage struct {
	Staff         []account.User
	Problem, Done string
}

// ManageHomePage is /manage: the organiser's venues.
type ManageHomePage struct {
	Venues []venue.Summary
	Events []organiser.Summary
	Admin  bool
}

// EventFormPage creates (ID 0) or edits an event; Problem is what to fix
// in Field after a refused save.
type EventFormPage struct {
	ID             int64
	Status         string
	Event          organiser.Event
	Venues         []venue.Summary
	Map            *venue.SeatMap // the chosen venue's
	Problem, Field string
}

// ManagedEventPage is an event's management page.
type ManagedEventPage struct {
	ID       int64
	Status   string
	Event    organiser.Event
	Sales    *organiser.Sales
	Bookings []organiser.BookingRow
	Staff    []string // door staff, by email
	Query    string   // the bookings search
	Log      []audit.Entry
}

// refundable tells whether a booking can still give money back.
func refundable(b organiser.BookingRow) bool { return b.Status == "confirmed" && b.Refunded < b.Total }

// sectionPrice is what the form shows for a section: its price in major
// units and its zone.
func sectionPrice(e organiser.Event, m *venue.SeatMap, section string) (price, zone string) {
	for _, p := range e.Prices {
		for _, s := range p.Sections {
			if s == section {
				exp := Exponent(formCurrency(e, m))
				return strconv.FormatFloat(float64(p.Price)/math.Pow10(exp), 'f', exp, 64), p.Zone
			}
		}
	}
	return "", ""
}

// formCurrency is the event's currency, or its venue's country's.
func formCurrency(e organiser.Event, m *venue.SeatMap) string {
	if e.Currency == "" && m != nil {
		return organiser.DefaultCurrency(m.Venue.Country)
	}
	return e.Currency
}

// performerRows is the bill plus empty rows to add to it.
func performerRows(e organiser.Event) []organiser.Performer {
	rows := append([]organiser.Performer{}, e.Performers...)
	for len(rows) < len(e.Performers)+2 || len(rows) < 3 {
		rows = append(rows, organiser.Performer{Kind: "artist", Role: ternary(len(rows) == 0, "headliner", "support")})
	}
	return rows
}

func eventStatusLabel(status string) string {
	switch status {
	case organiser.Draft:
		return "Draft: fans cannot see it"
	case organiser.OnSale:
		return "On sale"
	case organiser.Cancelled:
		return "Cancelled"
	}
	return status
}

func zoneSummary(e organiser.Event) string {
	var parts []string
	for _, p := range e.Prices {
		name := p.Zone
		if name == "" {
			name = strings.Join(p.Sections, ", ")
		} else {
			name += " (" + strings.Join(p.Sections, ", ") + ")"
		}
		parts = append(parts, name+": "+Money(p.Price, e.Currency))
	}
	return strings.Join(parts, " · ")
}

// BuilderPage is /manage/venues/new: the builder's design and its map as
// drawn, or the problems that stop it; Refused says a save or import was
// refused (nothing was saved), Import that the problems are the imported
// file's.
type BuilderPage struct {
	Design   venue.Design
	Map      *venue.SeatMap
	Problems []string
	Refused  bool
	Import   bool
	Pasted   string
}

// ftoa shows a number of the builder's form: empty for 0.
func ftoa(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func shapeLabel(kind string) string {
	switch kind {
	case venue.ShapeBlock:
		return "Block of rows"
	case venue.ShapeCurve:
		return "Curved block"
	case venue.ShapeBowl:
		return "Bowl of sections"
	case venue.ShapeStanding:
		return "Standing area"
	}
	return kind
}

// shows is which of a shape's fields its kind uses.
func shows(kind string) map[string]bool {
	switch kind {
	case venue.ShapeStanding:
		return map[string]bool{"w": true, "h": true, "capacity": true}
	case venue.ShapeBowl:
		return map[string]bool{"rows": true, "seats": true, "pitch": true, "first": true, "count": true, "rx": true, "ry": true}
	case venue.ShapeCurve:
		return map[string]bool{"rows": true, "seats": true, "pitch": true, "first": true, "curve": true}
	}
	return map[string]bool{"rows": true, "seats": true, "pitch": true, "first": true}
}

// shapeField is one number field of a shape: shown when its kind has it,
// hidden (and kept) otherwise, so that every list lines up.
type shapeField struct {
	Key, Label, Value, Placeholder string
	Shown                          bool
}

// placeholders say what an empty field means.
var placeholders = map[string]string{"pitch": "10", "first": "A"}

func shapeFields(s venue.Shape) []shapeField {
	show := shows(s.Kind)
	f := func(key, label, value string) shapeField {
		return shapeField{Key: key, Label: label, Value: value, Placeholder: placeholders[key], Shown: show[key]}
	}
	return []shapeField{
		f("rows", "Rows", itoa(s.Rows)), f("seats", "Seats per row", itoa(s.Seats)), f("pitch", "Seat pitch", ftoa(s.Pitch)),
		f("first", "First row", s.FirstRow), f("curve", "Curve", ftoa(s.Curve)), f("count", "Sections", itoa(s.Count)),
		f("rx", "Radius across", ftoa(s.RX)), f("ry", "Radius down", ftoa(s.RY)),
		f("w", "Width", ftoa(s.W)), f("h", "Height", ftoa(s.H)), f("capacity", "Capacity", itoa(s.Capacity)),
	}
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

// seatRadius fits the dots to the seats' spacing: a third of the
// distance between the first two seats of a row (10 units if no row has
// two).
func seatRadius(m *venue.SeatMap) string {
	pitch := 10.0
	for _, s := range m.Sections {
		for _, r := range s.Rows {
			if len(r.Seats) > 1 {
				a, b := r.Seats[0], r.Seats[1]
				if d := math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y)); d > 0 {
					pitch = min(pitch, d)
				}
			}
		}
	}
	return num(pitch / 3)
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

func first(a, _ string) string  { return a }
func second(_, b string) string { return b }

// Location is a time zone by name, UTC if unknown.
func Location(name string) *time.Location { return loadLocation(name) }

// loadLocation is a time zone by name, UTC if unknown.
func loadLocation(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// chart is the sales-over-time chart, laid out for an SVG of chartW ×
// chartH: a bar per period, and a line of the running total on its own
// scale.
type chart struct {
	Bars     []chartBar
	Line     string // SVG points of the running total
	Max, Sum int
	From, To string
}

type chartBar struct {
	X, Y, W, H string
	Title      string
}

const chartW, chartH = 600.0, 160.0

func salesChart(s *organiser.Sales, loc *time.Location) chart {
	var c chart
	if len(s.Over) == 0 {
		return c
	}
	for _, p := range s.Over {
		c.Max = max(c.Max, p.Sold)
		c.Sum += p.Sold
	}
	w := chartW / float64(len(s.Over))
	layout := "2 Jan 15:04"
	if s.Step >= 24*time.Hour {
		layout = "2 Jan"
	}
	var line []string
	run := 0
	for i, p := range s.Over {
		h := 0.0
		if c.Max > 0 {
			h = float64(p.Sold) / float64(c.Max) * (chartH - 10)
		}
		c.Bars = append(c.Bars, chartBar{X: num(float64(i)*w + w*0.1), Y: num(chartH - h), W: num(w * 0.8), H: num(h),
			Title: p.At.In(loc).Format(layout) + ": " + thousands(p.Sold) + " sold"})
		run += p.Sold
		y := chartH
		if c.Sum > 0 {
			y = chartH - float64(run)/float64(c.Sum)*(chartH-10)
		}
		line = append(line, num(float64(i)*w+w/2)+","+num(y))
	}
	c.Line = strings.Join(line, " ")
	c.From, c.To = s.Over[0].At.In(loc).Format(layout), s.Over[len(s.Over)-1].At.In(loc).Format(layout)
	return c
}

func percent(part, whole int) string {
	if whole == 0 {
		return "0%"
	}
	return strconv.Itoa(int(math.Round(float64(part)*100/float64(whole)))) + "%"
}

// localWhen shows an event's start, kept as a local time in its zone.
func localWhen(e organiser.Event) string {
	loc := loadLocation(e.Timezone)
	t, err := time.ParseInLocation("2006-01-02T15:04", e.StartsAt, loc)
	if err != nil {
		return e.StartsAt
	}
	return longDateTime(t, loc)
}

func maxY(o venue.Outline) float64 {
	y := 0.0
	for _, p := range o {
		y = max(y, p[1])
	}
	return y
}

// placeLine is a venue's address, city and country, skipping what is empty.
func placeLine(v venue.Place) string {
	var parts []string
	for _, p := range []string{v.Address, v.City, v.Region, v.Country} {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// DoorPage is an event's door: the scanner, the last answer, and how many
// are in.
type DoorPage struct {
	Event  *event.Event
	Gate   string
	Result *DoorResult
	Counts []ticket.Counts
}

// DoorResult is the answer to the last scan: green with the ticket, or
// red with why not.
type DoorResult struct {
	OK       bool
	Admitted *ticket.Admitted
	Reason   string
	Message  string
}

func admittedPlace(a *ticket.Admitted) string {
	if a.Seat == 0 {
		return SectionName(a.Section) + ", standing"
	}
	return fmt.Sprintf("%s, row %s, seat %d", SectionName(a.Section), a.Row, a.Seat)
}

func totalCounts(cs []ticket.Counts) (sold, in int) {
	for _, c := range cs {
		sold += c.Sold
		in += c.CheckedIn
	}
	return sold, in
}
