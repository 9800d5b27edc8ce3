package templates

import (
	"context"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/queue"
)

// EventPage is what the event page and a section page show.
type EventPage struct {
	Event        *event.Event
	Availability *event.Availability
	// Seats is set when the page shows seats (a small venue, or a section
	// of a large one); otherwise the page shows the section overview.
	Seats []event.Seat
	// Section is the section a section page zooms into, or nil.
	Section *event.Section
	// Message is shown above the map, e.g. when seats were taken.
	Message string
	// Selected ticket ids stay ticked when the map is shown again.
	Selected map[int64]bool
	// MaxTickets is the most seats one booking takes (best available
	// offers up to it).
	MaxTickets int
	// Room is the event's on-sale and waiting room as this fan sees them;
	// nil when the event is on sale to all.
	Room *Room
	// Lang is the language the page speaks (the request's, which the
	// templates read from ctx), for the words written around it outside
	// a template: the names of seats in Message. Nil is English.
	Lang *locale.Lang
}

// Room is an event's on-sale time and waiting room, for one fan.
type Room struct {
	OnSaleAt *time.Time // nil: on sale now
	Queue    string     // off, always or auto
	OpensAt  *time.Time // when fans may join, before the on-sale
	Place    *queue.Place
	Now      time.Time
}

// BeforeSale reports whether tickets are not on sale yet.
func (r *Room) BeforeSale() bool { return r.OnSaleAt != nil && r.Now.Before(*r.OnSaleAt) }

// CanJoin reports whether the fan may join the room now.
func (r *Room) CanJoin() bool {
	return r.Queue != "off" && (r.OpensAt == nil || !r.Now.Before(*r.OpensAt)) &&
		(r.Place == nil || r.Place.State == queue.StateExpired)
}

// Admitted reports whether the fan may choose seats now.
func (r *Room) Admitted() bool { return r.Place != nil && r.Place.State == queue.StateAdmitted }

