package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/templates"
)

// The venue builder: /manage/venues/new draws a venue from shapes in a
// plain form. Every button posts the whole design; the server draws it
// (app/venue's Design), checks it as any seat map is checked, and shows
// the map, so the page works without script; with it, the preview follows
// each change. Save stores the venue, Download gives its file.

// newDesign is where a builder starts: a stage and one block of seats,
// named in the organiser's language l.
func newDesign(l *locale.Lang) venue.Design {
	return venue.Design{Width: 1000, Height: 800,
		Stage:  venue.StageBox{Label: l.T("builder.default_stage"), X: 350, Y: 30, W: 300, H: 70},
		Shapes: []venue.Shape{newShape(l, venue.ShapeBlock, 0)}}
}

// newShape is a shape of kind as the Add buttons make it: the nth, placed
// lower than the ones before.
func newShape(l *locale.Lang, kind string, n int) venue.Shape {
	y := 150 + float64(n%5)*120
	switch kind {
	case venue.ShapeStanding:
		return venue.Shape{Kind: kind, Name: l.T("builder.default_standing", "N", n+1), X: 50, Y: y, W: 200, H: 100, Capacity: 300}
	case venue.ShapeBowl:
		return venue.Shape{Kind: kind, Name: l.T("builder.default_bowl"), X: 500, Y: 450, RX: 200, RY: 150, Count: 8, Rows: 5, Seats: 8}
	case venue.ShapeCurve:
		return venue.Shape{Kind: kind, Name: l.T("builder.default_section", "N", n+1), X: 300, Y: y, Rows: 6, Seats: 16, Curve: 12}
	}
	return venue.Shape{Kind: venue.ShapeBlock, Name: l.T("builder.default_section", "N", n+1), X: 300, Y: y, Rows: 6, Seats: 16}
}

func (s *Server) handleVenueNew(c echo.Context) error {
	return s.builder(c, http.StatusOK, templates.BuilderPage{Design: newDesign(lang(c))})
}

// builder draws p's design for the page.
func (s *Server) builder(c echo.Context, status int, p templates.BuilderPage) error {
	if p.Map == nil && len(p.Problems) == 0 {
		m, err := p.Design.SeatMap()
		if err == nil {
			p.Map = m
			err = m.Check()
		}
		p.Problems = problemsOf(err)
	}
	return render(c, status, templates.VenueBuilder(p))
}

// problemsOf lists a refused seat map's problems.
func problemsOf(err error) []string {
	var e *app.Error
	if !errors.As(err, &e) {
		return nil
	}
	if p, ok := e.Detail["problems"].([]string); ok {
		return p
	}
	return []string{e.Message}
}

// handleDesign takes every button of the builder.
func (s *Server) handleDesign(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return fanError(c, app.EINVALID, "builder.form_unreadable")
	}
	d, problem := designFromForm(lang(c), form)
	if problem != "" {
		return s.builder(c, http.StatusBadRequest, templates.BuilderPage{Design: d, Problems: []string{problem}})
	}
	op := strings.Split(form.Get("do"), ":")
	switch op[0] {
	case "add":
		if len(op) == 2 {
			d.Shapes = append(d.Shapes, newShape(lang(c), op[1], len(d.Shapes)))
		}
	case "remove", "move":
		i, err := strconv.Atoi(op[len(op)-1])
		if len(op) < 2 || err != nil || i < 0 || i >= len(d.Shapes) {
			return fanError(c, app.EINVALID, "builder.no_shape")
		}
		if op[0] == "remove" {
			d.Shapes = append(d.Shapes[:i], d.Shapes[i+1:]...)
		} else if len(op) == 4 {
			dx, _ := strconv.ParseFloat(op[1], 64)
			dy, _ := strconv.ParseFloat(op[2], 64)
			d.Shapes[i].X += dx
			d.Shapes[i].Y += dy
		}
	}
	m, err := d.SeatMap()
	if err == nil {
		err = m.Check()
	}
	if err != nil || op[0] != "save" && op[0] != "download" {
		status := http.StatusOK
		if err != nil && (op[0] == "save" || op[0] == "download") {
			status = http.StatusBadRequest
		}
		p := templates.BuilderPage{Design: d, Problems: problemsOf(err), Map: m}
		if status == http.StatusBadRequest {
			p.Refused = true
		}
		return s.builder(c, status, p)
	}
	if op[0] == "download" {
		c.Response().Header().Set("Content-Disposition", `attachment; filename="seatmap.json"`)
		return c.JSONPretty(http.StatusOK, m, "  ")
	}
	id, err := s.venues.Create(c.Request().Context(), actorOf(c), m)
	if err != nil {
		if app.ErrorCode(err) == app.EINTERNAL {
			return err
		}
		return s.builder(c, http.StatusBadRequest, templates.BuilderPage{Design: d, Map: m, Problems: problemsOf(err), Refused: true})
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/venues/%d", id))
}

