package venue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func design() venue.Design {
	return venue.Design{
		Venue: venue.Place{Name: "Builder Hall", Address: "1 Shape St", City: "Leeds", Country: "GB", Timezone: "Europe/London"},
		Width: 1000, Height: 800,
		Stage: venue.StageBox{Label: "Stage", X: 400, Y: 20, W: 200, H: 60},
		Shapes: []venue.Shape{
			{Kind: venue.ShapeBlock, Name: "Stalls", Level: "Ground", X: 100, Y: 150, Rows: 3, Seats: 4},
			{Kind: venue.ShapeCurve, Name: "Circle", Level: "Circle", X: 500, Y: 150, Rows: 2, Seats: 5, Curve: 8, FirstRow: "1"},
			{Kind: venue.ShapeBowl, Name: "Block", X: 500, Y: 550, RX: 120, RY: 80, Count: 4, Rows: 2, Seats: 5, Pitch: 8},
			{Kind: venue.ShapeStanding, Name: "Pit", X: 50, Y: 650, W: 150, H: 100, Capacity: 300},
		},
	}
}

// A design draws a whole, valid seat map: the seats, rows, sections and
// places the shapes say, stored and exported as they were drawn.
func TestDesignDrawsASeatMap(t *testing.T) {
	t.Parallel()
	m, err := design().SeatMap()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(); err != nil {
		t.Fatalf("the drawn map does not pass its own checks: %v", err)
	}
	var names []string
	for _, s := range m.Sections {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "Stalls,Circle,Block 1,Block 2,Block 3,Block 4,Pit" {
		t.Errorf("sections %s", got)
	}
	if m.Seats() != 12+10+40 || m.Capacity() != 62+300 {
		t.Errorf("%d seats, %d places", m.Seats(), m.Capacity())
	}
	stalls, circle := m.Sections[0], m.Sections[1]
	if stalls.Rows[2].Label != "C" || circle.Rows[1].Label != "2" || len(stalls.Rows[0].Seats) != 4 {
		t.Errorf("row labels %q, %q", stalls.Rows[2].Label, circle.Rows[1].Label)
	}
	// A curved row's ends come closer to the stage (above) than its middle.
	row := circle.Rows[0].Seats
	if !(row[0].Y < row[2].Y && row[4].Y < row[2].Y) {
		t.Errorf("the curved row does not bend: %v", row)
	}
	pool := dbtest.New(t)
	id, err := venue.NewService(pool, time.Now).Create(context.Background(), admin, m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := venue.NewService(pool, time.Now).SeatMap(context.Background(), admin, id)
	if err != nil || back.Seats() != m.Seats() || back.Sections[6].Kind != venue.Standing {
		t.Errorf("stored and read back: %v", err)
	}
}

// A shape that makes no sense is named in the answer; one off the map is
// found by the map's own checks.
func TestDesignProblems(t *testing.T) {
	t.Parallel()
	d := design()
	d.Shapes[0].Rows = 0
	d.Shapes[2].Count = 0
	d.Shapes[3].Capacity = 0
	_, err := d.SeatMap()
	for _, want := range []string{`Shape 1 (block "Stalls"): give it between 1 and 200 rows`, `Shape 3 (bowl "Block"): a bowl has between 1`, `Shape 4 (standing "Pit"): give its capacity`} {
		if err == nil || !strings.Contains(strings.Join(problems(err), "\n"), want) {
			t.Errorf("problems %q lack %q", problems(err), want)
		}
	}
	d = design()
	d.Shapes[0].X = 990
	m, err := d.SeatMap()
	if err == nil {
		err = m.Check()
	}
	if !strings.Contains(strings.Join(problems(err), "\n"), `Section 1 ("Stalls"), row "A", seat 2 is at (1005, 155), outside the map`) {
		t.Errorf("a block off the map: %q", problems(err))
	}
}

// A design too big to draw is refused before it is drawn.
func TestDesignTooBig(t *testing.T) {
	t.Parallel()
	d := design()
	d.Shapes[2].Count, d.Shapes[2].Rows, d.Shapes[2].Seats = 200, 200, 500
	if _, err := d.SeatMap(); !strings.Contains(strings.Join(problems(err), "\n"), "The design has 20000022 seats: at most 200000") {
		t.Errorf("20 million seats: %v", problems(err))
	}
	d = design()
	d.Shapes[0].Rows, d.Shapes[0].Seats = 1<<40, 1<<40
	if _, err := d.SeatMap(); err == nil {
		t.Error("rows and seats of 2^40 each were drawn")
	}
}
