package venue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var admin = venue.Actor{Admin: true}

// schema is the seat-map file's JSON Schema, as the repository ships it.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	f, err := os.Open("seatmap.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("seatmap.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("seatmap.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(doc)
}

// Every demo venue exports to a file the schema accepts, and imports
// again to the very same map.
func TestDemoVenuesRoundTrip(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	if _, _, err := seed.Demo(ctx, pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	venues := venue.NewService(pool, time.Now)
	all, err := venues.List(ctx, admin)
	if err != nil || len(all) < 5 {
		t.Fatalf("demo venues: %d, %v", len(all), err)
	}
	sch := schema(t)
	for _, v := range all {
		m, err := venues.SeatMap(ctx, admin, v.ID)
		if err != nil {
			t.Fatalf("export %s: %v", v.Name, err)
		}
		if m.Capacity() != v.Capacity {
			t.Errorf("%s: the map holds %d places, the venue says %d", v.Name, m.Capacity(), v.Capacity)
		}
		file, _ := json.Marshal(m)
		if err := validate(t, sch, file); err != nil {
			t.Errorf("%s's export does not follow the schema: %v", v.Name, err)
		}
		back, err := venue.Parse(file)
		if err != nil {
			t.Fatalf("%s's export does not import: %v", v.Name, err)
		}
		back.Venue.Name += " (copy)"
		id, err := venues.Create(ctx, admin, back)
		if err != nil {
			t.Fatalf("import %s: %v", v.Name, err)
		}
		again, err := venues.SeatMap(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		again.Venue.Name = m.Venue.Name
		second, _ := json.Marshal(again)
		if !bytes.Equal(file, second) {
			i := 0
			for i < len(file) && i < len(second) && file[i] == second[i] {
				i++
			}
			t.Errorf("%s: exported, imported and exported again, the map changed at byte %d: %.80s, then %.80s", v.Name, i, file[max(i-40, 0):], second[max(i-40, 0):])
		}
	}
}

// The example in the repository follows the schema, imports, and keeps
// its standing area and its accessible and restricted-view seats.
func TestExampleSeatMap(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("example.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, schema(t), data); err != nil {
		t.Fatalf("example.json does not follow the schema: %v", err)
	}
	m, err := venue.Parse(data)
	if err != nil {
		t.Fatalf("example.json: %v", err)
	}
	pool := dbtest.New(t)
	venues := venue.NewService(pool, time.Now)
	id, err := venues.Create(context.Background(), venue.Actor{UserID: dbtest.User(t, pool)}, m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := venues.SeatMap(context.Background(), admin, id)
	if err != nil {
		t.Fatal(err)
	}
	floor, balcony := back.Sections[0], back.Sections[1]
	if floor.Kind != venue.Standing || floor.Capacity != 250 || back.Capacity() != 258 {
		t.Errorf("the standing floor came back as %+v, capacity %d", floor, back.Capacity())
	}
	if !balcony.Rows[0].Seats[0].Accessible || !balcony.Rows[1].Seats[0].RestrictedView || balcony.Rows[0].Seats[1].Accessible {
		t.Errorf("seat flags lost: %+v", balcony.Rows)
	}
	var venueID int64
	dbtest.QueryRow(t, pool, `SELECT venue_id FROM audit_log WHERE action = 'venue.create'`).Scan(&venueID)
	if venueID != id {
		t.Errorf("audit log names venue %d, want %d", venueID, id)
	}
}

// A bad file is refused with every problem and where it is; nothing of
// it is stored.
func TestBadSeatMaps(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("example.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, from, to string
		want           string // in the problems
	}{
		{"not JSON", `{`, `{{`, "not valid JSON"},
		{"unknown field", `"width": 400`, `"widht": 400, "width": 400`, `unknown field "widht"`},
		{"a seat off the map", `"x": 170, "y": 250`, `"x": 470, "y": 250`, `Section 2 ("Balcony"), row "B", seat 4 is at (470, 250), outside the map`},
		{"a seat twice", `{ "number": 3, "x": 150, "y": 220 }`, `{ "number": 2, "x": 150, "y": 220 }`, `Section 2 ("Balcony"), row "A", seat 2 is listed twice`},
		{"two seats in one place", `{ "number": 3, "x": 150, "y": 220 }`, `{ "number": 3, "x": 130, "y": 220 }`, `seat 3 is at the same place as row "A" seat 2`},
		{"standing without capacity", `"capacity": 250`, `"capacity": 0`, `Section 1 ("Floor") is standing: give its capacity`},
		{"a country name", `"country": "GB"`, `"country": "United Kingdom"`, `venue.country is "United Kingdom"`},
		{"a time zone", `"Europe/London"`, `"GMT+1"`, `venue.timezone "GMT+1" is not a time zone`},
		{"a section twice", `"name": "Balcony"`, `"name": "Floor"`, `Section 2 ("Floor") has the same name as section 1`},
		{"a number as text", `"number": 4, "x": 170, "y": 220`, `"number": "4", "x": 170, "y": 220`, `"sections.rows.seats.number" should be a number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := strings.Replace(string(good), c.from, c.to, 1)
			if data == string(good) {
				t.Fatalf("%q is not in the example", c.from)
			}
			_, err := venue.Parse([]byte(data))
			var e *app.Error
			if !errors.As(err, &e) || e.Code != app.EINVALID || e.Reason != "invalid_seatmap" {
				t.Fatalf("Parse: %v, want invalid_seatmap", err)
			}
			problems, _ := e.Detail["problems"].([]string)
			if !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Errorf("problems %q lack %q", problems, c.want)
			}
		})
	}
}

// problems lists an invalid_seatmap error's problems.
func problems(err error) []string {
	var e *app.Error
	if !errors.As(err, &e) {
		return nil
	}
	p, _ := e.Detail["problems"].([]string)
	return p
}
