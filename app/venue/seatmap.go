// Package venue is organisers' venues: the seat-map file that describes a
// house (seatmap.schema.json, with example.json beside it), reading and
// checking one, and storing and exporting it.
package venue

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/boxoffice/boxoffice/app"
)

// Schema is the seat-map file's JSON Schema, and Example a small venue
// written in it: the documentation organisers read.
var (
	//go:embed seatmap.schema.json
	Schema []byte
	//go:embed example.json
	Example []byte
)

// Format names this version of the seat-map file.
const Format = "boxoffice-seatmap/1"

// Limits of a seat-map file.
const (
	MaxSeats    = 200_000 // a large stadium is 100,000
	MaxSections = 2_000
	MaxCanvas   = 100_000 // map units a side
	MaxCapacity = 200_000 // places in one standing section
	maxProblems = 20      // a file wrong everywhere is told its first few
)

// SeatMap is a venue's layout: where it is, the stage, and its sections.
// Coordinates are map units on a Width × Height canvas, x to the right
// and y down; seat positions are kept as 32-bit floats (about seven
// significant digits), as they are stored.
type SeatMap struct {
	Format   string    `json:"format"`
	Venue    Place     `json:"venue"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Stage    *Stage    `json:"stage,omitempty"`
	Sections []Section `json:"sections"`
}

// Place is where the venue is.
type Place struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	City     string `json:"city"`
	Region   string `json:"region,omitempty"`
	Country  string `json:"country"`  // ISO 3166-1 alpha-2, e.g. GB
	Timezone string `json:"timezone"` // IANA, e.g. Europe/London
}

// Stage is the stage, pitch or rink, drawn on the map for orientation.
type Stage struct {
	Label   string  `json:"label"`
	Outline Outline `json:"outline"`
}

// Section kinds.
const (
	Seated   = "seated"
	Standing = "standing" // general admission: sold by quantity up to Capacity
)

// Section is a block of seats or a standing area.
type Section struct {
	Name     string  `json:"name"`
	Level    string  `json:"level,omitempty"` // "Stalls", "Lower tier": groups sections
	Kind     string  `json:"kind"`
	Outline  Outline `json:"outline"`
	Capacity int     `json:"capacity,omitempty"` // standing only
	Rows     []Row   `json:"rows,omitempty"`     // seated only
}

// Row is a row of seats, in the order they are listed.
type Row struct {
	Label string `json:"label"`
	Seats []Seat `json:"seats"`
}

// Seat is one seat.
type Seat struct {
	Number         int     `json:"number"`
	X              float32 `json:"x"`
	Y              float32 `json:"y"`
	Accessible     bool    `json:"accessible,omitempty"`
	RestrictedView bool    `json:"restricted_view,omitempty"`
}

// Outline is a polygon: at least three [x, y] corners.
type Outline [][2]float64

// Seats is how many seats the map has.
func (m *SeatMap) Seats() int {
	n := 0
	for _, s := range m.Sections {
		for _, r := range s.Rows {
			n += len(r.Seats)
		}
	}
	return n
}

// Capacity is its seats and standing places.
func (m *SeatMap) Capacity() int {
	n := m.Seats()
	for _, s := range m.Sections {
		n += s.Capacity
	}
	return n
}

// Parse reads a seat-map file and checks it; a bad file is an app.EINVALID
// (reason invalid_seatmap) whose detail lists each problem with where it
// is: which section, which row, which seat.
func Parse(data []byte) (*SeatMap, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m SeatMap
	if err := dec.Decode(&m); err != nil {
		return nil, invalid([]string{"The file is not a seat map: " + jsonProblem(err)})
	}
	if dec.More() {
		return nil, invalid([]string{"The file has something after the seat map: send one JSON object."})
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// jsonProblem says what is wrong with a file encoding/json refused.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("it is not valid JSON (at byte %d: %s).", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		return fmt.Sprintf("%q should be %s, not %s.", typ.Field, kindName(typ.Type.Kind().String()), typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ") + "."
}

func kindName(k string) string {
	switch k {
	case "int", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "a list"
	case "struct", "ptr":
		return "an object"
	}
	return "a " + k
}

func invalid(problems []string) error {
	msg := "This seat map has a problem: " + problems[0]
	if len(problems) > 1 {
		msg = fmt.Sprintf("This seat map has %d problems; the first: %s", len(problems), problems[0])
	}
	return &app.Error{Code: app.EINVALID, Reason: "invalid_seatmap", Message: msg, Detail: map[string]any{"problems": problems}}
}

var (
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	maxText     = 200
)

// Check tells whether the map is whole and consistent: every problem it
// finds (up to a few dozen), each with where it is.
func (m *SeatMap) Check() error {
	var problems []string
	bad := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	if m.Format != Format {
		bad("format is %q; this Boxoffice reads %q.", m.Format, Format)
	}
	text := func(where, value string, required bool) {
		switch {
		case !Printable(value):
			bad("%s has characters that cannot be shown (control characters, or bytes that are not UTF-8).", where)
		case required && strings.TrimSpace(value) == "":
			bad("%s is missing.", where)
		case utf8.RuneCountInString(value) > maxText:
			bad("%s is longer than %d characters.", where, maxText)
		case value != strings.TrimSpace(value):
			bad("%s has spaces at its start or end.", where)
		}
	}
	v := m.Venue
	text("venue.name", v.Name, true)
	text("venue.address", v.Address, false)
	text("venue.city", v.City, true)
	text("venue.region", v.Region, false)
	if !countryCode.MatchString(v.Country) {
		bad("venue.country is %q: give the two capital letters of ISO 3166-1, such as GB or ES.", v.Country)
	}
	if v.Timezone == "" {
		bad("venue.timezone is missing: give an IANA name, such as Europe/London.")
	} else if _, err := time.LoadLocation(v.Timezone); err != nil || v.Timezone == "Local" {
		bad("venue.timezone %q is not a time zone: give an IANA name, such as Europe/London.", v.Timezone)
	}
	canvas := m.Width > 0 && m.Height > 0 && m.Width <= MaxCanvas && m.Height <= MaxCanvas
	if !canvas {
		bad("width and height are %d × %d: each must be between 1 and %d map units.", m.Width, m.Height, MaxCanvas)
	}
	inside := func(x, y float64) bool {
		return !canvas || x >= 0 && y >= 0 && x <= float64(m.Width) && y <= float64(m.Height)
	}
	outline := func(where string, o Outline) {
		if len(o) < 3 {
			bad("%s's outline has %d corners: it needs at least 3.", where, len(o))
			return
		}
		for i, p := range o {
			if !inside(p[0], p[1]) {
				bad("%s's outline corner %d (%g, %g) is outside the map (0–%d × 0–%d).", where, i+1, p[0], p[1], m.Width, m.Height)
				return
			}
		}
	}
	if m.Stage != nil {
		text("stage.label", m.Stage.Label, true)
		outline("The stage", m.Stage.Outline)
	}
	switch {
	case len(m.Sections) == 0:
		bad("sections is empty: a venue needs at least one section.")
	case len(m.Sections) > MaxSections:
		bad("there are %d sections: at most %d.", len(m.Sections), MaxSections)
	}
	if seats := m.Seats(); seats > MaxSeats {
		bad("there are %d seats: at most %d.", seats, MaxSeats)
		return invalid(problems) // not worth reading seat by seat
	}
	names := map[string]int{}
	for i, s := range m.Sections {
		where := fmt.Sprintf("Section %d (%q)", i+1, s.Name)
		text(fmt.Sprintf("Section %d's name", i+1), s.Name, true)
		if j, dup := names[s.Name]; dup && s.Name != "" {
			bad("%s has the same name as section %d: names must differ.", where, j+1)
		}
		names[s.Name] = i
		text(where+"'s level", s.Level, false)
		outline(where, s.Outline)
		switch s.Kind {
		case Standing:
			if s.Capacity < 1 || s.Capacity > MaxCapacity {
				bad("%s is standing: give its capacity, between 1 and %d places.", where, MaxCapacity)
			}
			if len(s.Rows) > 0 {
				bad("%s is standing but lists rows of seats: make it seated, or drop the rows.", where)
			}
			continue
		case Seated:
		default:
			bad("%s has kind %q: it must be %q or %q.", where, s.Kind, Seated, Standing)
			continue
		}
		if s.Capacity != 0 {
			bad("%s is seated but has a capacity: its seats are its capacity; drop it.", where)
		}
		if len(s.Rows) == 0 {
			bad("%s is seated but has no rows.", where)
		}
		rows := map[string]bool{}
		at := map[[2]float32]string{}
		for _, r := range s.Rows {
			rowWhere := fmt.Sprintf("%s, row %q", where, r.Label)
			text(where+"'s row label", r.Label, true)
			if rows[r.Label] {
				bad("%s is listed twice: list each row once, with all its seats.", rowWhere)
			}
			rows[r.Label] = true
			if len(r.Seats) == 0 {
				bad("%s has no seats.", rowWhere)
			}
			numbers := map[int]bool{}
			for _, st := range r.Seats {
				seatWhere := fmt.Sprintf("%s, seat %d", rowWhere, st.Number)
				if st.Number < 1 {
					bad("%s: seat numbers start at 1.", seatWhere)
				}
				if numbers[st.Number] {
					bad("%s is listed twice.", seatWhere)
				}
				numbers[st.Number] = true
				if math.IsNaN(float64(st.X)) || !inside(float64(st.X), float64(st.Y)) {
					bad("%s is at (%g, %g), outside the map (0–%d × 0–%d).", seatWhere, st.X, st.Y, m.Width, m.Height)
				}
				pos := [2]float32{st.X, st.Y}
				if other, clash := at[pos]; clash {
					bad("%s is at the same place as %s.", seatWhere, other)
				}
				at[pos] = fmt.Sprintf("row %q seat %d", r.Label, st.Number)
			}
		}
	}
	if len(problems) > 0 {
		return invalid(problems)
	}
	return nil
}

// Levels lists the levels of the map in the order they first appear.
func (m *SeatMap) Levels() []string {
	var out []string
	for _, s := range m.Sections {
		if s.Level != "" && !slices.Contains(out, s.Level) {
			out = append(out, s.Level)
		}
	}
	return out
}

// Printable tells whether text is valid UTF-8 without control characters
// (tabs and line breaks aside): what a name or a description may hold.
func Printable(text string) bool {
	if !utf8.ValidString(text) {
		return false
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}
