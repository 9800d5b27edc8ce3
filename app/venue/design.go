package venue

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A Design is a venue drawn from shapes, as the builder page makes one:
// blocks of rows, curved blocks, a bowl of sections around a centre, and
// standing areas. SeatMap turns it into the seat map that is saved, so
// that an organiser never writes the file by hand.
type Design struct {
	Venue         Place
	Width, Height int
	Stage         StageBox
	Shapes        []Shape
}

// StageBox is the stage as a rectangle; an empty label means no stage.
type StageBox struct {
	Label      string
	X, Y, W, H float64
}

// Shape kinds.
const (
	ShapeBlock    = "block"    // Rows × Seats, straight rows, from X, Y (top left)
	ShapeCurve    = "curve"    // a block whose rows bend towards the stage by Curve at their ends
	ShapeBowl     = "bowl"     // Count sections around the centre X, Y, rows outwards from radii RX, RY
	ShapeStanding = "standing" // a W × H area at X, Y holding Capacity
)

// Shapes lists the kinds, as the builder offers them.
var Shapes = []string{ShapeBlock, ShapeCurve, ShapeBowl, ShapeStanding}

// Shape is one part of a design. Name names the section (a bowl's
// sections are Name 1, Name 2, …); FirstRow is the first row's label ("A"
// for letters, "1" for numbers, or any letter or number to start from).
type Shape struct {
	Kind        string
	Name, Level string
	X, Y        float64
	Rows, Seats int     // rows, and seats in each row
	Pitch       float64 // seat to seat, in map units (default 10)
	Curve       float64
	FirstRow    string
	Count       int     // bowl: sections
	RX, RY      float64 // bowl: inner radii
	W, H        float64 // standing: size
	Capacity    int     // standing: places
}

// Limits of a shape, so that a slip of the keyboard does not make a
// million seats.
const (
	MaxRows         = 200
	MaxSeatsPerRow  = 500
	MaxBowlSections = 200
)

// SeatMap draws the design: every seat placed, every outline around its
// seats. The result still has to pass Check (on the map, no clashes).
func (d Design) SeatMap() (*SeatMap, error) {
	m := &SeatMap{Format: Format, Venue: d.Venue, Width: d.Width, Height: d.Height}
	if strings.TrimSpace(d.Stage.Label) != "" {
		m.Stage = &Stage{Label: strings.TrimSpace(d.Stage.Label), Outline: rect(d.Stage.X, d.Stage.Y, d.Stage.X+d.Stage.W, d.Stage.Y+d.Stage.H)}
	}
	// Counted before anything is drawn: a slip of the keyboard must not
	// make millions of seats.
	seats := 0.0 // in floating point: huge counts must not wrap around
	for _, s := range d.Shapes {
		if s.Kind != ShapeStanding {
			seats += float64(max(s.Rows, 0)) * float64(max(s.Seats, 0)) * float64(max(ternaryInt(s.Kind == ShapeBowl, s.Count, 1), 0))
		}
	}
	switch {
	case len(d.Shapes) > MaxSections:
		return nil, invalid([]string{fmt.Sprintf("The design has %d shapes: at most %d.", len(d.Shapes), MaxSections)})
	case seats > MaxSeats:
		return nil, invalid([]string{fmt.Sprintf("The design has %.0f seats: at most %d.", seats, MaxSeats)})
	}
	var problems []string
	for i, s := range d.Shapes {
		where := fmt.Sprintf("Shape %d (%s %q)", i+1, s.Kind, s.Name)
		if problem := s.check(); problem != "" {
			problems = append(problems, where+": "+problem)
			continue
		}
		m.Sections = append(m.Sections, s.sections()...)
	}
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	return m, nil
}

func (s Shape) pitch() float64 {
	if s.Pitch > 0 {
		return s.Pitch
	}
	return 10
}

func (s Shape) check() string {
	for _, v := range []float64{s.X, s.Y, s.Pitch, s.Curve, s.RX, s.RY, s.W, s.H} {
		if math.IsNaN(v) || math.Abs(v) > MaxCanvas {
			return fmt.Sprintf("its numbers must lie within ±%d map units.", MaxCanvas)
		}
	}
	switch s.Kind {
	case ShapeStanding:
		switch {
		case s.W <= 0 || s.H <= 0:
			return "give the area a width and a height."
		case s.Capacity < 1 || s.Capacity > MaxCapacity:
			return fmt.Sprintf("give its capacity, between 1 and %d places.", MaxCapacity)
		}
		return ""
	case ShapeBlock, ShapeCurve, ShapeBowl:
	default:
		return fmt.Sprintf("there is no shape %q: use one of %s.", s.Kind, strings.Join(Shapes, ", "))
	}
	switch {
	case s.Rows < 1 || s.Rows > MaxRows:
		return fmt.Sprintf("give it between 1 and %d rows.", MaxRows)
	case s.Seats < 1 || s.Seats > MaxSeatsPerRow:
		return fmt.Sprintf("give each row between 1 and %d seats.", MaxSeatsPerRow)
	case s.Pitch < 0 || s.Pitch > 1000:
		return "the seat pitch must be between 1 and 1000 map units (empty: 10)."
	case s.Kind == ShapeBowl && (s.Count < 1 || s.Count > MaxBowlSections):
		return fmt.Sprintf("a bowl has between 1 and %d sections.", MaxBowlSections)
	case s.Kind == ShapeBowl && (s.RX <= 0 || s.RY <= 0):
		return "give the bowl's inner radii (across and down), above 0."
	}
	if _, ok := rowLabeller(s.FirstRow); !ok {
		return fmt.Sprintf("the first row %q is not a letter or a number.", s.FirstRow)
	}
	return ""
}

