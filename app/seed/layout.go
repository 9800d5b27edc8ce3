package seed

import (
	"fmt"
	"math"

	"github.com/jackc/pgx/v5/pgtype"
)

// A layout is a venue's seating plan in map coordinates: sections with an
// outline, each holding seats in rows. Tier ranks a section for pricing and
// demand: 0 is the best (closest) seats.

type layout struct {
	width, height int
	stage         []pgtype.Vec2
	stageLabel    string
	sections      []*section
}

type section struct {
	name, level string
	tier        int
	outline     []pgtype.Vec2
	seats       []seat
}

type seat struct {
	row    string
	number int
	x, y   float64
}

func (l *layout) capacity() int {
	n := 0
	for _, s := range l.sections {
		n += len(s.seats)
	}
	return n
}

func (l *layout) add(s *section) { l.sections = append(l.sections, s) }

// rowLabel names rows A, B, … Z, AA, BB, … as theatres do.
func rowLabel(i int) string {
	letter := string(rune('A' + i%26))
	out := letter
	for range i / 26 {
		out += letter
	}
	return out
}

func numberLabel(i int) string { return fmt.Sprint(i + 1) }

// block is a grid of rows facing a stage above it (smaller y). Rows bend
// towards the stage by curve map units at their ends. firstRow offsets the
// row labels so that blocks behind one another continue the lettering.
func block(name, level string, tier int, x0, y0 float64, rows, perRow int, pitch, curve float64, firstRow int, label func(int) string) *section {
	s := &section{name: name, level: level, tier: tier}
	width := float64(perRow-1) * pitch
	cx := x0 + width/2
	bend := func(x float64) float64 {
		if width == 0 {
			return 0
		}
		d := (x - cx) / (width / 2)
		return -curve * d * d
	}
	for r := range rows {
		for n := range perRow {
			x := x0 + float64(n)*pitch
			s.seats = append(s.seats, seat{row: label(firstRow + r), number: n + 1, x: x, y: y0 + float64(r)*pitch + bend(x)})
		}
	}
	// Outline: the top edge and bottom edge following the curve, padded.
	pad := pitch * 0.8
	const steps = 8
	var top, bottom []pgtype.Vec2
	for i := 0; i <= steps; i++ {
		x := x0 + width*float64(i)/steps
		top = append(top, pgtype.Vec2{X: round1(x + padX(i, steps, pad)), Y: round1(y0 - pad + bend(x))})
		bottom = append(bottom, pgtype.Vec2{X: round1(x + padX(i, steps, pad)), Y: round1(y0 + float64(rows-1)*pitch + pad + bend(x))})
	}
	s.outline = append(top, reverse(bottom)...)
	return s
}

func padX(i, steps int, pad float64) float64 {
	switch i {
	case 0:
		return -pad
	case steps:
		return pad
	}
	return 0
}

// ring describes an elliptical bowl level around a centre: rows run along
// ellipses whose half-axes grow by pitch per row.
type ring struct {
	cx, cy     float64
	a, b       float64 // half-axes of the innermost row
	rows       int
	pitch      float64
	level      string
	tier       int
	firstAngle float64 // degrees, where section one starts (0 = east, 90 = south)
	span       float64 // degrees covered, 360 for a full bowl
	sections   int
	number     int // label of the first section: 101, 201, …
	rowLabel   func(int) string
}

