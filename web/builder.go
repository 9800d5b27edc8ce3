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
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/templates"
)

// The venue builder: /manage/venues/new draws a venue from shapes in a
// plain form. Every button posts the whole design; the server draws it
// (app/venue's Design), checks it as any seat map is checked, and shows
// the map, so the page works without script; with it, the preview follows
// each change. Save stores the venue, Download gives its file.

// newDesign is where a builder starts: a stage and one block of seats.
func newDesign() venue.Design {
	return venue.Design{Width: 1000, Height: 800,
		Stage:  venue.StageBox{Label: "Stage", X: 350, Y: 30, W: 300, H: 70},
		Shapes: []venue.Shape{newShape(venue.ShapeBlock, 0)}}
}

// newShape is a shape of kind as the Add buttons make it: the nth, placed
// lower than the ones before.
func newShape(kind string, n int) venue.Shape {
	y := 150 + float64(n%5)*120
	switch kind {
	case venue.ShapeStanding:
		return venue.Shape{Kind: kind, Name: fmt.Sprintf("Standing %d", n+1), X: 50, Y: y, W: 200, H: 100, Capacity: 300}
	case venue.ShapeBowl:
		return venue.Shape{Kind: kind, Name: "Block", X: 500, Y: 450, RX: 200, RY: 150, Count: 8, Rows: 5, Seats: 8}
	case venue.ShapeCurve:
		return venue.Shape{Kind: kind, Name: fmt.Sprintf("Section %d", n+1), X: 300, Y: y, Rows: 6, Seats: 16, Curve: 12}
	}
	return venue.Shape{Kind: venue.ShapeBlock, Name: fmt.Sprintf("Section %d", n+1), X: 300, Y: y, Rows: 6, Seats: 16}
}

func (s *Server) handleVenueNew(c echo.Context) error {
	return s.builder(c, http.StatusOK, templates.BuilderPage{Design: newDesign()})
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
		return app.Errorf(app.EINVALID, "The form could not be read.")
	}
	d, problem := designFromForm(form)
	if problem != "" {
		return s.builder(c, http.StatusBadRequest, templates.BuilderPage{Design: d, Problems: []string{problem}})
	}
	op := strings.Split(form.Get("do"), ":")
	switch op[0] {
	case "add":
		if len(op) == 2 {
			d.Shapes = append(d.Shapes, newShape(op[1], len(d.Shapes)))
		}
	case "remove", "move":
		i, err := strconv.Atoi(op[len(op)-1])
		if len(op) < 2 || err != nil || i < 0 || i >= len(d.Shapes) {
			return app.Errorf(app.EINVALID, "There is no such shape.")
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
// one value per shape in each list. A number that is not one is named.
func designFromForm(f url.Values) (venue.Design, string) {
	d := venue.Design{Venue: venue.Place{Name: f.Get("name"), Address: f.Get("address"), City: f.Get("city"),
		Region: f.Get("region"), Country: strings.ToUpper(strings.TrimSpace(f.Get("country"))), Timezone: strings.TrimSpace(f.Get("timezone"))}}
	var problem string
	number := func(label, raw string) float64 {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return 0
		}
		v, err := strconv.ParseFloat(raw, 64)
		if (err != nil || math.IsNaN(v) || math.IsInf(v, 0)) && problem == "" {
			problem = fmt.Sprintf("%s is %q: give a number.", label, raw)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e9 {
			return 0 // named above; nothing out of range reaches the drawing
		}
		return v
	}
	d.Width, d.Height = int(number("The width", f.Get("width"))), int(number("The height", f.Get("height")))
	d.Stage = venue.StageBox{Label: f.Get("stage_label"), X: number("The stage's x", f.Get("stage_x")), Y: number("The stage's y", f.Get("stage_y")),
		W: number("The stage's width", f.Get("stage_w")), H: number("The stage's height", f.Get("stage_h"))}
	at := func(key string, i int) string {
		if v := f[key]; i < len(v) {
			return v[i]
		}
		return ""
	}
	for i, kind := range f["kind"] {
		name := fmt.Sprintf("Shape %d's", i+1)
		d.Shapes = append(d.Shapes, venue.Shape{Kind: kind, Name: at("sname", i), Level: at("level", i),
			X: number(name+" x", at("x", i)), Y: number(name+" y", at("y", i)),
			Rows: int(number(name+" rows", at("rows", i))), Seats: int(number(name+" seats per row", at("seats", i))),
			Pitch: number(name+" seat pitch", at("pitch", i)), Curve: number(name+" curve", at("curve", i)), FirstRow: at("first", i),
			Count: int(number(name+" sections", at("count", i))), RX: number(name+" radius across", at("rx", i)), RY: number(name+" radius down", at("ry", i)),
			W: number(name+" width", at("w", i)), H: number(name+" height", at("h", i)), Capacity: int(number(name+" capacity", at("capacity", i)))})
	}
	return d, problem
}