// sections draws the shape's sections.
func (s Shape) sections() []Section {
	name, level := strings.TrimSpace(s.Name), strings.TrimSpace(s.Level)
	switch s.Kind {
	case ShapeStanding:
		return []Section{{Name: name, Level: level, Kind: Standing, Outline: rect(s.X, s.Y, s.X+s.W, s.Y+s.H), Capacity: s.Capacity}}
	case ShapeBowl:
		out := make([]Section, s.Count)
		gap := 360 / float64(s.Count) * 0.08 // an aisle between sections
		for i := range out {
			a0 := float64(i)*360/float64(s.Count) - 90 + gap/2 // the first section at the top
			a1 := float64(i+1)*360/float64(s.Count) - 90 - gap/2
			out[i] = s.arc(strings.TrimSpace(fmt.Sprintf("%s %d", name, i+1)), level, a0, a1)
		}
		return out
	}
	return []Section{s.block(name, level)}
}

// block is a grid of rows facing up (the stage is above), bent by Curve.
func (s Shape) block(name, level string) Section {
	p := s.pitch()
	rowPitch := p * 1.2
	label, _ := rowLabeller(s.FirstRow)
	bend := func(i int) float64 { // how far seat i of a row rises towards the stage
		if s.Kind != ShapeCurve || s.Seats == 1 {
			return 0
		}
		t := (float64(i) - float64(s.Seats-1)/2) / (float64(s.Seats-1) / 2)
		return s.Curve * t * t
	}
	sec := Section{Name: name, Level: level, Kind: Seated}
	for r := range s.Rows {
		row := Row{Label: label(r)}
		for i := range s.Seats {
			row.Seats = append(row.Seats, Seat{Number: i + 1,
				X: round1f(s.X + p/2 + float64(i)*p), Y: round1f(s.Y + p/2 + float64(r)*rowPitch - bend(i))})
		}
		sec.Rows = append(sec.Rows, row)
	}
	// The outline follows the bend: along the top of the first row, back
	// along the bottom of the last.
	var top, bottom Outline
	for i := 0; i <= s.Seats; i++ {
		x := s.X + float64(i)*p
		b := bend(min(i, s.Seats-1))
		if i > 0 && i < s.Seats {
			b = (bend(i-1) + bend(i)) / 2
		}
		top = append(top, [2]float64{round1(x), round1(s.Y - b)})
		bottom = append(bottom, [2]float64{round1(x), round1(s.Y + float64(s.Rows-1)*rowPitch + p - b)})
	}
	sec.Outline = append(top, reverse(bottom)...)
	return sec
}

// arc is one section of a bowl, between angles a0 and a1 (degrees,
// clockwise from the right), rows outwards.
func (s Shape) arc(name, level string, a0, a1 float64) Section {
	p := s.pitch()
	rowPitch := p * 1.2
	label, _ := rowLabeller(s.FirstRow)
	point := func(r, a float64) (float64, float64) {
		rad := a * math.Pi / 180
		return s.X + (s.RX+r)*math.Cos(rad), s.Y + (s.RY+r)*math.Sin(rad)
	}
	sec := Section{Name: name, Level: level, Kind: Seated}
	for r := range s.Rows {
		row := Row{Label: label(r)}
		out := p/2 + float64(r)*rowPitch
		for i := range s.Seats {
			a := a0 + (a1-a0)*(float64(i)+0.5)/float64(s.Seats)
			x, y := point(out, a)
			row.Seats = append(row.Seats, Seat{Number: i + 1, X: round1f(x), Y: round1f(y)})
		}
		sec.Rows = append(sec.Rows, row)
	}
	const steps = 12
	var inner, outer Outline
	for k := 0; k <= steps; k++ {
		a := a0 + (a1-a0)*float64(k)/steps
		x, y := point(0, a)
		inner = append(inner, [2]float64{round1(x), round1(y)})
		x, y = point(float64(s.Rows-1)*rowPitch+p, a)
		outer = append(outer, [2]float64{round1(x), round1(y)})
	}
	sec.Outline = append(inner, reverse(outer)...)
	return sec
}

// rowLabeller returns the labels of rows from first: letters run A…Z, AA,
// BB… as theatres letter them; numbers count up.
func rowLabeller(first string) (func(int) string, bool) {
	first = strings.TrimSpace(first)
	if first == "" {
		first = "A"
	}
	if n, err := strconv.Atoi(first); err == nil && n >= 0 {
		return func(i int) string { return strconv.Itoa(n + i) }, true
	}
	if len(first) == 1 && first[0] >= 'A' && first[0] <= 'Z' || len(first) == 1 && first[0] >= 'a' && first[0] <= 'z' {
		base, start := byte('A'), strings.ToUpper(first)[0]-'A'
		return func(i int) string {
			i += int(start)
			return strings.Repeat(string(rune(base+byte(i%26))), i/26+1)
		}, true
	}
	return nil, false
}

func rect(x0, y0, x1, y1 float64) Outline {
	return Outline{{round1(x0), round1(y0)}, {round1(x1), round1(y0)}, {round1(x1), round1(y1)}, {round1(x0), round1(y1)}}
}

func reverse(o Outline) Outline {
	out := make(Outline, len(o))
	for i, p := range o {
		out[len(o)-1-i] = p
	}
	return out
}

func round1(v float64) float64  { return math.Round(v*10) / 10 }
func round1f(v float64) float32 { return float32(round1(v)) }

func ternaryInt(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}