// build cuts the ring into sections with an aisle between neighbours.
func (g ring) build() []*section {
	var out []*section
	step := g.span / float64(g.sections)
	aisle := g.pitch * 1.2 // map units left free between sections
	for k := range g.sections {
		s := &section{name: fmt.Sprint(g.number + k), level: g.level, tier: g.tier}
		a0 := rad(g.firstAngle + float64(k)*step)
		a1 := rad(g.firstAngle + float64(k+1)*step)
		for r := range g.rows {
			ra, rb := g.a+float64(r)*g.pitch, g.b+float64(r)*g.pitch
			pts := arcPoints(g.cx, g.cy, ra, rb, a0, a1, g.pitch, aisle)
			for i, p := range pts {
				s.seats = append(s.seats, seat{row: g.rowLabel(r), number: i + 1, x: p.X, y: p.Y})
			}
		}
		inner := arcOutline(g.cx, g.cy, g.a-g.pitch*0.7, g.b-g.pitch*0.7, a0, a1, aisle*0.4)
		outer := arcOutline(g.cx, g.cy, g.a+float64(g.rows-1)*g.pitch+g.pitch*0.7, g.b+float64(g.rows-1)*g.pitch+g.pitch*0.7, a0, a1, aisle*0.4)
		s.outline = append(inner, reverse(outer)...)
		out = append(out, s)
	}
	return out
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// arcPoints places seats pitch apart (by arc length) along the ellipse arc
// from angle a0 to a1, leaving gap map units free at each end for the aisle.
func arcPoints(cx, cy, a, b, a0, a1, pitch, gap float64) []pgtype.Vec2 {
	const samples = 64
	lengths := make([]float64, samples+1)
	prev := ellipse(cx, cy, a, b, a0)
	for i := 1; i <= samples; i++ {
		p := ellipse(cx, cy, a, b, a0+(a1-a0)*float64(i)/samples)
		lengths[i] = lengths[i-1] + math.Hypot(p.X-prev.X, p.Y-prev.Y)
		prev = p
	}
	total := lengths[samples]
	usable := total - 2*gap
	if usable < pitch {
		return nil
	}
	n := int(usable/pitch) + 1
	start := gap + (usable-float64(n-1)*pitch)/2
	pts := make([]pgtype.Vec2, 0, n)
	j := 1
	for i := range n {
		target := start + float64(i)*pitch
		for j < samples && lengths[j] < target {
			j++
		}
		f := (target - lengths[j-1]) / (lengths[j] - lengths[j-1])
		angle := a0 + (a1-a0)*(float64(j-1)+f)/samples
		p := ellipse(cx, cy, a, b, angle)
		pts = append(pts, pgtype.Vec2{X: round1(p.X), Y: round1(p.Y)})
	}
	return pts
}

// arcOutline samples the arc for a section outline, trimmed by gap.
func arcOutline(cx, cy, a, b, a0, a1, gap float64) []pgtype.Vec2 {
	// Trim the angles by roughly gap map units of arc.
	r := (a + b) / 2
	trim := gap / r
	a0, a1 = a0+trim, a1-trim
	const steps = 6
	var pts []pgtype.Vec2
	for i := 0; i <= steps; i++ {
		p := ellipse(cx, cy, a, b, a0+(a1-a0)*float64(i)/steps)
		pts = append(pts, pgtype.Vec2{X: round1(p.X), Y: round1(p.Y)})
	}
	return pts
}

func ellipse(cx, cy, a, b, angle float64) pgtype.Vec2 {
	return pgtype.Vec2{X: cx + a*math.Cos(angle), Y: cy + b*math.Sin(angle)}
}

func rect(x0, y0, x1, y1 float64) []pgtype.Vec2 {
	return []pgtype.Vec2{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

func ellipseOutline(cx, cy, a, b float64) []pgtype.Vec2 {
	const steps = 24
	pts := make([]pgtype.Vec2, 0, steps)
	for i := range steps {
		p := ellipse(cx, cy, a, b, 2*math.Pi*float64(i)/steps)
		pts = append(pts, pgtype.Vec2{X: round1(p.X), Y: round1(p.Y)})
	}
	return pts
}

func reverse(pts []pgtype.Vec2) []pgtype.Vec2 {
	out := make([]pgtype.Vec2, len(pts))
	for i, p := range pts {
		out[len(pts)-1-i] = p
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// The venue plans. Seat pitch is 10 map units in halls and 8 in bowls.

// clubLayout: a cabaret-style club, a floor and a small balcony (~300).
func clubLayout() *layout {
	l := &layout{width: 340, height: 260, stage: rect(70, 10, 270, 40), stageLabel: "Stage"}
	l.add(block("Floor", "Floor", 0, 50, 70, 10, 24, 10, 6, 0, rowLabel))
	l.add(block("Balcony", "Balcony", 1, 60, 200, 3, 22, 10, 4, 0, rowLabel))
	return l
}

// cellarLayout: a comedy room with tables close to the mic (~220).
func cellarLayout() *layout {
	l := &layout{width: 280, height: 210, stage: rect(100, 10, 180, 36), stageLabel: "Stage"}
	l.add(block("Front Tables", "Floor", 0, 45, 60, 4, 20, 10, 8, 0, rowLabel))
	l.add(block("Main Room", "Floor", 1, 45, 105, 7, 20, 10, 6, 4, rowLabel))
	return l
}

// houseNames are what a theatre calls its levels where it stands: the
// ground floor in three blocks, the first balcony and the top one.
type houseNames struct {
	left, centre, right, ground, middle, top string
}

var (
	// americanHouse is the usual naming in North America.
	americanHouse = houseNames{"Orchestra Left", "Orchestra Center", "Orchestra Right", "Orchestra", "Mezzanine", "Balcony"}
	// westEndHouse is a London theatre's.
	westEndHouse = houseNames{"Stalls Left", "Stalls Centre", "Stalls Right", "Stalls", "Dress Circle", "Upper Circle"}
	// frenchHouse is a Paris theatre's.
	frenchHouse = houseNames{"Parterre Jardin", "Parterre Centre", "Parterre Cour", "Parterre", "Corbeille", "Balcon"}
	// mexicanHouse is a Mexico City theatre's.
	mexicanHouse = houseNames{"Luneta Izquierda", "Luneta Central", "Luneta Derecha", "Luneta", "Anfiteatro", "Galería"}
)

// theatreLayout: the ground floor in three blocks, then two balconies,
// named as the house does. groundRows sets the size: 20 gives ~1,200 seats.
func theatreLayout(groundRows int, n houseNames) *layout {
	w := 540.0
	l := &layout{width: int(w), stage: rect(120, 10, 420, 50), stageLabel: "Stage"}
	y := 80.0
	l.add(block(n.left, n.ground, 1, 40, y+10, groundRows, 8, 10, 8, 0, rowLabel))
	l.add(block(n.centre, n.ground, 0, 160, y, groundRows, 22, 10, 12, 0, rowLabel))
	l.add(block(n.right, n.ground, 1, 430, y+10, groundRows, 8, 10, 8, 0, rowLabel))
	y += float64(groundRows)*10 + 40
	l.add(block(n.middle, n.middle, 2, 70, y, 7, 40, 10, 16, 0, rowLabel))
	y += 7*10 + 35
	l.add(block(n.top, n.top, 3, 60, y, 7, 42, 10, 18, 0, rowLabel))
	l.height = int(y + 7*10 + 20)
	return l
}

// hallLayout: a 2,000-seat concert hall, orchestra, mezzanine, balcony.
func hallLayout() *layout {
	l := &layout{width: 620, stage: rect(140, 10, 480, 70), stageLabel: "Stage"}
	n := americanHouse
	y := 100.0
	l.add(block(n.left, n.ground, 1, 40, y+14, 24, 10, 10, 10, 0, rowLabel))
	l.add(block(n.centre, n.ground, 0, 180, y, 24, 26, 10, 14, 0, rowLabel))
	l.add(block(n.right, n.ground, 1, 490, y+14, 24, 10, 10, 10, 0, rowLabel))
	y += 24*10 + 40
	l.add(block(n.middle, n.middle, 2, 65, y, 9, 50, 10, 18, 0, rowLabel))
	y += 9*10 + 35
	l.add(block(n.top, n.top, 3, 45, y, 9, 54, 10, 20, 0, rowLabel))
	l.height = int(y + 9*10 + 20)
	return l
}

// arenaLayout: a bowl of two levels around a court or rink (~14,000).
func arenaLayout(stageLabel string) *layout {
	cx, cy := 560.0, 420.0
	l := &layout{width: 1120, height: 840, stage: ellipseOutline(cx, cy, 210, 110), stageLabel: stageLabel}
	for _, s := range (ring{cx: cx, cy: cy, a: 250, b: 150, rows: 22, pitch: 6, level: "Lower Level", tier: 0,
		firstAngle: -90, span: 360, sections: 24, number: 101, rowLabel: numberLabel}).build() {
		l.add(s)
	}
	for _, s := range (ring{cx: cx, cy: cy, a: 400, b: 300, rows: 18, pitch: 6, level: "Upper Level", tier: 2,
		firstAngle: -90, span: 360, sections: 28, number: 201, rowLabel: numberLabel}).build() {
		l.add(s)
	}
	promoteSideline(l, cx, cy)
	return l
}

// amphitheatreLayout: a half bowl facing a stage (~6,000).
func amphitheatreLayout() *layout {
	cx, cy := 520.0, 90.0
	l := &layout{width: 1040, height: 560, stage: rect(400, 20, 640, 80), stageLabel: "Stage"}
	for _, s := range (ring{cx: cx, cy: cy, a: 130, b: 120, rows: 20, pitch: 7, level: "Lower Bowl", tier: 0,
		firstAngle: 10, span: 160, sections: 7, number: 101, rowLabel: rowLabel}).build() {
		l.add(s)
	}
	for _, s := range (ring{cx: cx, cy: cy, a: 290, b: 270, rows: 22, pitch: 7, level: "Upper Bowl", tier: 2,
		firstAngle: 10, span: 160, sections: 11, number: 201, rowLabel: rowLabel}).build() {
		l.add(s)
	}
	return l
}

// stadiumLayout: a three-level bowl of numbered sections around a pitch
// (~44,000 seats).
func stadiumLayout(stageLabel string) *layout {
	cx, cy := 1000.0, 760.0
	l := &layout{width: 2000, height: 1520, stage: rect(cx-230, cy-140, cx+230, cy+140), stageLabel: stageLabel}
	levels := []ring{
		{a: 330, b: 220, rows: 32, level: "Lower Level", tier: 0, sections: 28, number: 101},
		{a: 540, b: 430, rows: 22, level: "Club Level", tier: 1, sections: 28, number: 201},
		{a: 690, b: 580, rows: 28, level: "Upper Level", tier: 3, sections: 32, number: 301},
	}
	for _, g := range levels {
		g.cx, g.cy, g.pitch, g.firstAngle, g.span, g.rowLabel = cx, cy, 6, -90, 360, numberLabel
		for _, s := range g.build() {
			l.add(s)
		}
	}
	promoteSideline(l, cx, cy)
	return l
}

// promoteSideline makes sections along the long sides (facing the action)
// one tier better than those behind the ends.
func promoteSideline(l *layout, cx, cy float64) {
	for _, s := range l.sections {
		var sx, sy float64
		for _, st := range s.seats {
			sx += st.x
			sy += st.y
		}
		n := float64(len(s.seats))
		if n == 0 {
			continue
		}
		dx, dy := math.Abs(sx/n-cx), math.Abs(sy/n-cy)
		if dy > dx*0.8 {
			continue // sideline already
		}
		s.tier++
	}
}