// designFromForm reads the builder's fields: the venue, the stage, and
// one value per shape in each list. A number that is not one is named, in
// the organiser's language l, which may also write its decimals its own
// way ("12,5").
func designFromForm(l *locale.Lang, f url.Values) (venue.Design, string) {
	d := venue.Design{Venue: venue.Place{Name: f.Get("name"), Address: f.Get("address"), City: f.Get("city"),
		Region: f.Get("region"), Country: strings.ToUpper(strings.TrimSpace(f.Get("country"))), Timezone: strings.TrimSpace(f.Get("timezone"))}}
	var problem string
	// read is the number typed in raw; what names the field if it is not one.
	read := func(raw string, what func(value string) string) float64 {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return 0
		}
		v, err := parseNumber(l, raw)
		if (err != nil || math.IsNaN(v) || math.IsInf(v, 0)) && problem == "" {
			problem = what(strconv.Quote(raw))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e9 {
			return 0 // named above; nothing out of range reaches the drawing
		}
		return v
	}
	number := func(field, raw string) float64 {
		return read(raw, func(value string) string {
			return l.T("builder.not_a_number", "Field", l.T("builder.number."+field), "Value", value)
		})
	}
	d.Width, d.Height = int(number("width", f.Get("width"))), int(number("height", f.Get("height")))
	d.Stage = venue.StageBox{Label: f.Get("stage_label"), X: number("stage_x", f.Get("stage_x")), Y: number("stage_y", f.Get("stage_y")),
		W: number("stage_w", f.Get("stage_w")), H: number("stage_h", f.Get("stage_h"))}
	at := func(key string, i int) string {
		if v := f[key]; i < len(v) {
			return v[i]
		}
		return ""
	}
	for i, kind := range f["kind"] {
		shape := func(field string) float64 {
			return read(at(field, i), func(value string) string {
				return l.T("builder.shape_not_a_number", "N", i+1, "Field", l.T("builder.shape_field."+field), "Value", value)
			})
		}
		d.Shapes = append(d.Shapes, venue.Shape{Kind: kind, Name: at("sname", i), Level: at("level", i),
			X: shape("x"), Y: shape("y"),
			Rows: int(shape("rows")), Seats: int(shape("seats")),
			Pitch: shape("pitch"), Curve: shape("curve"), FirstRow: at("first", i),
			Count: int(shape("count")), RX: shape("rx"), RY: shape("ry"),
			W: shape("w"), H: shape("h"), Capacity: int(shape("capacity"))})
	}
	return d, problem
}

// parseNumber reads a number as a program writes it ("12.5"), or failing
// that with l's decimal separator ("12,5" in Spanish or German).
func parseNumber(l *locale.Lang, raw string) (float64, error) {
	v, err := strconv.ParseFloat(raw, 64)
	if d := l.T("format.decimal"); err != nil && d != "." && strings.Count(raw, d) == 1 && !strings.Contains(raw, ".") {
		if lv, lerr := strconv.ParseFloat(strings.Replace(raw, d, ".", 1), 64); lerr == nil {
			return lv, nil
		}
	}
	return v, err
}