// priceLevels lists the event's distinct prices, lowest first, for "up
// to" choices.
func priceLevels(a *event.Availability) []int64 {
	var out []int64
	for _, s := range a.Sections {
		for _, p := range []int64{s.MinPrice, s.MaxPrice} {
			if p > 0 && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// quantities is 1 to n.
func quantities(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// mapView is a seat-level map: a window onto the venue's canvas.
type mapView struct {
	MinX, MinY, Width, Height float64
	SeatSize                  string // percent of the map's width
	MinWidthPx                int    // below this the map scrolls sideways inside its box
	Sections                  []event.Section
	Stage                     []event.Point
	StageLabel                string
	Labels                    []mapLabel // section names and row letters
	LabelSize                 float64    // in map units: a row's letter is a seat high
}

// mapLabel is a text drawn on the map.
type mapLabel struct {
	Class, Text string
	X, Y        float64
}

// seatPx is the smallest size, in CSS pixels, a seat may be drawn at on a
// phone and still be tapped.
const seatPx = 11

func buildMap(ctx context.Context, p EventPage) mapView {
	e := p.Event
	m := mapView{Width: float64(e.Venue.MapWidth), Height: float64(e.Venue.MapHeight), Stage: e.Venue.Stage, StageLabel: stageLabel(ctx, e)}
	m.Sections = e.Sections
	if p.Section != nil {
		// Zoom to the section's outline, padded.
		minX, minY, maxX, maxY := bounds(p.Section.Outline)
		pad := math.Max(maxX-minX, maxY-minY) * 0.06
		m.MinX, m.MinY, m.Width, m.Height = minX-pad, minY-pad, maxX-minX+2*pad, maxY-minY+2*pad
		m.Sections = []event.Section{*p.Section}
		m.Stage = nil
	}
	pitch := seatPitch(p.Seats)
	if pitch == 0 {
		pitch = m.Width / 40
	}
	size := pitch * 0.8 / m.Width * 100
	m.SeatSize = pct(size)
	m.MinWidthPx = int(math.Ceil(seatPx / (size / 100)))
	m.LabelSize = pitch * 0.8
	m.Labels = mapLabels(lang(ctx), p.Seats, m.Sections, pitch, p.Section == nil)
	return m
}

// mapLabels names each row to the left of its leftmost seat and, on a
// whole venue's map (named sections: the page's heading names a section
// shown alone), each section below its outline, away from the stage, so
// that a fan can say where a seat is.
func mapLabels(l *locale.Lang, seats []event.Seat, sections []event.Section, pitch float64, named bool) []mapLabel {
	var out []mapLabel
	shown := make(map[int64]bool, len(sections))
	for _, sec := range sections {
		shown[sec.ID] = true
		if named {
			minX, _, maxX, maxY := bounds(sec.Outline)
			out = append(out, mapLabel{"sec-name", SectionNameIn(l, sec.Name), (minX + maxX) / 2, maxY + pitch*0.3})
		}
	}
	type row struct {
		section int64
		name    string
	}
	first := map[row]int{} // the row's label in out, at its leftmost seat
	for _, s := range seats {
		if !shown[s.SectionID] {
			continue
		}
		r := row{s.SectionID, s.Row}
		if i, ok := first[r]; !ok {
			first[r] = len(out)
			out = append(out, mapLabel{"row-name", s.Row, s.X - pitch*0.9, s.Y})
		} else if s.X-pitch*0.9 < out[i].X {
			out[i].X, out[i].Y = s.X-pitch*0.9, s.Y
		}
	}
	return out
}

// seatsHTML writes the seats of a map: a checkbox for each available seat,
// a mark for the others. It is the bulk of a seat map page (thousands of
// seats), so it is written directly rather than through templ's
// per-attribute machinery; every text it writes is escaped. The seats'
// names come from the catalogs once per map (seatLabels), not per seat.
func seatsHTML(ctx context.Context, p EventPage, m mapView) string {
	l := lang(ctx)
	names := make(map[int64]string, len(p.Event.Sections))
	for _, s := range p.Event.Sections {
		names[s.ID] = html.EscapeString(SectionNameIn(l, s.Name))
	}
	labels := newSeatLabels(l)
	prices := map[int64]string{} // a map has a handful of prices
	zones := zonesOf(p)
	var b []byte
	b = make([]byte, 0, len(p.Seats)*180)
	for _, s := range p.Seats {
		// Every seat carries its ticket, price, zone and name (data-t,
		// data-p, data-z, aria-label), so that the live map can turn one
		// into the other.
		z := zoneOf(zones, s.Price)
		if s.Status == event.StatusAvailable {
			b = append(b, `<input type="checkbox" name="ticket_ids" class="z`...)
			b = strconv.AppendInt(b, int64(z), 10)
			b = append(b, `" data-z="`...)
			b = strconv.AppendInt(b, int64(z), 10)
			b = append(b, `" value="`...)
		} else {
			b = append(b, `<i class="s-`...)
			b = append(b, html.EscapeString(s.Status)...)
			b = append(b, `" data-z="`...)
			b = strconv.AppendInt(b, int64(z), 10)
			b = append(b, `" role="img" data-t="`...)
		}
		b = strconv.AppendInt(b, s.TicketID, 10)
		b = append(b, `" aria-label="`...)
		price, ok := prices[s.Price]
		if !ok {
			price = html.EscapeString(l.Money(s.Price, p.Event.Currency))
			prices[s.Price] = price
		}
		b = labels.of(s.Status).append(b, names[s.SectionID], s.Row, s.Number, price)
		b = append(b, `" data-p="`...)
		b = strconv.AppendInt(b, s.Price, 10)
		b = append(b, '"')
		if s.Status == event.StatusAvailable && p.Selected[s.TicketID] {
			b = append(b, " checked"...)
		}
		b = append(b, ` style="left:`...)
		b = strconv.AppendFloat(b, (s.X-m.MinX)/m.Width*100, 'f', 2, 64)
		b = append(b, "%;top:"...)
		b = strconv.AppendFloat(b, (s.Y-m.MinY)/m.Height*100, 'f', 2, 64)
		if s.Status == event.StatusAvailable {
			b = append(b, `%">`...)
		} else {
			b = append(b, `%"></i>`...)
		}
	}
	return string(b)
}

// seatLabels are the names a screen reader says for the seats of a map, in
// one language, by the seat's status: "Stalls, row C, seat 12, £45.00",
// and for a seat that cannot be ticked the same with ", on hold" or
// ", sold" (seatmap.js reads them back with the same messages).
type seatLabels struct {
	available, reserved, sold labelPattern
}

// A labelPattern is a message with its fields left open, to be filled for
// each seat by appending: escaped text, and fields by their letter.
type labelPattern []labelPart

type labelPart struct {
	text  string // HTML-escaped
	field byte   // 0: text; 'S' section, 'R' row, 'N' seat number, 'P' price
}

// fieldMark brackets a field's letter in a message filled to make a
// pattern; no catalog text holds it.
const fieldMark = "\x1f"

func newSeatLabels(l *locale.Lang) seatLabels {
	f := func(letter string) string { return fieldMark + letter + fieldMark }
	name := l.T("seatmap.seat", "Section", f("S"), "Row", f("R"), "Number", f("N"))
	priced := l.T("seatmap.seat_price", "Name", name, "Price", f("P"))
	return seatLabels{
		available: parseLabel(priced),
		reserved:  parseLabel(l.T("seatmap.js.on_hold", "Name", priced)),
		sold:      parseLabel(l.T("seatmap.js.sold", "Name", priced)),
	}
}

func (ls seatLabels) of(status string) labelPattern {
	switch status {
	case event.StatusAvailable:
		return ls.available
	case event.StatusSold:
		return ls.sold
	}
	return ls.reserved
}

// parseLabel splits a filled message at its field marks: text, a field,
// text, and so on.
func parseLabel(s string) labelPattern {
	var out labelPattern
	for i, part := range strings.Split(s, fieldMark) {
		switch {
		case i%2 == 0 && part != "":
			out = append(out, labelPart{text: html.EscapeString(part)})
		case i%2 == 1 && len(part) == 1:
			out = append(out, labelPart{field: part[0]})
		}
	}
	return out
}

// append writes a seat's label; section and price come escaped.
func (lp labelPattern) append(b []byte, section, row string, number int, price string) []byte {
	for _, p := range lp {
		switch p.field {
		case 0:
			b = append(b, p.text...)
		case 'S':
			b = append(b, section...)
		case 'R':
			b = append(b, html.EscapeString(row)...)
		case 'N':
			b = strconv.AppendInt(b, int64(number), 10)
		case 'P':
			b = append(b, price...)
		}
	}
	return b
}

// streamURL is where the live map follows the seats it shows.
func streamURL(p EventPage) string {
	u := "/api/v1/events/" + itoa(p.Event.ID) + "/stream"
	if p.Section != nil {
		u += "?section=" + itoa(p.Section.ID)
	}
	return u
}

// seatPitch is the distance between neighbouring seats of a row.
func seatPitch(seats []event.Seat) float64 {
	for i := 1; i < len(seats); i++ {
		a, b := seats[i-1], seats[i]
		if a.SectionID == b.SectionID && a.Row == b.Row {
			return math.Hypot(b.X-a.X, b.Y-a.Y)
		}
	}
	return 0
}

func bounds(pts []event.Point) (minX, minY, maxX, maxY float64) {
	minX, minY = math.Inf(1), math.Inf(1)
	maxX, maxY = math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	return
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// polygonPoints is an outline for an SVG points attribute.
func polygonPoints(pts []event.Point) string {
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(p.X))
		b.WriteByte(',')
		b.WriteString(num(p.Y))
	}
	return b.String()
}

func centroid(pts []event.Point) event.Point {
	var c event.Point
	for _, p := range pts {
		c.X += p.X
		c.Y += p.Y
	}
	if n := float64(len(pts)); n > 0 {
		c.X, c.Y = c.X/n, c.Y/n
	}
	return c
}

func viewBox(m mapView) string {
	return num(m.MinX) + " " + num(m.MinY) + " " + num(m.Width) + " " + num(m.Height)
}

// SectionName is how a section is called in a sentence, in English:
// numbered sections of a bowl read "Section 112", named ones
// ("Mezzanine") as they are. Pages use sectionName, in their language.
func SectionName(name string) string { return SectionNameIn(locale.Default().English(), name) }

// SectionNameIn is SectionName in language l: "Sección 112".
func SectionNameIn(l *locale.Lang, name string) string {
	for _, r := range name {
		if !unicode.IsDigit(r) {
			return name
		}
	}
	return l.T("seatmap.section_number", "Number", name)
}

func sectionName(ctx context.Context, name string) string { return SectionNameIn(lang(ctx), name) }

// SeatName is a seat as a fan reads it on the map, in language l:
// "Stalls, row C, seat 12" (section is the section's name as stored).
func SeatName(l *locale.Lang, section, row string, number int) string {
	return l.T("seatmap.seat", "Section", SectionNameIn(l, section), "Row", row, "Number", number)
}

// sectionLabel is a section of the overview as a screen reader says it.
func sectionLabel(ctx context.Context, s event.Section, a event.SectionAvailability, currency string) string {
	if a.Available == 0 {
		return tr(ctx, "seatmap.section_sold_out", "Section", sectionName(ctx, s.Name))
	}
	return trn(ctx, "seatmap.section_left", a.Total, "Section", sectionName(ctx, s.Name), "Left", number(ctx, a.Available),
		"Prices", priceRange(ctx, a.MinPrice, a.MaxPrice, currency))
}

// priceRange is "£30.00" or "£30.00 – £45.00", the page's language's way.
func priceRange(ctx context.Context, lo, hi int64, currency string) string {
	if lo == hi {
		return money(ctx, lo, currency)
	}
	return tr(ctx, "seatmap.price_range", "Low", money(ctx, lo, currency), "High", money(ctx, hi, currency))
}

func sectionURL(eventID, sectionID int64) string {
	return fmt.Sprintf("/event/%d/sections/%d", eventID, sectionID)
}

// mapStyle sizes a seat map: as wide as its box, but no taller than most
// of the screen (a deep, narrow section would otherwise need a lot of
// scrolling), and never so small that seats cannot be tapped.
func mapStyle(m mapView) string {
	return fmt.Sprintf("aspect-ratio:%s/%s;--seat:%s;max-width:calc(75vh*%s*var(--zoom,1));min-width:calc(%dpx*var(--zoom,1))",
		num(m.Width), num(m.Height), m.SeatSize, strconv.FormatFloat(m.Width/m.Height, 'f', 3, 64), m.MinWidthPx)
}

// labelSize is the font size of section names on an overview, in map units,
// so that they read at the same size whatever the venue's scale.
func labelSize(v event.Venue) string { return num(math.Max(12, float64(v.MapWidth)/64)) }

func itoa[T int | int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// tickPrompt tells fans what to do on the map, with the limit they will
// meet: told before they tick, not after they continue.
func tickPrompt(ctx context.Context, max int) string {
	if max <= 0 {
		return tr(ctx, "seatmap.tick")
	}
	return trn(ctx, "seatmap.tick_up_to", max)
}

// stageLabel names what the seats face by what the event is: a stadium's
// pitch is a stage at a concert, and a hall's stage is the floor at a game.
func stageLabel(ctx context.Context, e *event.Event) string {
	label := e.Venue.StageLabel
	switch {
	case e.Type != event.TypeSports:
		return tr(ctx, "seatmap.stage.stage")
	case label == "" || strings.EqualFold(label, "stage"):
		return tr(ctx, "seatmap.stage.floor")
	}
	return stageName(ctx, label)
}

// stageWords are the names of a stage the catalogs translate; a venue
// may call its own anything, which then shows as it is.
var stageWords = []string{"stage", "floor", "court", "pitch", "rink", "field", "ice", "ring", "arena"}

// stageName is a venue's name for its stage in the page's language when
// it is a common one ("Pitch": "Campo"), else as the venue wrote it.
func stageName(ctx context.Context, label string) string {
	if w := strings.ToLower(strings.TrimSpace(label)); slices.Contains(stageWords, w) {
		return tr(ctx, "seatmap.stage."+w)
	}
	return label
}
