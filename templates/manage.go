package templates

import (
	"context"
	"encoding/json"
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

// labelOf is the message table.value ("manage.booking_status.confirmed"),
// or value itself where the catalogs have none (a status added later).
func labelOf(ctx context.Context, table, value string) string {
	return trOr(ctx, table+"."+value, value)
}

func eventStatusLabel(ctx context.Context, status string) string {
	return labelOf(ctx, "manage.event_status", status)
}

// bookingStatus names a booking's status: "Confirmed".
func bookingStatus(ctx context.Context, status string) string {
	return labelOf(ctx, "manage.booking_status", status)
}

// billKind and billRole name the bill's choices in the event form:
// "band", "headliner".
func billKind(ctx context.Context, kind string) string {
	return labelOf(ctx, "manage.performer_kinds", kind)
}

func billRole(ctx context.Context, role string) string {
	return labelOf(ctx, "manage.performer_roles", role)
}

// RoleName names an account's role as a sentence says it: "organiser".
func RoleName(ctx context.Context, role string) string { return labelOf(ctx, "manage.role_name", role) }

// eventFormTitle is "Create an event", or "Edit" and the event's name.
func eventFormTitle(ctx context.Context, p EventFormPage) string {
	if p.ID == 0 {
		return tr(ctx, "manage.create_event")
	}
	return tr(ctx, "manage.edit_event", "Name", p.Event.Name)
}

func zoneSummary(ctx context.Context, e organiser.Event) string {
	var parts []string
	for _, p := range e.Prices {
		name := p.Zone
		if name == "" {
			name = strings.Join(p.Sections, tr(ctx, "manage.list_separator"))
		} else {
			name = tr(ctx, "manage.zone_sections", "Zone", name, "Sections", strings.Join(p.Sections, tr(ctx, "manage.list_separator")))
		}
		parts = append(parts, tr(ctx, "manage.zone_price", "Zone", name, "Price", money(ctx, p.Price, e.Currency)))
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

func shapeLabel(ctx context.Context, kind string) string {
	return labelOf(ctx, "builder.shape", kind)
}

// problemsHeading says what the builder's problems stopped: "Nothing was
// saved: 2 problems in the file."
func problemsHeading(ctx context.Context, p BuilderPage) string {
	id := "builder.fix_problems"
	if p.Refused {
		id = "builder.refused_problems"
	}
	if p.Import {
		id += "_file"
	}
	return trn(ctx, id, len(p.Problems))
}

// mapSummary counts a drawn map's seats, standing places and sections.
func mapSummary(ctx context.Context, m *venue.SeatMap) string {
	return tr(ctx, "builder.map_summary",
		"Seats", trn(ctx, "builder.seats", m.Seats()),
		"Standing", trn(ctx, "builder.standing_places", m.Capacity()-m.Seats()),
		"Sections", trn(ctx, "builder.sections", len(m.Sections)))
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

func shapeFields(ctx context.Context, s venue.Shape) []shapeField {
	show := shows(s.Kind)
	f := func(key, value string) shapeField {
		return shapeField{Key: key, Label: tr(ctx, "builder.field."+key), Value: value, Placeholder: placeholders[key], Shown: show[key]}
	}
	return []shapeField{
		f("rows", itoa(s.Rows)), f("seats", itoa(s.Seats)), f("pitch", ftoa(s.Pitch)),
		f("first", s.FirstRow), f("curve", ftoa(s.Curve)), f("count", itoa(s.Count)),
		f("rx", ftoa(s.RX)), f("ry", ftoa(s.RY)),
		f("w", ftoa(s.W)), f("h", ftoa(s.H)), f("capacity", itoa(s.Capacity)),
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

func sectionSummary(ctx context.Context, s venue.Section) string {
	if s.Kind == venue.Standing {
		return trn(ctx, "manage.layout_standing", s.Capacity)
	}
	seats := 0
	for _, r := range s.Rows {
		seats += len(r.Seats)
	}
	return tr(ctx, "manage.layout_seated", "Rows", trn(ctx, "manage.rows", len(s.Rows)), "Seats", trn(ctx, "manage.seats", seats))
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

func salesChart(ctx context.Context, s *organiser.Sales, loc *time.Location) chart {
	var c chart
	if len(s.Over) == 0 {
		return c
	}
	for _, p := range s.Over {
		c.Max = max(c.Max, p.Sold)
		c.Sum += p.Sold
	}
	w := chartW / float64(len(s.Over))
	when := func(t time.Time) string {
		t = t.In(loc)
		if s.Step >= 24*time.Hour {
			return tr(ctx, "manage.chart_day", "Day", t.Day(), "Month", lang(ctx).Month(t))
		}
		return tr(ctx, "manage.chart_hour", "Day", t.Day(), "Month", lang(ctx).Month(t), "Time", t.Format("15:04"))
	}
	var line []string
	run := 0
	for i, p := range s.Over {
		h := 0.0
		if c.Max > 0 {
			h = float64(p.Sold) / float64(c.Max) * (chartH - 10)
		}
		c.Bars = append(c.Bars, chartBar{X: num(float64(i)*w + w*0.1), Y: num(chartH - h), W: num(w * 0.8), H: num(h),
			Title: tr(ctx, "manage.chart_bar", "At", when(p.At), "Sold", number(ctx, p.Sold))})
		run += p.Sold
		y := chartH
		if c.Sum > 0 {
			y = chartH - float64(run)/float64(c.Sum)*(chartH-10)
		}
		line = append(line, num(float64(i)*w+w/2)+","+num(y))
	}
	c.Line = strings.Join(line, " ")
	c.From, c.To = when(s.Over[0].At), when(s.Over[len(s.Over)-1].At)
	return c
}

func percent(ctx context.Context, part, whole int) string {
	n := 0
	if whole != 0 {
		n = int(math.Round(float64(part) * 100 / float64(whole)))
	}
	return tr(ctx, "manage.percent", "N", number(ctx, n))
}

// localWhen shows an event's start, kept as a local time in its zone.
func localWhen(ctx context.Context, e organiser.Event) string {
	loc := loadLocation(e.Timezone)
	t, err := time.ParseInLocation("2006-01-02T15:04", e.StartsAt, loc)
	if err != nil {
		return e.StartsAt
	}
	return dateTime(ctx, t, loc)
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

func admittedPlace(ctx context.Context, a *ticket.Admitted) string {
	section := a.Section
	if section != "" && strings.Trim(section, "0123456789") == "" {
		section = tr(ctx, "door.section_number", "Number", section) // "101": "Section 101"
	}
	if a.Seat == 0 {
		return tr(ctx, "door.place_standing", "Section", section)
	}
	return tr(ctx, "door.place_seat", "Section", section, "Row", a.Row, "Seat", a.Seat)
}

func totalCounts(cs []ticket.Counts) (sold, in int) {
	for _, c := range cs {
		sold += c.Sold
		in += c.CheckedIn
	}
	return sold, in
}
